using Rumor.Core;
using Rumor.Core.Randomness;

namespace Rumor.Simulation.Experiments;

/// <summary>A fraction of the nodes cut off from the others from one round to another.</summary>
/// <param name="Fraction">Share of the nodes on the far side of the cut, in (0, 1).</param>
/// <param name="FromRound">First round of the cut (round 1 is the first round after the rumor starts).</param>
/// <param name="ToRound">First round after the cut heals; must exceed <paramref name="FromRound"/>.</param>
public sealed record PartitionPlan(double Fraction, int FromRound, int ToRound)
{
    /// <summary>How many of <paramref name="nodes"/> nodes are cut off (at least one, never all).</summary>
    public int CutCount(int nodes) => Math.Clamp((int)Math.Ceiling(Fraction * nodes), 1, nodes - 1);

    /// <summary>Whether the cut stands during <paramref name="round"/>.</summary>
    public bool ActiveIn(int round) => round >= FromRound && round < ToRound;
}

/// <summary>
/// Nodes crashing and coming back: in rounds 1 to <paramref name="UntilRound"/> every up node
/// crashes with probability <paramref name="CrashPerRound"/>, and a crashed node restarts
/// <paramref name="DownRounds"/> rounds later with fresh state (it has forgotten the rumor). Churn
/// stops after <paramref name="UntilRound"/> because under endless churn "every up node has it"
/// almost never holds at large N (someone has always just restarted); what is measured is the
/// spread through the churn and the recovery after it.
/// </summary>
/// <param name="CrashPerRound">Probability that an up node crashes in a round, in [0, 1).</param>
/// <param name="DownRounds">Rounds a crashed node stays down, at least 1.</param>
/// <param name="UntilRound">Last round with crashes, at least 1.</param>
public sealed record ChurnPlan(double CrashPerRound, int DownRounds, int UntilRound = 20)
{
    /// <summary>Whether nodes crash in <paramref name="round"/>.</summary>
    public bool CrashesIn(int round) => round <= UntilRound;
}

/// <summary>One spread experiment: what spreads, how, in which network, how often, bounded how.</summary>
public sealed record SpreadSettings
{
    /// <summary>Cluster size N.</summary>
    public int Nodes { get; init; } = 1000;

    /// <summary>Push (rumor mongering), pull or push-pull.</summary>
    public GossipStrategy Strategy { get; init; } = GossipStrategy.Push;

    /// <summary>Peers contacted per node per round.</summary>
    public int Fanout { get; init; } = 3;

    /// <summary>Datagram loss probability, in [0, 1).</summary>
    public double Loss { get; init; }

    /// <summary>An optional partition.</summary>
    public PartitionPlan? Partition { get; init; }

    /// <summary>Optional churn.</summary>
    public ChurnPlan? Churn { get; init; }

    /// <summary>The run's seed: the same seed gives the same result, bit for bit.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Independent spreads to measure.</summary>
    public int Trials { get; init; } = 10;

    /// <summary>The bound: a trial that has not reached everyone after this many rounds is reported as not converged.</summary>
    public int MaxRounds { get; init; } = 200;

    /// <summary>
    /// Full mode: the joined clusters the trials are split over, in contiguous blocks (cluster g runs
    /// trials g·T/C to (g+1)·T/C − 1, one after another). Each cluster joins on its own, with seed
    /// <see cref="ClusterSeed"/>(g), so the clusters can run on separate threads and the result is
    /// the same for every degree of parallelism. 1 (the default) runs every trial on one cluster,
    /// as before this setting existed. The dissemination engine's trials are independent already
    /// and ignore it.
    /// </summary>
    public int Clusters { get; init; } = 1;

    /// <summary>The seed of full mode's cluster <paramref name="cluster"/>: <see cref="Seed"/> for the first, SplitMix64 draws from it for the others.</summary>
    public ulong ClusterSeed(int cluster)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cluster);
        ulong state = Seed ^ 0xC1A5_7E25_5EED_0001;
        ulong seed = Seed;
        for (int g = 0; g < cluster; g++)
        {
            seed = Xoshiro256StarStar.SplitMix64(ref state);
        }

        return seed;
    }

    /// <summary>The first trial of full mode's cluster <paramref name="cluster"/> (the block ends where the next cluster's begins; cluster <see cref="Clusters"/> "begins" at <see cref="Trials"/>).</summary>
    public int FirstTrialOf(int cluster) => (int)((long)cluster * Trials / Clusters);

    /// <summary>
    /// The gossip round in virtual time (full mode): GossipInterval for push, StateGossipInterval
    /// for pull and push-pull. Null takes the LAN preset's value for the strategy.
    /// </summary>
    public TimeSpan? Interval { get; init; }

    /// <summary>RetransmitMultiplier of the push damping (memberlist LAN: 4).</summary>
    public int RetransmitMultiplier { get; init; } = GossipOptions.Lan.RetransmitMultiplier;

    /// <summary>The transmit limit of one broadcast at this size: RetransmitMultiplier × ceil(log10(N + 1)), as the real BroadcastQueue uses.</summary>
    public int TransmitLimit => TransmitLimitFor(Nodes, RetransmitMultiplier);

    /// <summary>RetransmitMultiplier × ceil(log10(N + 1)): memberlist's retransmit limit, and <see cref="GossipNode.RetransmitLimit"/>.</summary>
    public static int TransmitLimitFor(int nodes, int multiplier) => multiplier * (int)Math.Ceiling(Math.Log10(nodes + 1.0));

    /// <summary>The interval in effect: <see cref="Interval"/> or the LAN preset's for the strategy.</summary>
    public TimeSpan EffectiveInterval => Interval ?? (Strategy == GossipStrategy.Push ? GossipOptions.Lan.GossipInterval : GossipOptions.Lan.StateGossipInterval);

    /// <summary>Every problem with these settings; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        List<string> problems = [];
        if (Nodes < 2)
        {
            problems.Add($"Nodes is {Nodes}; at least 2 are needed.");
        }

        if (Fanout < 1 || Fanout > 64)
        {
            problems.Add($"Fanout is {Fanout}; it must be between 1 and 64.");
        }

        if (double.IsNaN(Loss) || Loss < 0 || Loss >= 1)
        {
            problems.Add($"Loss is {Loss}; it must be in [0, 1).");
        }

        if (Partition is { } p && (double.IsNaN(p.Fraction) || p.Fraction <= 0 || p.Fraction >= 1 || p.FromRound < 1 || p.ToRound <= p.FromRound))
        {
            problems.Add("Partition needs a fraction in (0, 1) and rounds 1 <= from < to.");
        }

        if (Churn is { } c && (double.IsNaN(c.CrashPerRound) || c.CrashPerRound < 0 || c.CrashPerRound >= 1 || c.DownRounds < 1 || c.UntilRound < 1))
        {
            problems.Add("Churn needs a crash probability in [0, 1), at least 1 down round and a last churn round >= 1.");
        }

        if (Trials < 1)
        {
            problems.Add($"Trials is {Trials}; at least 1 is needed.");
        }

        if (Clusters < 1 || Clusters > Trials)
        {
            problems.Add($"Clusters is {Clusters}; it must be between 1 and the trial count ({Trials}).");
        }

        if (MaxRounds < 1)
        {
            problems.Add($"MaxRounds is {MaxRounds}; at least 1 is needed.");
        }

        if (RetransmitMultiplier < 1)
        {
            problems.Add($"RetransmitMultiplier is {RetransmitMultiplier}; at least 1 is needed.");
        }

        return problems;
    }
}

/// <summary>One spread of one rumor.</summary>
/// <param name="InformedPerRound">Informed (and up) nodes after each round; index 0 is the start (the origin alone).</param>
/// <param name="RoundsToEveryone">Rounds until every up node was informed (fractional in full mode), or null if the bound or the rumor's death came first.</param>
/// <param name="Transmissions">Messages carrying the rumor sent until everyone had it (or until the trial ended); in full mode, every datagram sent meanwhile, probes included.</param>
/// <param name="NeverInformed">Up nodes still uninformed when the trial ended.</param>
public sealed record SpreadTrial(int[] InformedPerRound, double? RoundsToEveryone, long Transmissions, int NeverInformed);
