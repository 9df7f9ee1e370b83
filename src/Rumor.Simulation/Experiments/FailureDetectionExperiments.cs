using System.Diagnostics;
using Rumor.Core;
using Rumor.Core.Randomness;

namespace Rumor.Simulation.Experiments;

/// <summary>Which failure detector a row of the experiments runs.</summary>
public enum Detector
{
    /// <summary>SWIM without Lifeguard and without the stall guard (<see cref="FailureDetectionExperiments.PlainSwim"/>).</summary>
    PlainSwim,

    /// <summary>Lifeguard (local health, dynamic suspicion, nacks, stream fallback) with the stall guard off (<see cref="FailureDetectionExperiments.LifeguardOnly"/>).</summary>
    Lifeguard,

    /// <summary>The defaults: Lifeguard plus Rumor's own stall guard (a node that itself stalled accuses no one for a while).</summary>
    LifeguardStallGuard,
}

/// <summary>False dead verdicts under random loss, over a measured window.</summary>
public sealed record FalseDeadResult(int Nodes, double Loss, Detector Detector, TimeSpan Window, long Probes, long ProbesFailed, long Suspicions, long FalseDead, long Refutations, long FallbackAcks, TimeSpan WallTime)
{
    /// <summary>False dead verdicts (observer × member) per million probes.</summary>
    public double FalseDeadPerMillionProbes => Probes == 0 ? 0 : FalseDead * 1e6 / Probes;
}

/// <summary>What one CPU-starved member caused, and how fast real crashes were still detected.</summary>
public sealed record StarvedMemberResult(
    int Nodes,
    Detector Detector,
    TimeSpan Window,
    long Freezes,
    TimeSpan FrozenTime,
    long AccusationsByStarved,
    long SuppressedByStarved,
    long SuspicionsOfHealthy,
    long FalseDeadOfHealthy,
    long DeadVerdictsOfStarved,
    SpreadStatistics FirstSuspicionSeconds,
    SpreadStatistics AllDeadSeconds,
    int Missed,
    TimeSpan WallTime)
{
    /// <summary>The false positives the starved member caused: its accusations of healthy members plus false dead verdicts of healthy members anywhere.</summary>
    public long FalsePositives => AccusationsByStarved + FalseDeadOfHealthy;
}

/// <summary>Detection latency of real crashes, in seconds from the crash.</summary>
public sealed record DetectionLatencyResult(int Nodes, Detector Detector, SpreadStatistics FirstSuspicionSeconds, SpreadStatistics AllDeadSeconds, int Missed, TimeSpan WallTime);

/// <summary>
/// The failure-detection experiments of docs/BENCHMARKS.md, in virtual time with the real
/// protocol code: false dead verdicts under random loss, one CPU-starved member, and detection
/// latency of real crashes; each for plain SWIM (<see cref="PlainSwim"/>) and with Lifeguard
/// (the defaults). A "false" verdict is one about a member whose process is running.
/// </summary>
public static class FailureDetectionExperiments
{
    /// <summary>
    /// SWIM without Lifeguard: no local health, a fixed suspicion timeout (max = min), no nacks,
    /// no stream fallback, no stall guard. (A suspicion still rides to the suspect with our pings:
    /// SWIM gossips suspicions to everyone, the suspect included.)
    /// </summary>
    public static GossipOptions PlainSwim(GossipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with
        {
            AwarenessMaxMultiplier = 1,
            SuspicionMaxTimeoutMultiplier = 1,
            IndirectProbeNacks = false,
            StreamFallbackProbe = false,
            StallGuard = TimeSpan.Zero,
            StallThreshold = TimeSpan.Zero,
        };
    }

    /// <summary>Lifeguard as published (local health, dynamic suspicion, nacks, plus the stream fallback) without Rumor's stall guard and stall self-detection.</summary>
    public static GossipOptions LifeguardOnly(GossipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with { StallGuard = TimeSpan.Zero, StallThreshold = TimeSpan.Zero };
    }

    /// <summary>The readable name of a row's detector.</summary>
    public static string Name(Detector detector) => detector switch
    {
        Detector.PlainSwim => "plain SWIM",
        Detector.Lifeguard => "Lifeguard alone",
        Detector.LifeguardStallGuard => "Lifeguard + stall guard",
        _ => throw new ArgumentOutOfRangeException(nameof(detector)),
    };

    private static GossipOptions Options(Detector detector, int nodes)
    {
        // Verdict records and probe histories are diagnostics; keep them small at scale.
        GossipOptions options = GossipOptions.Lan with { VerdictsMax = 16, ProbeHistoryMax = nodes > 200 ? 0 : 8 };
        return detector switch
        {
            Detector.PlainSwim => PlainSwim(options),
            Detector.Lifeguard => LifeguardOnly(options),
            Detector.LifeguardStallGuard => options,
            _ => throw new ArgumentOutOfRangeException(nameof(detector)),
        };
    }

    private static SimCluster Converged(int nodes, Detector detector, ulong seed, NetworkOptions network)
    {
        SimCluster cluster = new(new SimulationOptions { Seed = seed, Gossip = Options(detector, nodes), Network = network });
        cluster.Checkers.TrackIncarnations = nodes <= 200;
        cluster.AddNodes(nodes);
        cluster.StartAll(TimeSpan.FromMilliseconds(nodes > 200 ? 2 : 10));
        TimeSpan bound = TimeSpan.FromSeconds(nodes > 200 ? 600 : 120);
        if (cluster.RunUntil(cluster.MembershipAgrees, bound, TimeSpan.FromSeconds(1)) is null)
        {
            cluster.MembershipAgrees(out string differences);
            throw new InvalidOperationException($"seed {seed}: {nodes} nodes did not converge within {bound.TotalSeconds} s: {differences}");
        }

        return cluster;
    }

    /// <summary>Joins without loss, then runs <paramref name="window"/> at <paramref name="loss"/> and counts false dead verdicts.</summary>
    public static FalseDeadResult FalseDeadUnderLoss(int nodes, double loss, TimeSpan window, Detector detector, ulong seed)
    {
        Stopwatch wall = Stopwatch.StartNew();
        SimCluster cluster = Converged(nodes, detector, seed, new NetworkOptions());
        long suspicions = 0;
        long falseDead = 0;
        cluster.Observe((observer, e) =>
        {
            if (e is MemberChanged change && IsUp(cluster, change.Member.Name))
            {
                suspicions += change.Kind == MemberChangeKind.Suspected ? 1 : 0;
                falseDead += change.Kind == MemberChangeKind.Failed ? 1 : 0;
            }
        });
        (long probes0, long failed0, long refutations0, long fallback0) = Totals(cluster);
        cluster.Network.Options = cluster.Network.Options with { LossProbability = loss };
        cluster.RunFor(window);
        (long probes, long failed, long refutations, long fallback) = Totals(cluster);
        return new FalseDeadResult(nodes, loss, detector, window, probes - probes0, failed - failed0, suspicions, falseDead, refutations - refutations0, fallback - fallback0, wall.Elapsed);
    }

    /// <summary>
    /// One member (index 1) is CPU-starved per <paramref name="model"/> for <paramref name="window"/>;
    /// then, still starved, <paramref name="crashes"/> other members crash one by one, 60 s apart.
    /// </summary>
    public static StarvedMemberResult StarvedMember(int nodes, TimeSpan window, Detector detector, ulong seed, InputDelayModel model, int crashes)
    {
        ArgumentNullException.ThrowIfNull(model);
        Stopwatch wall = Stopwatch.StartNew();
        SimCluster cluster = Converged(nodes, detector, seed, new NetworkOptions());
        SimNode starved = cluster.Nodes[1];
        long suspicionsOfHealthy = 0;
        long falseDeadOfHealthy = 0;
        long deadOfStarved = 0;
        cluster.Observe((observer, e) =>
        {
            if (e is not MemberChanged change || !IsUp(cluster, change.Member.Name))
            {
                return;
            }

            if (change.Member.Name == starved.Name)
            {
                deadOfStarved += change.Kind == MemberChangeKind.Failed ? 1 : 0;
            }
            else
            {
                suspicionsOfHealthy += change.Kind == MemberChangeKind.Suspected ? 1 : 0;
                falseDeadOfHealthy += change.Kind == MemberChangeKind.Failed ? 1 : 0;
            }
        });
        starved.Starve(model);
        cluster.RunFor(window);

        // Everything the starved node accused so far was healthy (nothing had crashed yet).
        long accusations = starved.LiveNode.Counters.AccusationsMade;
        long suppressed = starved.LiveNode.Counters.AccusationsSuppressed;
        long suspicions = suspicionsOfHealthy;
        long falseDead = falseDeadOfHealthy;
        long starvedDead = deadOfStarved;
        (List<double> first, List<double> all, int missed) = CrashOneByOne(cluster, crashes, seed, exclude: 1);
        return new StarvedMemberResult(
            nodes,
            detector,
            window,
            starved.Freezes,
            starved.FrozenTime,
            accusations,
            suppressed,
            suspicions,
            falseDead,
            starvedDead,
            SpreadStatistics.Of(first),
            SpreadStatistics.Of(all),
            missed,
            wall.Elapsed);
    }

    /// <summary>Crashes <paramref name="crashes"/> members one by one and measures first suspicion and cluster-wide dead.</summary>
    public static DetectionLatencyResult DetectionLatency(int nodes, int crashes, Detector detector, ulong seed)
    {
        Stopwatch wall = Stopwatch.StartNew();
        SimCluster cluster = Converged(nodes, detector, seed, new NetworkOptions());
        (List<double> first, List<double> all, int missed) = CrashOneByOne(cluster, crashes, seed, exclude: -1);
        return new DetectionLatencyResult(nodes, detector, SpreadStatistics.Of(first), SpreadStatistics.Of(all), missed, wall.Elapsed);
    }

    /// <summary>
    /// Crashes random members (never the first seed or <paramref name="exclude"/>), one at a time:
    /// 5 s plus a random part of a probe interval after the views agree (so that crashes do not
    /// line up with probe rounds), then waits until it is dead in every live view (over 120 s: a
    /// miss), restarts it and waits for agreement again.
    /// </summary>
    private static (List<double> FirstSuspicion, List<double> AllDead, int Missed) CrashOneByOne(SimCluster cluster, int crashes, ulong seed, int exclude)
    {
        Xoshiro256StarStar random = new(seed ^ 0x5EED);
        List<double> first = [];
        List<double> all = [];
        int missed = 0;
        SimNode? victim = null;
        TimeSpan crashedAt = TimeSpan.Zero;
        TimeSpan? firstSuspicion = null;
        int deadViews = 0;
        cluster.Observe((observer, e) =>
        {
            if (victim is null || e is not MemberChanged change || change.Member.Name != victim.Name || change.Member.Generation != victim.Node!.Self.Generation)
            {
                return;
            }

            if (change.Kind == MemberChangeKind.Suspected && firstSuspicion is null)
            {
                firstSuspicion = change.At;
            }

            if (change.Kind == MemberChangeKind.Failed)
            {
                firstSuspicion ??= change.At;
                deadViews++;
            }
        });
        for (int i = 0; i < crashes; i++)
        {
            cluster.RunFor(TimeSpan.FromSeconds(5) + random.NextDuration(cluster.Options.Gossip.ProbeInterval));
            SimNode[] candidates = cluster.LiveNodes.Where(n => n.Index != 0 && n.Index != exclude).ToArray();
            victim = candidates[random.NextInt(candidates.Length)];
            firstSuspicion = null;
            deadViews = 0;
            crashedAt = cluster.Now;
            cluster.Crash(victim);
            int observers = cluster.LiveNodes.Count();
            TimeSpan? took = cluster.RunUntil(() => deadViews >= observers, TimeSpan.FromSeconds(120), TimeSpan.FromMilliseconds(10));
            if (took is null || firstSuspicion is null)
            {
                missed++;
            }
            else
            {
                first.Add((firstSuspicion.Value - crashedAt).TotalSeconds);
                all.Add(took.Value.TotalSeconds);
            }

            // Bring it back, so that every crash happens in a cluster of the same size.
            SimNode restarted = victim;
            victim = null;
            cluster.Restart(restarted);
            cluster.RunUntil(cluster.MembershipAgrees, TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(1));
        }

        victim = null;
        return (first, all, missed);
    }

    private static bool IsUp(SimCluster cluster, string name)
    {
        // Node names are node-0001…: the index is the number − 1.
        int index = int.Parse(name.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture) - 1;
        return cluster.Nodes[index].IsUp;
    }

    private static (long Probes, long Failed, long Refutations, long FallbackAcks) Totals(SimCluster cluster)
    {
        long probes = 0;
        long failed = 0;
        long refutations = 0;
        long fallback = 0;
        foreach (SimNode node in cluster.LiveNodes)
        {
            probes += node.LiveNode.Counters.ProbesSent;
            failed += node.LiveNode.Counters.ProbesFailed;
            refutations += node.LiveNode.Counters.Refutations;
            fallback += node.LiveNode.Counters.FallbackAcks;
        }

        return (probes, failed, refutations, fallback);
    }
}
