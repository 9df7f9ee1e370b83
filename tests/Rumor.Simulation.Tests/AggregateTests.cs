using System.Globalization;
using System.Text;
using Rumor.Core;
using Rumor.Core.Randomness;
using Xunit.Abstractions;

namespace Rumor.Simulation.Tests;

/// <summary>
/// Cluster aggregates in virtual time: push-sum average / count / sum and extremum gossip over full
/// GossipNode clusters, with departures and loss. Every check of an estimate that reports itself
/// converged demands that the truth lies within its own error bound; failures print the seed.
/// </summary>
public sealed class AggregateTests(ITestOutputHelper output)
{
    private const string Key = "load";

    // Inputs are read from each node's own map; replicating every node's value to every node is
    // not under test here and would dominate the cost of large clusters, so state rounds are rare.
    private static GossipOptions Options(TimeSpan epoch, TimeSpan? interval = null) => GossipOptions.Lan with
    {
        AggregateInterval = interval ?? TimeSpan.FromMilliseconds(500),
        AggregateEpochLength = epoch,
        StateGossipInterval = TimeSpan.FromMinutes(10),
    };

    /// <summary>Gives each node a value drawn from the seed (a node index in <paramref name="without"/> gets none); returns the values by node index.</summary>
    private static Dictionary<int, double> SetValues(SimCluster cluster, ISet<int>? without = null)
    {
        Xoshiro256StarStar random = new(cluster.Seed ^ 0xA66);
        Dictionary<int, double> values = [];
        foreach (SimNode node in cluster.Nodes)
        {
            double value = Math.Round(10 + (random.NextDouble() * 990), 3);
            if (without?.Contains(node.Index) == true)
            {
                continue;
            }

            values[node.Index] = value;
            node.Command((n, now) => n.SetValue(Key, Encoding.UTF8.GetBytes(value.ToString("R", CultureInfo.InvariantCulture)), now));
        }

        return values;
    }

    private sealed record Truth(double Sum, int Count, int ValueCount, double Min, double Max)
    {
        public double Average => Sum / ValueCount;

        public static Truth Of(SimCluster cluster, Dictionary<int, double> values)
        {
            List<int> live = cluster.LiveNodes.Select(n => n.Index).ToList();
            double[] present = live.Where(values.ContainsKey).Select(i => values[i]).ToArray();
            return new Truth(present.Sum(), live.Count, present.Length, present.Min(), present.Max());
        }
    }

    /// <summary>Throws (with the seed) when a converged estimate's bound does not hold the truth.</summary>
    private static void CheckHonest(SimCluster cluster, SimNode node, AggregateEstimate estimate, Truth truth)
    {
        if (!estimate.Converged)
        {
            return;
        }

        double bound = estimate.ErrorBound;
        (string Name, double? Estimate, double True)[] quantities =
        [
            ("average", estimate.Average, truth.Average),
            ("count", estimate.Count, truth.Count),
            ("value count", estimate.ValueCount, truth.ValueCount),
            ("sum", estimate.Sum, truth.Sum),
        ];
        foreach ((string name, double? value, double expected) in quantities)
        {
            if (value is not { } v || Math.Abs(v - expected) > bound * Math.Abs(v) * (1 + 1e-9))
            {
                Sim.Fail(cluster, $"{node.Name} reports converged (epoch {estimate.Epoch}, round {estimate.Rounds}, bound {bound:G4}) but its {name} {value} is {Math.Abs((value ?? 0) - expected) / Math.Abs(expected):G4} off the truth {expected}.");
            }
        }

        if (estimate.Min != truth.Min || estimate.Max != truth.Max)
        {
            Sim.Fail(cluster, $"{node.Name} reports converged but min/max {estimate.Min}/{estimate.Max} differ from the truth {truth.Min}/{truth.Max}.");
        }
    }

    /// <summary>
    /// Runs until every live node reports a converged estimate of an epoch that began at or after
    /// <paramref name="epochFrom"/>; every converged estimate seen on the way must hold the truth.
    /// </summary>
    private static TimeSpan RequireConverged(SimCluster cluster, Truth truth, TimeSpan epochFrom, TimeSpan bound, string what)
    {
        int checks = 0;
        TimeSpan? took = cluster.RunUntil(
            () =>
            {
                bool all = true;
                foreach (SimNode node in cluster.LiveNodes)
                {
                    AggregateEstimate? estimate = node.LiveNode.GetAggregate(Key);
                    if (estimate is null || estimate.EpochStartedAt < epochFrom)
                    {
                        all = false;
                        continue;
                    }

                    checks++;
                    CheckHonest(cluster, node, estimate, truth);
                    all &= estimate.Converged;
                }

                return all;
            },
            bound,
            TimeSpan.FromSeconds(1));
        if (took is null)
        {
            SimNode? laggard = cluster.LiveNodes.FirstOrDefault(n => n.LiveNode.GetAggregate(Key) is not { Converged: true } e || e.EpochStartedAt < epochFrom);
            Sim.Fail(cluster, $"{what}: not every node converged within {bound.TotalSeconds} s of virtual time; for example {laggard?.Name}: {laggard?.LiveNode.GetAggregate(Key)}");
        }

        Assert.True(checks > 0);
        return took!.Value;
    }

    [Fact]
    public void The_average_of_1000_nodes_converges_within_the_reported_bound_and_again_after_100_leave()
    {
        SimCluster cluster = Sim.Cluster(seed: 8101, nodes: 1000, gossip: Options(TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(250)));
        cluster.StartAll(TimeSpan.FromMilliseconds(2));
        System.Diagnostics.Stopwatch wall = System.Diagnostics.Stopwatch.StartNew();
        Sim.Converge(cluster, TimeSpan.FromSeconds(120), "1000 nodes joining");
        output.WriteLine($"join: {cluster.Now.TotalSeconds:0} s virtual, {wall.Elapsed.TotalSeconds:0} s wall");
        Dictionary<int, double> values = SetValues(cluster);
        Truth all = Truth.Of(cluster, values);
        TimeSpan started = cluster.Now;
        cluster.Nodes[0].Command((n, now) => n.StartAggregate(Key, now));
        TimeSpan took = RequireConverged(cluster, all, started, TimeSpan.FromSeconds(20), "1000 nodes");
        output.WriteLine($"1000 nodes: all converged {took.TotalSeconds:0.0} s after the start; seed {cluster.Seed}; {wall.Elapsed.TotalSeconds:0} s wall");

        // 100 members leave gracefully; once the membership knows, the next epoch counts only the rest.
        foreach (SimNode node in cluster.Nodes.Where(n => n.Index % 10 == 3))
        {
            cluster.Leave(node);
        }

        // The next epoch must not push mass to a departed member, so wait until no live member
        // still sees a leaver as alive (dead or left both do; a leave broadcast's residue is
        // cleared by push-pull or probing, which can take a while at 1,000 nodes).
        HashSet<string> leavers = cluster.Nodes.Where(n => n.Index % 10 == 3).Select(n => n.Name).ToHashSet();
        TimeSpan? gone = cluster.RunUntil(
            () => cluster.LiveNodes.All(n => n.LiveNode.Members.All(m => !leavers.Contains(m.Name) || m.State != Core.Membership.MemberState.Alive)),
            TimeSpan.FromSeconds(180),
            TimeSpan.FromSeconds(1));
        if (gone is null)
        {
            Sim.Fail(cluster, "after 100 leaves: some live member still sees a leaver as alive after 180 s");
        }

        TimeSpan known = cluster.Now;
        output.WriteLine($"leaves known at {known.TotalSeconds:0} s virtual, {wall.Elapsed.TotalSeconds:0} s wall");
        Truth rest = Truth.Of(cluster, values);
        Assert.Equal(900, rest.Count);
        TimeSpan again = RequireConverged(cluster, rest, known, TimeSpan.FromSeconds(60), "900 nodes after 100 left");
        AggregateEstimate last = cluster.Nodes[1].LiveNode.GetAggregate(Key)!;
        output.WriteLine($"after the leaves: all converged in an epoch started after the leaves {again.TotalSeconds:0.0} s later; epoch {last.Epoch}, count {last.Count:0.000}, average {last.Average:0.0000} (truth {rest.Average:0.0000}), bound {last.ErrorBound:G3}; previous epoch count {last.Previous?.Count:0.0}");
        Assert.NotNull(last.Previous);
        Sim.NoViolations(cluster);
    }

    [Fact]
    public void Min_max_count_and_value_count_are_exact_and_a_node_without_the_key_counts_only_as_a_member()
    {
        SimCluster cluster = Sim.Cluster(seed: 8201, nodes: 120, gossip: Options(TimeSpan.FromSeconds(60)));
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(60), "120 nodes joining");
        HashSet<int> without = [5, 6, 7, 40, 99];
        Dictionary<int, double> values = SetValues(cluster, without);

        // A value that is not a number counts like no value.
        cluster.Nodes[99].Command((n, now) => n.SetValue(Key, Encoding.UTF8.GetBytes("n/a"), now));
        Truth truth = Truth.Of(cluster, values);
        TimeSpan started = cluster.Now;
        cluster.Nodes[17].Command((n, now) => n.StartAggregate(Key, now));
        RequireConverged(cluster, truth, started, TimeSpan.FromSeconds(40), "120 nodes");
        foreach (SimNode node in cluster.LiveNodes)
        {
            AggregateEstimate estimate = node.LiveNode.GetAggregate(Key)!;
            Assert.Equal(truth.Min, estimate.Min);
            Assert.Equal(truth.Max, estimate.Max);
            Assert.Equal(120, Math.Round(estimate.Count!.Value));
            Assert.Equal(115, Math.Round(estimate.ValueCount!.Value));
            Assert.Equal(cluster.Nodes[17].Name, estimate.Initiator);
        }

        Assert.Contains(Key, cluster.Nodes[3].LiveNode.Aggregates);
    }

    [Theory]
    [InlineData(0.01)]
    [InlineData(0.05)]
    public void Under_loss_the_flow_repair_keeps_the_estimates_within_their_bounds(double loss)
    {
        SimCluster cluster = Sim.Cluster(seed: 8301, nodes: 300, gossip: Options(TimeSpan.FromSeconds(60)), network: new NetworkOptions { LossProbability = loss });
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(90), "300 nodes joining under loss");
        Dictionary<int, double> values = SetValues(cluster);
        Truth truth = Truth.Of(cluster, values);
        TimeSpan started = cluster.Now;
        cluster.Nodes[0].Command((n, now) => n.StartAggregate(Key, now));
        TimeSpan took = RequireConverged(cluster, truth, started, TimeSpan.FromSeconds(50), $"300 nodes under {loss:P0} loss");
        long retransmissions = cluster.LiveNodes.Sum(n => n.LiveNode.AggregateCounters.Retransmissions);
        double worst = cluster.LiveNodes.Max(n => Math.Abs(n.LiveNode.GetAggregate(Key)!.Count!.Value - truth.Count) / truth.Count);
        output.WriteLine($"{loss:P0} loss: converged in {took.TotalSeconds:0.0} s; {retransmissions} retransmissions; worst count error {worst:G3}");
        Assert.True(retransmissions > 0, "loss must have cost some flows a retransmission");
    }

    [Fact]
    public void Concurrent_starts_resolve_to_one_initiator_and_one_weight_unit()
    {
        SimCluster cluster = Sim.Cluster(seed: 8401, nodes: 60, gossip: Options(TimeSpan.FromSeconds(60)));
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(60), "60 nodes joining");
        Dictionary<int, double> values = SetValues(cluster);
        Truth truth = Truth.Of(cluster, values);
        TimeSpan started = cluster.Now;
        foreach (int i in new[] { 9, 30, 2, 51 })
        {
            cluster.Nodes[i].Command((n, now) => n.StartAggregate(Key, now));
        }

        Assert.False(cluster.Nodes[9].Command((n, now) => n.StartAggregate(Key, now)));
        RequireConverged(cluster, truth, started, TimeSpan.FromSeconds(40), "concurrent starts");
        string smallest = new[] { 9, 30, 2, 51 }.Select(i => cluster.Nodes[i].Name).Min(StringComparer.Ordinal)!;
        Assert.All(cluster.LiveNodes, n => Assert.Equal(smallest, n.LiveNode.GetAggregate(Key)!.Initiator));
    }

    [Fact]
    public void When_the_initiator_leaves_a_backup_starts_the_next_epoch()
    {
        SimCluster cluster = Sim.Cluster(seed: 8501, nodes: 80, gossip: Options(TimeSpan.FromSeconds(20)));
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(60), "80 nodes joining");
        Dictionary<int, double> values = SetValues(cluster);
        SimNode initiator = cluster.Nodes[12];
        initiator.Command((n, now) => n.StartAggregate(Key, now));
        cluster.RunFor(TimeSpan.FromSeconds(10));
        cluster.Leave(initiator);
        Sim.Converge(cluster, TimeSpan.FromSeconds(60), "after the initiator left");
        TimeSpan known = cluster.Now;
        Truth rest = Truth.Of(cluster, values);
        RequireConverged(cluster, rest, known, TimeSpan.FromSeconds(80), "after the initiator left");
        Assert.All(cluster.LiveNodes, n => Assert.NotEqual(initiator.Name, n.LiveNode.GetAggregate(Key)!.Initiator));
    }

    [Fact]
    public void Mass_is_conserved_under_loss_duplication_and_reordering_and_repair_drains_what_is_in_flight()
    {
        NetworkOptions faulty = new() { LossProbability = 0.05, DuplicateProbability = 0.05, ReorderProbability = 0.05 };
        SimCluster cluster = Sim.Cluster(seed: 8601, nodes: 40, gossip: Options(TimeSpan.FromSeconds(120)), network: faulty);
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(60), "40 nodes joining");
        Dictionary<int, double> values = SetValues(cluster);
        cluster.Nodes[0].Command((n, now) => n.StartAggregate(Key, now));
        cluster.RunFor(TimeSpan.FromSeconds(20));

        // Σ held + Σ in flight (what each sender sent minus what its receiver absorbed) = Σ inputs.
        (Core.Aggregates.PushSumState held, Core.Aggregates.PushSumState inFlight) = Ledger(cluster);
        Core.Aggregates.PushSumState total = held;
        total.Add(inFlight);
        string where = $"seed {cluster.Seed}: held {held}, in flight {inFlight}";
        Assert.True(Math.Abs(total.Value - values.Values.Sum()) < 1e-6, where);
        Assert.True(Math.Abs(total.Holders - 40) < 1e-9, where);
        Assert.True(Math.Abs(total.Nodes - 40) < 1e-9, where);
        Assert.True(Math.Abs(total.Weight - 1) < 1e-12, where);

        // Heal the network: retransmissions deliver every lost flow, so almost nothing stays in flight.
        cluster.Network.Options = new NetworkOptions();
        // A push sent an instant ago is legitimately in flight (1 ms of latency), so look at several
        // instants: a flow that is never repaired would show in every one.
        cluster.RunFor(TimeSpan.FromSeconds(3));
        double leastInFlight = double.PositiveInfinity;
        for (int i = 0; i < 10; i++)
        {
            cluster.RunFor(TimeSpan.FromMilliseconds(37));
            (held, inFlight) = Ledger(cluster);
            leastInFlight = Math.Min(leastInFlight, Math.Abs(inFlight.Nodes));
        }

        output.WriteLine($"after healing: least in flight (nodes component) {leastInFlight:G3}");
        Assert.True(leastInFlight < 1e-6, $"seed {cluster.Seed}: still in flight after healing at every instant: at least {leastInFlight} nodes' worth");
        Assert.True(cluster.LiveNodes.Sum(n => n.LiveNode.AggregateCounters.Retransmissions) > 0);
    }

    private static (Core.Aggregates.PushSumState Held, Core.Aggregates.PushSumState InFlight) Ledger(SimCluster cluster)
    {
        Core.Aggregates.PushSumState held = default;
        Core.Aggregates.PushSumState inFlight = default;
        Dictionary<(NodeAddress From, NodeAddress To), Core.Aggregates.PushSumState> absorbed = [];
        foreach (SimNode node in cluster.LiveNodes)
        {
            held.Add(node.LiveNode.AggregateMass(Key)!.Value);
            foreach ((NodeAddress peer, Core.Aggregates.PushSumState _, Core.Aggregates.PushSumState inbound) in node.LiveNode.AggregateFlows(Key))
            {
                absorbed[(peer, node.Address)] = inbound;
            }
        }

        foreach (SimNode node in cluster.LiveNodes)
        {
            foreach ((NodeAddress peer, Core.Aggregates.PushSumState outbound, Core.Aggregates.PushSumState _) in node.LiveNode.AggregateFlows(Key))
            {
                inFlight.Add(Core.Aggregates.PushSumState.Difference(outbound, absorbed.GetValueOrDefault((node.Address, peer))));
            }
        }

        return (held, inFlight);
    }
}
