using Rumor.Core;
using Rumor.Core.Randomness;

namespace Rumor.Simulation.Vopr;

/// <summary>Kinds of faults a VOPR scenario injects.</summary>
public enum VoprFaultKind
{
    /// <summary>A group is cut off from the rest both ways (datagrams and streams).</summary>
    Partition,

    /// <summary>Datagrams from one node to another are dropped, only that way (streams still work).</summary>
    OneWayBlock,

    /// <summary>A node crashes and restarts at the end of the fault, with or without its persisted identity.</summary>
    CrashRestart,

    /// <summary>A node's process stalls: inputs freeze it for up to seconds at a time.</summary>
    Stall,

    /// <summary>Up to a third of the nodes crash at once and all restart together.</summary>
    MassRestart,

    /// <summary>A node leaves gracefully and does not come back.</summary>
    Leave,
}

/// <summary>One fault of a scenario: when, how long, what, and whom (node indices, never the first seed for crashes).</summary>
public sealed record VoprFault(TimeSpan At, TimeSpan Duration, VoprFaultKind Kind, int[] Nodes, bool PersistIdentity)
{
    /// <summary>When the fault is over.</summary>
    public TimeSpan End => At + Duration;

    /// <inheritdoc />
    public override string ToString() =>
        $"{At.TotalSeconds:0.0}s +{Duration.TotalSeconds:0.0}s {Kind} [{string.Join(",", Nodes.Take(8))}{(Nodes.Length > 8 ? ",…" : "")}]{(Kind is VoprFaultKind.CrashRestart or VoprFaultKind.MassRestart ? PersistIdentity ? " persisted" : " fresh" : "")}";
}

/// <summary>
/// One workload operation, on node <paramref name="Node"/> at <paramref name="At"/>;
/// <paramref name="Duration"/> is the time to live of <see cref="VoprOperationKind.SetWithTtl"/> and
/// the timeout of <see cref="VoprOperationKind.Query"/> (zero otherwise). For
/// <see cref="VoprOperationKind.Join"/>, <paramref name="Node"/> is the index the new node gets.
/// </summary>
public sealed record VoprOperation(TimeSpan At, int Node, VoprOperationKind Kind, string Key, TimeSpan Duration = default)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{At.TotalSeconds:0.0}s {Kind} {Key}@{Node}{(Duration > TimeSpan.Zero ? $" {Duration.TotalSeconds:0.0}s" : "")}";
}

/// <summary>
/// The aggregate a scenario runs after the heal: every live node but one in <paramref name="SkipEvery"/>
/// sets a number under the key, then the live node at <paramref name="Initiator"/> (modulo the live
/// count) starts it for <paramref name="Function"/>. <paramref name="ValueSeed"/> picks the numbers.
/// </summary>
public sealed record VoprAggregatePlan(AggregateFunction Function, int Initiator, int SkipEvery, ulong ValueSeed);

/// <summary>Kinds of workload operations.</summary>
public enum VoprOperationKind
{
    /// <summary>Sets a key (the value names the operation, so every write is distinct).</summary>
    Set,

    /// <summary>Deletes a key the node set before (a tombstone).</summary>
    Delete,

    /// <summary>Broadcasts a user event.</summary>
    Event,

    /// <summary>Broadcasts a coalescing user event (a later one of the same name within EventCoalesceWindow supersedes it; the last is checked).</summary>
    CoalescedEvent,

    /// <summary>Sets a key with a time to live (the operation's Duration): the owner deletes it when it expires.</summary>
    SetWithTtl,

    /// <summary>Asks a query of every member (timeout: the operation's Duration); every member answers with its name.</summary>
    Query,

    /// <summary>A new node (index: the operation's Node) starts and joins through the seeds.</summary>
    Join,
}

/// <summary>
/// Everything one VOPR seed decides, drawn from its own generator in a fixed order, so a seed is a
/// complete description of a run: the cluster size, the options (a preset with random valid
/// perturbations), the network, the faults and the workload. Nothing here runs; see
/// <see cref="VoprRun"/>.
/// </summary>
public sealed class VoprScenario
{
    /// <summary>The largest cluster a scenario draws.</summary>
    public const int NodesMax = 300;

    /// <summary>The window in which faults start (after the initial join).</summary>
    public static readonly TimeSpan FaultWindow = TimeSpan.FromSeconds(90);

    private VoprScenario(ulong seed)
    {
        Seed = seed;
    }

    /// <summary>The seed.</summary>
    public ulong Seed { get; }

    /// <summary>Cluster size, 3 to <see cref="NodesMax"/>, weighted toward small clusters.</summary>
    public int NodeCount { get; private init; }

    /// <summary>The preset the options started from.</summary>
    public string Preset { get; private init; } = "lan";

    /// <summary>Options of every node (name, address, seeds and generation are filled in per node).</summary>
    public GossipOptions Options { get; private init; } = GossipOptions.Lan;

    /// <summary>Options perturbations that failed validation and were undone (the preset's value kept).</summary>
    public int PerturbationsRejected { get; private init; }

    /// <summary>The network during the fault phase.</summary>
    public NetworkOptions Network { get; private init; } = new();

    /// <summary>The faults, in time order, relative to the end of the initial join.</summary>
    public IReadOnlyList<VoprFault> Faults { get; private init; } = [];

    /// <summary>The workload, in time order, relative to the end of the initial join.</summary>
    public IReadOnlyList<VoprOperation> Workload { get; private init; } = [];

    /// <summary>New nodes that join during the fault window (their Join operations are in <see cref="Workload"/>).</summary>
    public int Joiners { get; private init; }

    /// <summary>Nodes in the run: the first ones and the joiners.</summary>
    public int NodesTotal => NodeCount + Joiners;

    /// <summary>Queries asked after the heal, once membership agrees (each by a drawn live node).</summary>
    public int QueriesAfterHeal { get; private init; }

    /// <summary>The aggregate run after the heal, if any.</summary>
    public VoprAggregatePlan? Aggregate { get; private init; }

    /// <summary>When every fault is over (relative to the end of the join).</summary>
    public TimeSpan HealedBy => Faults.Count == 0 ? TimeSpan.Zero : Faults.Max(f => f.End);

    /// <summary>Draws the scenario of <paramref name="seed"/>.</summary>
    public static VoprScenario Generate(ulong seed)
    {
        Xoshiro256StarStar random = new(seed ^ 0x564F5052_00000000UL); // "VOPR": not the cluster's own stream
        double u = random.NextDouble();
        int nodes = 3 + (int)((NodesMax - 3) * Math.Pow(u, 8)); // median ~3–4 nodes above the minimum, 300 rare
        string preset = random.NextInt(4) == 0 ? "local" : "lan";
        (GossipOptions options, int rejected) = Perturb(GossipOptions.Preset(preset), random);

        NetworkOptions network = new()
        {
            LossProbability = random.NextInt(3) == 0 ? 0 : 0.20 * random.NextDouble(),
            Latency = TimeSpan.FromMilliseconds(0.1 + (random.NextDouble() * 20)),
            Jitter = TimeSpan.FromMilliseconds(random.NextDouble() * 10),
            DuplicateProbability = random.NextInt(2) == 0 ? 0 : 0.05 * random.NextDouble(),
            ReorderProbability = random.NextInt(2) == 0 ? 0 : 0.10 * random.NextDouble(),
            ReorderDelayMax = TimeSpan.FromMilliseconds(1 + (random.NextDouble() * 50)),
        };

        List<VoprFault> faults = [];
        int faultCount = random.NextInt(5);
        TimeSpan partitionFreeAt = TimeSpan.Zero;
        for (int i = 0; i < faultCount; i++)
        {
            TimeSpan at = random.NextDuration(FaultWindow);
            TimeSpan duration = TimeSpan.FromSeconds(2 + random.NextInt(40));
            VoprFaultKind kind = (VoprFaultKind)random.NextInt(6);
            if (kind == VoprFaultKind.Partition && at < partitionFreeAt)
            {
                kind = VoprFaultKind.CrashRestart; // one partition at a time
            }

            bool persist = random.NextInt(2) == 0;
            int[] who = kind switch
            {
                VoprFaultKind.Partition => Pick(random, nodes, 1 + random.NextInt(Math.Max(1, nodes / 2)), fromIndex: 0),
                VoprFaultKind.OneWayBlock => Pick(random, nodes, 2, fromIndex: 0),
                VoprFaultKind.MassRestart => Pick(random, nodes - 1, 1 + random.NextInt(Math.Max(1, nodes / 3)), fromIndex: 1),
                _ => Pick(random, nodes - 1, 1, fromIndex: 1),
            };
            if (kind == VoprFaultKind.Partition)
            {
                partitionFreeAt = at + duration;
            }

            faults.Add(new VoprFault(at, duration, kind, who, persist));
        }

        faults.Sort((a, b) => a.At.CompareTo(b.At));
        List<VoprOperation> workload = [];
        int operations = random.NextInt(30);
        for (int i = 0; i < operations; i++)
        {
            TimeSpan at = random.NextDuration(FaultWindow);
            int node = random.NextInt(nodes);
            VoprOperationKind kind = (VoprOperationKind)random.NextInt(4);
            workload.Add(new VoprOperation(at, node, kind, $"k{random.NextInt(8)}"));
        }

        // The workload of issue 11, drawn after everything above so that a seed keeps the cluster,
        // options, network, faults and first operations it drew before these were added.
        int more = random.NextInt(16);
        for (int i = 0; i < more; i++)
        {
            TimeSpan at = random.NextDuration(FaultWindow);
            int node = random.NextInt(nodes);
            string key = $"k{random.NextInt(8)}";
            switch (random.NextInt(4))
            {
                case 0: // a short time to live (expires before the checks) or a long one (outlives them)
                    TimeSpan ttl = random.NextInt(3) == 0 ? TimeSpan.FromHours(1) : TimeSpan.FromMilliseconds(500 + random.NextInt(40_000));
                    workload.Add(new VoprOperation(at, node, VoprOperationKind.SetWithTtl, key, ttl));
                    break;
                case 1:
                    workload.Add(new VoprOperation(at, node, VoprOperationKind.Query, "q" + key, TimeSpan.FromMilliseconds(2_000 + random.NextInt(13_000))));
                    break;
                case 2: // a burst of coalescing events of one name, some inside the coalesce window of the previous
                    int burst = 2 + random.NextInt(3);
                    for (int b = 0; b < burst; b++)
                    {
                        workload.Add(new VoprOperation(at, node, VoprOperationKind.CoalescedEvent, "c" + key));
                        at += TimeSpan.FromMilliseconds(100 + random.NextInt(3_000));
                    }

                    break;
                default:
                    workload.Add(new VoprOperation(at, node, VoprOperationKind.Event, "e" + key));
                    break;
            }
        }

        int joiners = random.NextInt(4) == 0 ? 1 + random.NextInt(3) : 0;
        List<TimeSpan> joinTimes = Enumerable.Range(0, joiners).Select(_ => random.NextDuration(FaultWindow)).Order().ToList();
        for (int j = 0; j < joiners; j++)
        {
            workload.Add(new VoprOperation(joinTimes[j], nodes + j, VoprOperationKind.Join, "join"));
        }

        int queriesAfterHeal = random.NextInt(3);
        VoprAggregatePlan? aggregate = random.NextInt(2) == 0
            ? new VoprAggregatePlan((AggregateFunction)random.NextInt(5), random.NextInt(NodesMax), 2 + random.NextInt(6), random.NextUInt64())
            : null;

        workload = [.. workload.OrderBy(w => w.At)]; // a stable order: the first operations keep theirs
        return new VoprScenario(seed)
        {
            NodeCount = nodes,
            Preset = preset,
            Options = options,
            PerturbationsRejected = rejected,
            Network = network,
            Faults = faults,
            Workload = workload,
            Joiners = joiners,
            QueriesAfterHeal = queriesAfterHeal,
            Aggregate = aggregate,
        };
    }

    /// <summary>A one-paragraph description, for a failing seed's report.</summary>
    public string Describe()
    {
        GossipOptions o = Options;
        return $"seed {Seed}: {NodeCount} nodes, {Preset} ± (probe {o.ProbeInterval.TotalMilliseconds:0} ms/{o.ProbeTimeout.TotalMilliseconds:0} ms, gossip {o.GossipInterval.TotalMilliseconds:0} ms ×{o.GossipFanout}, " +
            $"k={o.IndirectChecks}, suspicion ×{o.SuspicionMultiplier}/{o.SuspicionMaxTimeoutMultiplier}, retransmit ×{o.RetransmitMultiplier}, {o.FailureDetector}, state {o.StateStrategy}/{o.StateDigestMode}, compression ≥{o.CompressionThresholdBytes} B); " +
            $"loss {Network.LossProbability:P1}, latency {Network.Latency.TotalMilliseconds:0.0} ms + {Network.Jitter.TotalMilliseconds:0.0} ms, dup {Network.DuplicateProbability:P1}, reorder {Network.ReorderProbability:P1}; " +
            $"{Faults.Count} faults{(Faults.Count > 0 ? ": " + string.Join("; ", Faults) : "")}; {Workload.Count} operations ({Workload.Count(w => w.Kind == VoprOperationKind.Join)} joins); " +
            $"after heal {QueriesAfterHeal} queries, {(Aggregate is { } a ? $"aggregate {a.Function}" : "no aggregate")}";
    }

    /// <summary>
    /// Random valid perturbations of a preset: each one is kept only if the options still validate,
    /// so every combination a seed can draw is one <see cref="GossipOptions.Validate"/> accepts.
    /// </summary>
    private static (GossipOptions Options, int Rejected) Perturb(GossipOptions preset, IRandomSource random)
    {
        GossipOptions options = preset with { Name = "vopr", AdvertiseAddress = new NodeAddress(0x7F000001u, 7946) };
        int rejected = 0;
        double scale = 0.5 + (1.5 * random.NextDouble());
        Func<GossipOptions, GossipOptions>[] perturbations =
        [
            o => o with { ProbeInterval = o.ProbeInterval * scale, ProbeTimeout = o.ProbeTimeout * scale },
            o => o with { GossipInterval = o.GossipInterval * (0.5 + (1.5 * random.NextDouble())) },
            o => o with { GossipFanout = 2 + random.NextInt(4) },
            o => o with { IndirectChecks = 1 + random.NextInt(5) },
            o => o with { SuspicionMultiplier = 3 + random.NextInt(4) },
            o => o with { RetransmitMultiplier = 2 + random.NextInt(5) },
            o => o with { StateStrategy = (GossipStrategy)random.NextInt(3) },
            o => o with { StateDigestMode = (DigestMode)random.NextInt(3) },
            o => o with { CompressionThresholdBytes = random.NextInt(2) == 0 ? o.CompressionThresholdBytes : 64 + random.NextInt(512) },
            o => o with { FailureDetector = random.NextInt(4) == 0 ? FailureDetectorKind.PhiAccrual : FailureDetectorKind.Swim },
            o => o with { PushPullInterval = TimeSpan.FromSeconds(10 + random.NextInt(30)) },
        ];
        foreach (Func<GossipOptions, GossipOptions> perturb in perturbations)
        {
            bool apply = random.NextInt(2) == 0;
            GossipOptions candidate = perturb(options); // drawn either way: the stream of draws does not depend on the outcome
            if (!apply)
            {
                continue;
            }

            if (candidate.Validate().Count == 0)
            {
                options = candidate;
            }
            else
            {
                rejected++;
            }
        }

        return (options with { Name = "", AdvertiseAddress = default }, rejected);
    }

    private static int[] Pick(IRandomSource random, int count, int size, int fromIndex)
    {
        List<int> all = Enumerable.Range(fromIndex, Math.Max(1, count)).ToList();
        random.Shuffle(all);
        return all.Take(Math.Min(size, all.Count)).OrderBy(i => i).ToArray();
    }
}
