// Real sockets on a shared 2-core machine: run the classes one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
