// Real sockets and a real browser on a shared 2-core machine: run the classes one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
