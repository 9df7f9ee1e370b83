// Real sockets and real time: run one test at a time, so timings hold on a busy two-core machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
