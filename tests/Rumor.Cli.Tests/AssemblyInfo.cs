// Child processes and real sockets: one test at a time keeps timings honest on a two-core machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
