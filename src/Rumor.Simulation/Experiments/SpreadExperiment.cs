using System.Diagnostics;
using System.Text;
using Rumor.Core;
using Rumor.Core.Randomness;

namespace Rumor.Simulation.Experiments;

/// <summary>Which engine ran a spread experiment.</summary>
public enum SpreadMode
{
    /// <summary>Real <see cref="GossipNode"/>s in a <see cref="SimCluster"/>, with full membership.</summary>
    Full,

    /// <summary>The compact <see cref="DisseminationEngine"/>: shared read-only membership, only dissemination runs.</summary>
    Dissemination,
}

/// <summary>The outcome of one spread experiment, with the ideal beside it.</summary>
/// <param name="Settings">What ran.</param>
/// <param name="Mode">Which engine ran.</param>
/// <param name="Trials">The measured spreads.</param>
/// <param name="IdealTrials">The synchronous undamped ideal (same strategy and fanout; no loss, partition or churn).</param>
/// <param name="MeanField">The mean-field curve (informed fraction per round).</param>
/// <param name="WallTime">Wall time of the measured run (not of the ideal).</param>
/// <param name="PeakWorkingSetBytes">Peak working set of the process so far.</param>
public sealed record SpreadReport(
    SpreadSettings Settings,
    SpreadMode Mode,
    IReadOnlyList<SpreadTrial> Trials,
    IReadOnlyList<SpreadTrial> IdealTrials,
    double[] MeanField,
    TimeSpan WallTime,
    long PeakWorkingSetBytes)
{
    /// <summary>Rounds to reach everyone, over the trials that did.</summary>
    public SpreadStatistics Rounds => SpreadStatistics.Of([.. Trials.Where(t => t.RoundsToEveryone is not null).Select(t => t.RoundsToEveryone!.Value)]);

    /// <summary>The ideal's rounds to reach everyone.</summary>
    public SpreadStatistics IdealRounds => SpreadStatistics.Of([.. IdealTrials.Where(t => t.RoundsToEveryone is not null).Select(t => t.RoundsToEveryone!.Value)]);

    /// <summary>Trials that reached every up node within the bound.</summary>
    public int Converged => Trials.Count(t => t.RoundsToEveryone is not null);

    /// <summary>Mean transmissions per node until everyone had the rumor (converged trials; all trials when none converged).</summary>
    public double TransmissionsPerNode => PerNode(Trials);

    /// <summary>The ideal's transmissions per node until everyone had the rumor.</summary>
    public double IdealTransmissionsPerNode => PerNode(IdealTrials);

    /// <summary>Mean fraction of the nodes never informed when a trial ended (0 when all converged).</summary>
    public double NeverInformedFraction => Trials.Average(t => (double)t.NeverInformed) / Settings.Nodes;

    /// <summary>memberlist's retransmit limit 4·ceil(log10(N + 1)), the per-node budget to compare transmissions with.</summary>
    public int MemberlistLimit => SpreadSettings.TransmitLimitFor(Settings.Nodes, 4);

    /// <summary>Readable name of the mode, saying what ran.</summary>
    public string ModeDescription => Mode switch
    {
        SpreadMode.Full => Settings.Strategy == GossipStrategy.Push
            ? "full (real GossipNodes in SimCluster; push = rumor mongering of the broadcast queue, probes and all)"
            : "full (real GossipNodes in SimCluster; the replicated state's Scuttlebutt " + StrategyName(Settings.Strategy) + ", one key set on one node)",
        _ => "dissemination (compact array engine: shared read-only membership, synchronous rounds; "
            + (Settings.Strategy == GossipStrategy.Push ? $"push with the broadcast queue's transmit limit, {Settings.TransmitLimit} per node)" : StrategyName(Settings.Strategy) + " as undamped anti-entropy)"),
    };

    /// <summary>Mean informed fraction per round over the measured trials (a finished trial keeps its last value).</summary>
    public double[] MeanCurve() => SpreadExperiment.MeanCurve(Trials, Settings.Nodes);

    /// <summary>Mean informed fraction per round of the ideal.</summary>
    public double[] IdealCurve() => SpreadExperiment.MeanCurve(IdealTrials, Settings.Nodes);

    /// <summary>"push", "pull" or "push-pull".</summary>
    public static string StrategyName(GossipStrategy strategy) => strategy switch
    {
        GossipStrategy.Push => "push",
        GossipStrategy.Pull => "pull",
        _ => "push-pull",
    };

    private double PerNode(IReadOnlyList<SpreadTrial> trials)
    {
        SpreadTrial[] done = [.. trials.Where(t => t.RoundsToEveryone is not null)];
        IReadOnlyList<SpreadTrial> basis = done.Length > 0 ? done : trials;
        return basis.Count == 0 ? double.NaN : basis.Average(t => (double)t.Transmissions) / Settings.Nodes;
    }
}

/// <summary>
/// The spread experiment behind <c>rumor simulate</c> and the <c>spread</c> benchmark: one rumor
/// from a random node until everyone has it, per trial, in one of two engines (see
/// <see cref="SpreadMode"/>), with the synchronous ideal and the mean-field curve beside it.
/// Every run is bounded by <see cref="SpreadSettings.MaxRounds"/>; a trial that does not reach
/// everyone is reported as such, never waited for.
/// </summary>
public static class SpreadExperiment
{
    /// <summary>Largest N that <c>auto</c> runs in full mode (N real nodes × N members each fits in memory and minutes).</summary>
    public const int FullModeMax = 2000;

    /// <summary>The mode <c>auto</c> picks for <paramref name="nodes"/>.</summary>
    public static SpreadMode AutoMode(int nodes) => nodes <= FullModeMax ? SpreadMode.Full : SpreadMode.Dissemination;

    /// <summary>Runs the measured trials in <paramref name="mode"/>, then the ideal with <paramref name="idealTrials"/> runs.</summary>
    /// <param name="settings">What to run.</param>
    /// <param name="mode">Which engine.</param>
    /// <param name="idealTrials">Runs of the ideal.</param>
    /// <param name="cancel">Checked every round (a cancelled run throws <see cref="OperationCanceledException"/>).</param>
    public static SpreadReport Run(SpreadSettings settings, SpreadMode mode, int idealTrials, CancellationToken cancel = default) =>
        Run(settings, mode, idealTrials, Environment.ProcessorCount, cancel);

    /// <summary>
    /// As <see cref="Run(SpreadSettings, SpreadMode, int, CancellationToken)"/>, on up to
    /// <paramref name="parallelism"/> threads. The dissemination engine's trials and the ideal's are
    /// independent (each draws from its own fork of the seed), so they run on every thread given.
    /// Full mode runs its trials one after another on one joined cluster (each starts from the
    /// cluster the previous one left, and a joined cluster costs N² member records), unless
    /// <see cref="SpreadSettings.Clusters"/> splits them over several clusters, each joined on its
    /// own: those run on up to <paramref name="parallelism"/> threads, one cluster per thread at a
    /// time. The report is the same for every degree.
    /// </summary>
    /// <param name="settings">What to run.</param>
    /// <param name="mode">Which engine.</param>
    /// <param name="idealTrials">Runs of the ideal.</param>
    /// <param name="parallelism">Threads at most for independent work: clusters, trials (1: all on this thread).</param>
    /// <param name="cancel">Checked every round (a cancelled run throws <see cref="OperationCanceledException"/>).</param>
    public static SpreadReport Run(SpreadSettings settings, SpreadMode mode, int idealTrials, int parallelism, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Stopwatch wall = Stopwatch.StartNew();
        IReadOnlyList<SpreadTrial> trials = mode == SpreadMode.Full ? RunFull(settings, parallelism, cancel) : new DisseminationEngine(settings).Run(parallelism, cancel);
        TimeSpan took = wall.Elapsed;
        long peak = Process.GetCurrentProcess().PeakWorkingSet64;
        IReadOnlyList<SpreadTrial> ideal = DisseminationEngine.Ideal(settings, idealTrials, settings.Seed ^ 0x1DEA1, parallelism, cancel);
        double[] meanField = MeanFieldSpread.Curve(settings.Nodes, settings.Strategy, settings.Fanout, settings.MaxRounds);
        return new SpreadReport(settings, mode, trials, ideal, meanField, took, peak);
    }

    /// <summary>Mean informed fraction per round over <paramref name="trials"/> (a finished trial keeps its last value).</summary>
    public static double[] MeanCurve(IReadOnlyList<SpreadTrial> trials, int nodes)
    {
        ArgumentNullException.ThrowIfNull(trials);
        int length = trials.Count == 0 ? 0 : trials.Max(t => t.InformedPerRound.Length);
        double[] curve = new double[length];
        foreach (SpreadTrial trial in trials)
        {
            for (int r = 0; r < length; r++)
            {
                curve[r] += trial.InformedPerRound[Math.Min(r, trial.InformedPerRound.Length - 1)];
            }
        }

        for (int r = 0; r < length; r++)
        {
            curve[r] /= (double)trials.Count * nodes;
        }

        return curve;
    }

    /// <summary>
    /// Full mode: N real nodes join and converge (no loss), then each trial starts one rumor on a
    /// random node and samples the informed count every tenth of a round. Push: a metadata update
    /// (a new Alive incarnation) spread by the broadcast queue, with probes piggybacking as in
    /// production. Pull and push-pull: one key set on the origin, spread by the replicated state's
    /// Scuttlebutt strategy. Loss, the partition and churn apply during the trials only; the seed
    /// node (the first) and the origin never crash, so restarted nodes can rejoin. With
    /// <see cref="SpreadSettings.Clusters"/> above 1 the trials are split over that many clusters,
    /// each joined on its own; this overload runs them one after another on this thread.
    /// </summary>
    /// <param name="settings">What to run.</param>
    /// <param name="cancel">Checked every tenth of a round and every second of the join.</param>
    public static IReadOnlyList<SpreadTrial> RunFull(SpreadSettings settings, CancellationToken cancel = default) => RunFull(settings, 1, cancel);

    /// <summary>
    /// As <see cref="RunFull(SpreadSettings, CancellationToken)"/>, with the clusters of
    /// <see cref="SpreadSettings.Clusters"/> on up to <paramref name="parallelism"/> threads. A
    /// cluster's trials depend only on its seed (<see cref="SpreadSettings.ClusterSeed"/>) and its
    /// block of trial numbers, so the trials, and their order, are the same for every degree.
    /// Memory: one joined cluster per thread at a time.
    /// </summary>
    /// <param name="settings">What to run.</param>
    /// <param name="parallelism">Threads at most (1: every cluster on this thread).</param>
    /// <param name="cancel">Checked every tenth of a round and every second of the join.</param>
    public static IReadOnlyList<SpreadTrial> RunFull(SpreadSettings settings, int parallelism, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        IReadOnlyList<string> problems = settings.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(settings));
        }

        SpreadTrial[] trials = new SpreadTrial[settings.Trials];
        TrialWorkers.Run(settings.Clusters, parallelism, _ => g => RunCluster(settings, g, trials, cancel));
        return trials;
    }

    /// <summary>Joins cluster <paramref name="g"/> with its own seed and runs its block of trials into <paramref name="trials"/>.</summary>
    private static void RunCluster(SpreadSettings settings, int g, SpreadTrial[] trials, CancellationToken cancel)
    {
        int n = settings.Nodes;
        ulong seed = settings.ClusterSeed(g);
        TimeSpan interval = settings.EffectiveInterval;
        GossipOptions gossip = settings.Strategy == GossipStrategy.Push
            ? GossipOptions.Lan with { GossipFanout = settings.Fanout, GossipInterval = interval, RetransmitMultiplier = settings.RetransmitMultiplier }
            : GossipOptions.Lan with { StateStrategy = settings.Strategy, StateGossipFanout = settings.Fanout, StateGossipInterval = interval };
        SimCluster cluster = new(new SimulationOptions { Seed = seed, Gossip = gossip, Network = new NetworkOptions(), TraceRecent = 0 });
        cluster.Checkers.TrackIncarnations = false;
        cluster.AddNodes(n);
        cluster.StartAll(TimeSpan.FromMilliseconds(2));
        TimeSpan joinBound = TimeSpan.FromSeconds(300);
        if (cluster.RunUntil(() => { cancel.ThrowIfCancellationRequested(); return cluster.MembershipAgrees(); }, joinBound, TimeSpan.FromSeconds(1)) is null)
        {
            throw new InvalidOperationException($"{n} nodes did not agree on the membership within {joinBound.TotalSeconds} s of virtual time (seed {seed}{(settings.Clusters > 1 ? $", cluster {g + 1} of {settings.Clusters}" : string.Empty)}); no spread was measured.");
        }

        cluster.RunFor(TimeSpan.FromSeconds(20)); // let the join news drain from the queues
        cluster.Network.Options = cluster.Network.Options with { LossProbability = settings.Loss };
        Xoshiro256StarStar random = new(seed ^ 0x5B7EAD);
        for (int t = settings.FirstTrialOf(g); t < settings.FirstTrialOf(g + 1); t++)
        {
            trials[t] = FullTrial(cluster, settings, random, t, cancel);
        }
    }

    private static SpreadTrial FullTrial(SimCluster cluster, SpreadSettings settings, Xoshiro256StarStar random, int trial, CancellationToken cancel)
    {
        int n = settings.Nodes;
        TimeSpan interval = settings.EffectiveInterval;
        SimNode origin = cluster.Nodes[random.NextInt(n)];
        TimeSpan start = cluster.Now;
        long packetsBefore = cluster.Network.PacketsSent;
        Func<SimNode, bool> holds;
        if (settings.Strategy == GossipStrategy.Push)
        {
            uint target = origin.LiveNode.Self.Incarnation + 1;
            string name = origin.Name;
            origin.LiveNode.UpdateMetadata([(byte)trial, (byte)(trial >> 8)], cluster.Now);
            origin.ScheduleWake();
            holds = node => node == origin || node.LiveNode.FindMember(name) is { } m && m.Incarnation >= target;
        }
        else
        {
            string key = $"simulate/rumor-{trial}";
            origin.Command((g, now) => g.SetValue(key, Encoding.UTF8.GetBytes($"value-{trial}"), now));
            string owner = origin.Name;
            holds = node => node.LiveNode.GetValue(owner, key) is not null;
        }

        int up = n;
        int Count()
        {
            int informed = 0;
            up = 0;
            foreach (SimNode node in cluster.Nodes)
            {
                if (node.IsUp)
                {
                    up++;
                    if (holds(node))
                    {
                        informed++;
                    }
                }
            }

            return informed;
        }

        Dictionary<int, List<SimNode>> restarts = [];
        List<int> perRound = [Count()];
        double? done = null;
        int steps = 10;
        for (int round = 1; round <= settings.MaxRounds && done is null; round++)
        {
            if (settings.Partition is { } partition)
            {
                if (round == partition.FromRound)
                {
                    int cut = partition.CutCount(n);
                    cluster.Network.Partition([cluster.Nodes.Take(n - cut).ToArray(), cluster.Nodes.Skip(n - cut).ToArray()]);
                }
                else if (round == partition.ToRound)
                {
                    cluster.Network.Heal();
                }
            }

            if (settings.Churn is { } churn)
            {
                if (restarts.Remove(round, out List<SimNode>? back))
                {
                    back.ForEach(cluster.Restart);
                }

                foreach (SimNode node in cluster.Nodes)
                {
                    if (churn.CrashesIn(round) && node.IsUp && node.Index != 0 && node != origin && random.NextDouble() < churn.CrashPerRound)
                    {
                        cluster.Crash(node);
                        int at = round + churn.DownRounds;
                        if (!restarts.TryGetValue(at, out List<SimNode>? list))
                        {
                            restarts[at] = list = [];
                        }

                        list.Add(node);
                    }
                }
            }

            for (int s = 1; s <= steps; s++)
            {
                cancel.ThrowIfCancellationRequested();
                cluster.RunUntilTime(start + (interval * (round - 1)) + (interval * s / steps));
                int informed = Count();
                if (informed == up)
                {
                    done = round - 1 + ((double)s / steps);
                    break;
                }
            }

            perRound.Add(Count());
        }

        long packets = cluster.Network.PacketsSent - packetsBefore;
        int never = up - perRound[^1];

        // Back to a whole, quiet cluster for the next trial.
        cluster.Network.Heal();
        foreach (SimNode node in restarts.Values.SelectMany(x => x))
        {
            if (!node.IsUp)
            {
                cluster.Restart(node);
            }
        }

        cluster.RunUntil(cluster.MembershipAgrees, TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(1));
        cluster.RunFor(interval * 10);
        return new SpreadTrial([.. perRound], done, packets, never);
    }
}
