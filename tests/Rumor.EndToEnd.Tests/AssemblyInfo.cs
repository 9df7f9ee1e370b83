// Three agent processes per cluster and the CLI as more processes: one test at a time keeps the
// failure detector's timings honest on a small machine (a starved agent may be suspected wrongly).
[assembly: CollectionBehavior(DisableTestParallelization = true)]
