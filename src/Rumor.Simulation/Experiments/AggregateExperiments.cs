using System.Diagnostics;
using System.Globalization;
using System.Text;
using Rumor.Core;
using Rumor.Core.Aggregates;
using Rumor.Core.Randomness;

namespace Rumor.Simulation.Experiments;

/// <summary>Rounds until push-sum reached the target error, per trial (NaN when a trial never did within its round limit).</summary>
/// <param name="Mode">Which mode ran: "shared membership" (the push-sum core over arrays) or "full" (GossipNode clusters in SimCluster).</param>
/// <param name="Nodes">N.</param>
/// <param name="Epsilon">Target relative error, max over nodes.</param>
/// <param name="AverageRounds">Rounds until every node's average was within epsilon.</param>
/// <param name="CountRounds">Rounds until every node's count and sum were within epsilon (they need the single weight unit to spread first).</param>
/// <param name="WallTime">Wall-clock time of all trials.</param>
/// <param name="PeakWorkingSetBytes">Peak working set of the process so far.</param>
public sealed record PushSumRoundsResult(string Mode, int Nodes, double Epsilon, SpreadStatistics AverageRounds, SpreadStatistics CountRounds, TimeSpan WallTime, long PeakWorkingSetBytes);

/// <summary>Error of full-cluster push-sum after a number of rounds under datagram loss, with and without flow repair.</summary>
/// <param name="Nodes">N.</param>
/// <param name="Loss">Datagram loss probability.</param>
/// <param name="Repair">Whether unacknowledged flows were re-sent (AggregateRetransmitsMax) or not (plain push-sum).</param>
/// <param name="Rounds">Rounds run after the start.</param>
/// <param name="AverageError">Max over nodes of the relative error of the average.</param>
/// <param name="CountError">Max over nodes of the relative error of the count.</param>
/// <param name="SumError">Max over nodes of the relative error of the sum.</param>
/// <param name="WeightHeld">Total weight held by the nodes at the end (1 when no mass is lost or in flight).</param>
/// <param name="Retransmissions">Flows re-sent.</param>
/// <param name="WallTime">Wall-clock time.</param>
public sealed record PushSumLossResult(int Nodes, double Loss, bool Repair, int Rounds, double AverageError, double CountError, double SumError, double WeightHeld, long Retransmissions, TimeSpan WallTime);

/// <summary>
/// Push-sum convergence experiments. Two modes, always named in the result:
/// <list type="bullet">
/// <item>shared membership: N <see cref="PushSumState"/> values in an array (the same type GossipNode
/// gossips), synchronous rounds, each node pushing half its mass to a uniform random other node.
/// Kempe et al.'s model; fits 10^6 nodes in tens of MB.</item>
/// <item>full: GossipNode clusters in SimCluster (SWIM membership, the wire codec, the flow ledger,
/// the aggregate started at one node and joined by the others as its messages reach them), rounds
/// counted as virtual time since the start divided by AggregateInterval.</item>
/// </list>
/// Values are uniform in [0, 100); the initiator (node 0) holds the weight unit.
/// </summary>
public static class AggregateExperiments
{
    /// <summary>Shared-membership mode: rounds to <paramref name="epsilon"/> for average and for count/sum.</summary>
    public static PushSumRoundsResult SharedMembership(int n, int trials, ulong seed, double epsilon = 1e-4, int roundsMax = 200)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(trials, 1);
        Stopwatch wall = Stopwatch.StartNew();
        PushSumState[] nodes = new PushSumState[n];
        PushSumState[] inbox = new PushSumState[n];
        List<double> averageRounds = [];
        List<double> countRounds = [];
        for (int trial = 0; trial < trials; trial++)
        {
            Xoshiro256StarStar random = new(seed + (ulong)trial);
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                double value = random.NextDouble() * 100;
                nodes[i] = PushSumState.ForInput(value, initiator: i == 0);
                sum += value;
            }

            double average = sum / n;
            int averageAt = -1;
            int countAt = -1;
            for (int round = 1; round <= roundsMax && (averageAt < 0 || countAt < 0); round++)
            {
                Array.Clear(inbox);
                for (int i = 0; i < n; i++)
                {
                    int peer = random.NextInt(n - 1);
                    peer += peer >= i ? 1 : 0;
                    inbox[peer].Add(nodes[i].TakeHalf());
                }

                double averageError = 0;
                double countError = 0;
                for (int i = 0; i < n; i++)
                {
                    nodes[i].Add(inbox[i]);
                    averageError = Math.Max(averageError, Math.Abs(nodes[i].Average - average) / average);
                    double count = nodes[i].Count;
                    double nodeSum = nodes[i].Sum;
                    countError = double.IsNaN(count)
                        ? double.PositiveInfinity
                        : Math.Max(countError, Math.Max(Math.Abs(count - n) / n, Math.Abs(nodeSum - sum) / sum));
                }

                if (averageAt < 0 && averageError <= epsilon)
                {
                    averageAt = round;
                }

                if (countAt < 0 && countError <= epsilon)
                {
                    countAt = round;
                }
            }

            averageRounds.Add(averageAt < 0 ? double.NaN : averageAt);
            countRounds.Add(countAt < 0 ? double.NaN : countAt);
        }

        return new PushSumRoundsResult("shared membership", n, epsilon, SpreadStatistics.Of(averageRounds), SpreadStatistics.Of(countRounds), wall.Elapsed, Process.GetCurrentProcess().PeakWorkingSet64);
    }

    /// <summary>Full mode: GossipNode clusters; rounds from the start at node 0 until every node's estimates are within <paramref name="epsilon"/>.</summary>
    public static PushSumRoundsResult FullCluster(int n, int trials, ulong seed, double epsilon = 1e-4, int roundsMax = 200, GossipOptions? gossip = null)
    {
        Stopwatch wall = Stopwatch.StartNew();
        List<double> averageRounds = [];
        List<double> countRounds = [];
        for (int trial = 0; trial < trials; trial++)
        {
            (SimCluster cluster, double[] values) = Prepare(n, seed + (ulong)trial, 0, gossip);
            TimeSpan interval = cluster.Options.Gossip.AggregateInterval;
            double sum = values.Sum();
            double average = sum / n;
            TimeSpan start = cluster.Now;
            cluster.Nodes[0].Command((node, now) => node.StartAggregate(Key, now));
            int averageAt = -1;
            int countAt = -1;
            for (int round = 1; round <= roundsMax && (averageAt < 0 || countAt < 0); round++)
            {
                cluster.RunUntilTime(start + (interval * round));
                (double averageError, double countError, double _) = Errors(cluster, sum, average, n);
                if (averageAt < 0 && averageError <= epsilon)
                {
                    averageAt = round;
                }

                if (countAt < 0 && countError <= epsilon)
                {
                    countAt = round;
                }
            }

            averageRounds.Add(averageAt < 0 ? double.NaN : averageAt);
            countRounds.Add(countAt < 0 ? double.NaN : countAt);
        }

        return new PushSumRoundsResult("full (SimCluster, GossipNode)", n, epsilon, SpreadStatistics.Of(averageRounds), SpreadStatistics.Of(countRounds), wall.Elapsed, Process.GetCurrentProcess().PeakWorkingSet64);
    }

    /// <summary>Full mode under datagram loss: the errors after <paramref name="rounds"/> rounds, with flow repair or as plain push-sum.</summary>
    public static PushSumLossResult UnderLoss(int n, double loss, bool repair, int rounds, ulong seed, GossipOptions? gossip = null)
    {
        Stopwatch wall = Stopwatch.StartNew();
        GossipOptions options = (gossip ?? DefaultOptions) with { AggregateRetransmitsMax = repair ? (gossip ?? DefaultOptions).AggregateRetransmitsMax : 0 };
        (SimCluster cluster, double[] values) = Prepare(n, seed, loss, options);
        double sum = values.Sum();
        TimeSpan start = cluster.Now;
        cluster.Nodes[0].Command((node, now) => node.StartAggregate(Key, now));
        cluster.RunUntilTime(start + (options.AggregateInterval * rounds));
        (double averageError, double countError, double sumError) = Errors(cluster, sum, sum / n, n);
        double weight = cluster.Nodes.Sum(node => node.LiveNode.AggregateMass(Key)?.Weight ?? 0);
        long retransmissions = cluster.Nodes.Sum(node => node.LiveNode.AggregateCounters.Retransmissions);
        return new PushSumLossResult(n, loss, repair, rounds, averageError, countError, sumError, weight, retransmissions, wall.Elapsed);
    }

    /// <summary>
    /// The options of the full-mode runs: 1 s rounds, epochs longer than any run. Inputs are read
    /// from each node's own map; replicating every node's value to every node is not what is
    /// measured and would dominate the run, so state rounds are rare.
    /// </summary>
    public static GossipOptions DefaultOptions { get; } = GossipOptions.Lan with
    {
        AggregateInterval = TimeSpan.FromSeconds(1),
        AggregateEpochLength = TimeSpan.FromMinutes(30),
        StateGossipInterval = TimeSpan.FromMinutes(30),
    };

    private const string Key = "load";

    private static (SimCluster Cluster, double[] Values) Prepare(int n, ulong seed, double loss, GossipOptions? gossip)
    {
        // The figures count rounds of AggregateInterval: a fixed pace, without the faster rounds
        // before convergence (AggregateFastInterval), keeps a round one interval long.
        GossipOptions options = gossip ?? DefaultOptions;
        options = options with { AggregateFastInterval = options.AggregateInterval };
        SimCluster cluster = ExperimentCluster.Joined(n, seed, options, new NetworkOptions { LossProbability = loss }, drain: false);

        Xoshiro256StarStar random = new(seed ^ 0x5EED);
        double[] values = new double[n];
        for (int i = 0; i < n; i++)
        {
            double value = random.NextDouble() * 100;
            values[i] = value;
            cluster.Nodes[i].Command((node, now) => node.SetValue(Key, Encoding.UTF8.GetBytes(value.ToString("R", CultureInfo.InvariantCulture)), now));
        }

        return (cluster, values);
    }

    /// <summary>Max over nodes of the relative errors of average, of count-or-sum, and of sum alone (+∞ while some node has no estimate).</summary>
    private static (double Average, double Count, double Sum) Errors(SimCluster cluster, double sum, double average, int n)
    {
        double averageError = 0;
        double countError = 0;
        double sumError = 0;
        foreach (SimNode node in cluster.Nodes)
        {
            if (node.LiveNode.AggregateMass(Key) is not { } mass)
            {
                return (double.PositiveInfinity, double.PositiveInfinity, double.PositiveInfinity);
            }

            averageError = Math.Max(averageError, double.IsNaN(mass.Average) ? double.PositiveInfinity : Math.Abs(mass.Average - average) / average);
            double count = double.IsNaN(mass.Count) ? double.PositiveInfinity : Math.Abs(mass.Count - n) / n;
            double nodeSum = double.IsNaN(mass.Sum) ? double.PositiveInfinity : Math.Abs(mass.Sum - sum) / sum;
            countError = Math.Max(countError, Math.Max(count, nodeSum));
            sumError = Math.Max(sumError, nodeSum);
        }

        return (averageError, countError, sumError);
    }
}
