using Rumor.Core;
using Rumor.Core.Membership;

namespace Rumor.Simulation.Tests;

/// <summary>One seed, one run: the whole simulated cluster replays bit for bit.</summary>
public sealed class DeterminismTests
{
    private static ulong RunAndHash(ulong seed)
    {
        SimCluster cluster = new(new SimulationOptions
        {
            Seed = seed,
            Network = new NetworkOptions { LossProbability = 0.05, DuplicateProbability = 0.01, ReorderProbability = 0.05 },
        });
        cluster.AddNodes(30);
        cluster.StartAll(TimeSpan.FromMilliseconds(7));
        cluster.At(TimeSpan.FromSeconds(20), c => c.Crash(c.Nodes[3]));
        cluster.At(TimeSpan.FromSeconds(25), c => c.Network.Partition([c.Nodes.Take(10).ToArray()]));
        cluster.At(TimeSpan.FromSeconds(45), c => c.Network.Heal());
        cluster.RunFor(TimeSpan.FromSeconds(90));
        return cluster.Trace.Hash;
    }

    [Fact]
    public void The_same_seed_gives_the_same_trace_hash()
    {
        ulong first = RunAndHash(77);
        ulong second = RunAndHash(77);
        Assert.Equal(first, second);
    }

    [Fact]
    public void A_different_seed_gives_a_different_trace()
    {
        Assert.NotEqual(RunAndHash(77), RunAndHash(78));
    }

    [Fact]
    public void A_failing_run_reports_its_seed_and_how_to_replay_it()
    {
        SimCluster cluster = Sim.Cluster(seed: 9191, nodes: 5);
        cluster.StartAll();

        // Demand the impossible (a node that was never started to be seen alive) to force a failure.
        cluster.AddNodes(1);
        cluster.Nodes[^1].GetType();
        SimulationFailedException failure = Assert.Throws<SimulationFailedException>(() =>
            Sim.Fail(cluster, "forced failure"));
        Assert.Contains($"seed={cluster.Seed}", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"RUMOR_SIM_SEED={cluster.Seed}", failure.Message, StringComparison.Ordinal);
    }
}

/// <summary>Faults first, then heal, then demand convergence: random plans from seeds.</summary>
public sealed class FaultPlanTests
{
    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void Random_faults_then_heal_converges(ulong planSeed)
    {
        ulong seed = Sim.SeedOr(planSeed);
        SimCluster cluster = Sim.Cluster(seed, nodes: 40, network: new NetworkOptions { ReorderProbability = 0.02, DuplicateProbability = 0.01 });
        cluster.StartAll(TimeSpan.FromMilliseconds(10));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "initial join");
        FaultPlan plan = FaultPlan.Generate(seed, cluster.Nodes.Count, faultCount: 6, window: TimeSpan.FromMinutes(2));
        plan.Apply(cluster);
        cluster.RunFor(plan.HealedBy);
        Sim.Converge(cluster, TimeSpan.FromSeconds(180), "after the fault plan healed:" + Environment.NewLine + plan);
        Assert.All(cluster.LiveNodes, n => Assert.Equal(MemberState.Alive, n.LiveNode.Self.State));
        Sim.NoViolations(cluster);
    }

    [Fact]
    public void Datagrams_never_exceed_the_budget()
    {
        // A small budget with many members forces full packets everywhere.
        SimCluster cluster = Sim.Cluster(seed: 55, nodes: 80, gossip: GossipOptions.Lan with { PacketBudgetBytes = 512 });
        cluster.StartAll(TimeSpan.FromMilliseconds(1));
        Sim.Converge(cluster, TimeSpan.FromSeconds(60), "join with a 512-byte budget");
        Assert.True(cluster.Network.LargestPacket <= 512, $"largest datagram {cluster.Network.LargestPacket} bytes");
        Assert.True(cluster.Network.LargestPacket > 400, "the budget was actually used");
        Sim.NoViolations(cluster);
    }
}
