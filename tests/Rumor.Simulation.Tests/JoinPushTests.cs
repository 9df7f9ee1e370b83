using Rumor.Core;
using Xunit.Abstractions;

namespace Rumor.Simulation.Tests;

/// <summary>
/// JoinImmediatePush (PROTOCOL.md, "Join"): when a join push-pull ends, the joiner and the seed
/// that answered it each send one gossip round at once instead of waiting for their next scheduled
/// round. Same seeds, same cluster of nodes started 5 ms apart, the option on and off: the time
/// until every node lists every other alive must drop, and each join must cost exactly its two
/// pushes.
/// </summary>
public class JoinPushTests(ITestOutputHelper output)
{
    private const int Nodes = 20;

    [Fact]
    public void Pushing_a_join_at_once_converges_a_starting_cluster_sooner_than_waiting_for_the_round()
    {
        ulong[] seeds = [1701, 1702, 1703, 1704, 1705, 1706];
        double onTotal = 0, offTotal = 0;
        foreach (ulong seed in seeds)
        {
            double on = RoundsToConverge(seed, push: true);
            double off = RoundsToConverge(seed, push: false);
            output.WriteLine($"seed {seed}: push on {on:F2} rounds, off {off:F2} rounds (GossipInterval {Sim.Lan.GossipInterval.TotalMilliseconds} ms, N = {Nodes}, started 5 ms apart)");
            onTotal += on;
            offTotal += off;
        }

        double onMean = onTotal / seeds.Length, offMean = offTotal / seeds.Length;
        output.WriteLine($"mean: on {onMean:F2}, off {offMean:F2} rounds");

        // Without the push both runs are the same protocol and the means are equal.
        Assert.True(onMean < offMean - 0.3, $"push on took {onMean:F2} rounds on average against {offMean:F2} with it off (seeds {string.Join(',', seeds)})");
    }

    /// <summary>Rounds of GossipInterval from the first node's start until every node lists every other alive.</summary>
    private static double RoundsToConverge(ulong seed, bool push)
    {
        // MemberImmediatePush off on both sides: with it the seed already pushes a member new to it at once, which is most of this option's gain.
        GossipOptions options = Sim.Lan with { JoinImmediatePush = push, MemberImmediatePush = false };
        SimCluster cluster = Sim.Cluster(seed, Nodes, options);
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        TimeSpan? converged = cluster.RunUntil(cluster.MembershipAgrees, TimeSpan.FromSeconds(60), checkEvery: TimeSpan.FromMilliseconds(10));
        if (converged is not { } took)
        {
            cluster.MembershipAgrees(out string differences);
            Sim.Fail(cluster, $"push {push}: {Nodes} nodes did not agree within 60 s. {differences}");
            return 0;
        }

        // One push per join on each side: the joiner's at the end of its join, the seed's per join it answered.
        long[] pushes = [.. cluster.Nodes.Select(n => n.LiveNode.Counters.JoinPushes)];
        long[] expected = [.. cluster.Nodes.Select(n => !push ? 0L : n.Index == 0 ? Nodes - 1 : 1)];
        if (!pushes.SequenceEqual(expected))
        {
            Sim.Fail(cluster, $"push {push}: join pushes per node {string.Join(',', pushes)}, expected {string.Join(',', expected)}");
        }

        return took / options.GossipInterval;
    }
}
