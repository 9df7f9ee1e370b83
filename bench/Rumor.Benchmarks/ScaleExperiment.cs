using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Rumor.Core;
using Rumor.Simulation;

namespace Rumor.Benchmarks;

/// <summary>
/// The cost of simulating the full protocol at scale (issue 17): N real <see cref="GossipNode"/>s
/// (probes, gossip, push-pull, state gossip; <c>--keys</c> state keys written per node after the join)
/// joined in a <see cref="SimCluster"/>, then run steady. Usage:
/// <c>scale [--nodes 1000,2000] [--steady 30s] [--keys 1] [--seed 1] [--drain-queues] [--alloc-types]</c>.
/// <para>
/// Per N it reports the join phase (virtual time until every node agrees, wall time, bytes
/// allocated) and the steady phase (virtual seconds simulated per wall second, bytes allocated per
/// virtual second, agenda events), the retained managed heap after a full collection divided by
/// N² member records (every node holds every member: the figure is an upper bound of one record,
/// charging each node's fixed cost and the simulator's tables to its N records; measured after the
/// join and 20 s of drain, and again at the end of the steady phase, where what grows with time
/// shows: probe histories, network coordinates), beside each the messages still waiting in the
/// nodes' broadcast queues (mean per node: a join queues an Alive per member on every node, and
/// until they are sent they count in the retained heap, though they are not member records), and
/// the process's
/// peak working set (run one N per process for a clean peak: sizes run in the order given). Wall
/// times depend on the machine's load; byte counts do not.
/// </para>
/// </summary>
public static class ScaleExperiment
{
    public static Command Create()
    {
        Option<int[]> nodes = BenchOptions.Ints("--nodes", "Cluster sizes, run in this order in one process", [1000, 2000]);
        Option<TimeSpan?> steady = BenchOptions.Duration("--steady", "Virtual time measured after the join and 20 s of drain (default 30s).");
        Option<int> keys = BenchOptions.Int("--keys", "State keys each node writes after the join (0: state gossip runs with empty maps).", 1);
        Option<ulong> seed = BenchOptions.Seed();
        Option<bool> allocTypes = new("--alloc-types") { Description = "Also print which types the join and the steady phase allocate (the runtime's allocation-tick samples)." };
        Option<bool> drainQueues = new("--drain-queues") { Description = "Before the steady phase, run on until every node's broadcast queue is empty (at most 600 virtual s), so the steady figure is not the backlog of the join's Alives; the drain's virtual and wall time are printed." };
        Option<TimeSpan?> hold = BenchOptions.Duration("--hold", "After the steady phase's heap measurement, keep the cluster alive this long (wall time, at most 10 min) and say so on standard error with the process id, so a heap dump (dotnet-dump collect -p PID) sees exactly what was measured.");
        Option<string[]> without = new("--without")
        {
            Description = "Parts to switch off, to show what each costs alone (comma-separated): coordinates (NetworkCoordinates = false: no coordinate row per probed member, no coordinate in acks) and probe-history (ProbeHistoryMax = 0: no probe records per member).",
            AllowMultipleArgumentsPerToken = true,
            CustomParser = r => [.. r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
        };
        Command command = new("scale", "The simulator's cost at scale: virtual seconds per wall second, bytes per member record, peak RSS; join and steady phases.")
        {
            nodes, steady, keys, seed, allocTypes, drainQueues, hold, without,
        };
        command.SetAction(parsed => Run(parsed.GetValue(nodes)!, parsed.GetValue(steady) ?? TimeSpan.FromSeconds(30), parsed.GetValue(keys), parsed.GetValue(seed), parsed.GetValue(allocTypes), parsed.GetValue(drainQueues), parsed.GetValue(hold), parsed.GetValue(without) ?? []));
        return command;
    }

    private static int Run(int[] sizes, TimeSpan steady, int keys, ulong seed, bool allocTypes, bool drainQueues, TimeSpan? hold, string[] without)
    {
        if (hold is { } h && (h <= TimeSpan.Zero || h > TimeSpan.FromMinutes(10)))
        {
            Console.Error.WriteLine("--hold: give a duration above 0 and at most 10m (e.g. 60s).");
            return 2;
        }

        GossipOptions gossip = GossipOptions.Lan;
        foreach (string part in without)
        {
            switch (part)
            {
                case "coordinates":
                    gossip = gossip with { NetworkCoordinates = false };
                    break;
                case "probe-history":
                    gossip = gossip with { ProbeHistoryMax = 0 };
                    break;
                default:
                    Console.Error.WriteLine($"--without: '{part}' is not a part (coordinates, probe-history).");
                    return 2;
            }
        }

        using AllocationSampler? sampler = allocTypes ? new AllocationSampler() : null;
        string drain = drainQueues ? " and a drain of the broadcast queues" : string.Empty;
        string off = without.Length == 0 ? string.Empty : " without " + string.Join(" and ", without.Distinct());
        Console.WriteLine($"# Full protocol at scale, seed {seed}; LAN preset{off}, {keys} state key(s) per node, {DurationText.Format(steady)} steady after the join, 20 s of drain{drain}");
        Console.WriteLine("| N | join: virtual | join: wall | join: allocated | steady: virtual s / wall s | steady: allocated / virtual s | steady: events / virtual s | retained heap | bytes / member record | broadcasts queued per node | after steady: bytes / member record | after steady: broadcasts queued per node | peak working set |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (int n in sizes)
        {
            ScaleRow row = Measure(n, steady, keys, seed, sampler, drainQueues, hold, gossip);
            if (row.QueueDrainVirtual is TimeSpan drainVirtual)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# N = {n:N0}: broadcast queues empty after {drainVirtual.TotalSeconds:0} more virtual s ({row.QueueDrainWall.TotalSeconds:0.0} s wall){(row.QueuedBeforeSteady > 0 ? $"; still {row.QueuedBeforeSteady:0.0} per node at the 600 s bound" : string.Empty)}"));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {n:N0} | {row.JoinVirtual.TotalSeconds:0} s | {row.JoinWall.TotalSeconds:0.0} s | {Mib(row.JoinAllocated)} | {row.SteadyVirtual.TotalSeconds / row.SteadyWall.TotalSeconds:0.00} | {Mib(row.SteadyAllocated / row.SteadyVirtual.TotalSeconds)} | {row.SteadyEvents / row.SteadyVirtual.TotalSeconds:N0} | {Mib(row.RetainedBytes)} | {row.RetainedBytes / ((double)n * n):0} | {row.QueuedPerNode:0} | {row.RetainedAfterSteady / ((double)n * n):0} | {row.QueuedPerNodeAfterSteady:0} | {Mib(row.PeakWorkingSet)} |"));
        }

        return 0;
    }

    /// <summary>
    /// A phase's figures to standard error as soon as they are known (with the peak working set so far),
    /// so that a run stopped before its table (an N = 10,000 run takes hours) still leaves them.
    /// </summary>
    private static void Progress(int n, FormattableString what) =>
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# N = {n:N0}: {FormattableString.Invariant(what)}; peak working set so far {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:N1} MiB ({DateTime.UtcNow:HH:mm:ss} UTC)"));

    /// <summary>One N: join, drain, measure the heap, run steady.</summary>
    public static ScaleRow Measure(int n, TimeSpan steady, int keys, ulong seed, AllocationSampler? sampler = null, bool drainQueues = false, TimeSpan? hold = null, GossipOptions? gossip = null)
    {
        sampler?.Take();
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        Stopwatch wall = Stopwatch.StartNew();
        SimCluster cluster = new(new SimulationOptions { Seed = seed, Gossip = gossip ?? GossipOptions.Lan, Network = new NetworkOptions(), TraceRecent = 0 });
        cluster.Checkers.TrackIncarnations = false;
        cluster.AddNodes(n);
        cluster.StartAll(TimeSpan.FromMilliseconds(2));
        TimeSpan? joined = cluster.RunUntil(cluster.MembershipAgrees, TimeSpan.FromSeconds(600), TimeSpan.FromSeconds(1));
        if (joined is null)
        {
            throw new InvalidOperationException($"{n} nodes did not agree within 600 s of virtual time (seed {seed}).");
        }

        TimeSpan joinWall = wall.Elapsed;
        long joinAllocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Progress(n, $"joined after {joined.Value.TotalSeconds:0} virtual s, {joinWall.TotalSeconds:0.0} s wall, {joinAllocated / 1048576.0:N1} MiB allocated");
        if (sampler is not null)
        {
            AllocationSampler.Print(string.Create(CultureInfo.InvariantCulture, $"N = {n:N0}, join"), sampler.Take());
        }

        // Keys per node, so the state gossip has owners to digest (as a real cluster's tags and config).
        allocated = GC.GetAllocatedBytesForCurrentThread();
        wall.Restart();
        foreach (SimNode node in cluster.Nodes)
        {
            for (int k = 0; k < keys; k++)
            {
                string key = k == 0 ? "scale/" + node.Name : string.Create(CultureInfo.InvariantCulture, $"scale/{node.Name}/{k}");
                node.Command((g, now) => g.SetValue(key, Encoding.UTF8.GetBytes(node.Name), now));
            }
        }

        cluster.RunFor(TimeSpan.FromSeconds(20));
        TimeSpan afterJoinWall = wall.Elapsed;
        long afterJoinAllocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        if (sampler is not null)
        {
            AllocationSampler.Print(string.Create(CultureInfo.InvariantCulture, $"N = {n:N0}, the keys' writes and 20 s of drain"), sampler.Take());
        }

        long retained = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
        double queued = QueuedPerNode(cluster);
        Progress(n, $"after 20 s of drain ({afterJoinWall.TotalSeconds:0.0} s wall, {afterJoinAllocated / 1048576.0:N1} MiB allocated): retained heap {retained / 1048576.0:N1} MiB, {retained / ((double)n * n):0} bytes per member record, {queued:0} broadcasts queued per node");
        TimeSpan? drainVirtual = null;
        TimeSpan drainWall = TimeSpan.Zero;
        if (drainQueues)
        {
            TimeSpan start = cluster.Now;
            wall.Restart();
            cluster.RunUntil(() => QueuedPerNode(cluster) == 0, TimeSpan.FromSeconds(600), TimeSpan.FromSeconds(1));
            drainVirtual = cluster.Now - start;
            drainWall = wall.Elapsed;
            Progress(n, $"queues drained after {drainVirtual.Value.TotalSeconds:0} more virtual s, {drainWall.TotalSeconds:0.0} s wall");
        }

        double queuedBeforeSteady = QueuedPerNode(cluster);
        sampler?.Take();
        allocated = GC.GetAllocatedBytesForCurrentThread();
        long events = cluster.EventsProcessed;
        wall.Restart();
        cluster.RunFor(steady);
        TimeSpan steadyWall = wall.Elapsed;
        long steadyAllocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        long steadyEvents = cluster.EventsProcessed - events;
        long peak = Process.GetCurrentProcess().PeakWorkingSet64;
        long retainedAfterSteady = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
        double queuedAfterSteady = QueuedPerNode(cluster);
        if (sampler is not null)
        {
            AllocationSampler.Print(string.Create(CultureInfo.InvariantCulture, $"N = {n:N0}, steady"), sampler.Take());
        }

        if (hold is { } holdFor)
        {
            Progress(n, $"after steady: retained heap {Mib(retainedAfterSteady)}; holding the cluster {holdFor.TotalSeconds:0} s for a heap dump of process {Environment.ProcessId}");
            Thread.Sleep(holdFor);
        }

        GC.KeepAlive(cluster);
        return new ScaleRow(n, joined.Value, joinWall, joinAllocated, steady, steadyWall, steadyAllocated, steadyEvents, retained, retainedAfterSteady, peak, queued, queuedAfterSteady)
        {
            QueueDrainVirtual = drainVirtual,
            QueueDrainWall = drainWall,
            QueuedBeforeSteady = queuedBeforeSteady,
        };
    }

    /// <summary>
    /// Messages waiting in the nodes' broadcast queues, mean per node: a join queues an Alive per
    /// member on every node, and what is still queued when the heap is measured counts in the
    /// retained heap (so in the bytes per record) without being a member record.
    /// </summary>
    private static double QueuedPerNode(SimCluster cluster)
    {
        long queued = 0;
        foreach (SimNode node in cluster.Nodes)
        {
            queued += node.Node?.PendingBroadcasts ?? 0;
        }

        return cluster.Nodes.Count == 0 ? 0 : (double)queued / cluster.Nodes.Count;
    }

    private static string Mib(double bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MiB");
}

/// <summary>One row of <see cref="ScaleExperiment"/>.</summary>
public sealed record ScaleRow(
    int Nodes,
    TimeSpan JoinVirtual,
    TimeSpan JoinWall,
    long JoinAllocated,
    TimeSpan SteadyVirtual,
    TimeSpan SteadyWall,
    long SteadyAllocated,
    long SteadyEvents,
    long RetainedBytes,
    long RetainedAfterSteady,
    long PeakWorkingSet,
    double QueuedPerNode,
    double QueuedPerNodeAfterSteady)
{
    /// <summary>With <c>--drain-queues</c>: virtual time after the 20 s drain until every broadcast queue was empty (null without it).</summary>
    public TimeSpan? QueueDrainVirtual { get; init; }

    /// <summary>Wall time of that drain.</summary>
    public TimeSpan QueueDrainWall { get; init; }

    /// <summary>Broadcasts queued per node when the steady phase began.</summary>
    public double QueuedBeforeSteady { get; init; }
}
