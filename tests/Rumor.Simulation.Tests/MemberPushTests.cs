using Rumor.Core;
using Xunit.Abstractions;

namespace Rumor.Simulation.Tests;

/// <summary>
/// MemberImmediatePush (PROTOCOL.md, "A member's news at once"): a member a node hears of for the
/// first time goes out in one extra gossip round at once, at most one such round per quarter of
/// GossipInterval. Same seeds, clusters started 5 ms apart, the option on and off: the time until
/// every node lists every other alive must drop, the extra rounds must respect their spacing, and
/// a steady cluster (no new member) must send none.
/// </summary>
public class MemberPushTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(20, 0.6)]
    [InlineData(60, 0.75)]
    public void Pushing_a_new_member_at_once_converges_a_starting_cluster_sooner(int nodes, double ratioMax)
    {
        const int Seeds = 20;
        double on = 0, off = 0;
        long packetsOn = 0, packetsOff = 0;
        for (ulong seed = 2101; seed < 2101 + Seeds; seed++)
        {
            (double seconds, long packets) = SecondsToAgree(seed, nodes, push: true);
            on += seconds;
            packetsOn += packets;
            (seconds, packets) = SecondsToAgree(seed, nodes, push: false);
            off += seconds;
            packetsOff += packets;
        }

        double ratio = on / off;
        output.WriteLine($"N = {nodes}, {Seeds} seeds from 2101, started 5 ms apart: mean {on / Seeds:F3} s with the push, {off / Seeds:F3} s without ({ratio:F2}×); packets sent per node until agreement {(double)packetsOn / Seeds / nodes:F1} with, {(double)packetsOff / Seeds / nodes:F1} without");
        Assert.True(ratio <= ratioMax, $"N = {nodes}: the push took {on / Seeds:F3} s on average against {off / Seeds:F3} s without it ({ratio:F2}×, at most {ratioMax} expected)");
    }

    [Fact]
    public void The_extra_rounds_keep_their_spacing_and_a_steady_cluster_sends_none()
    {
        const int Nodes = 60;
        GossipOptions options = Sim.Lan;
        TimeSpan spacing = options.GossipInterval / 4;
        foreach (ulong seed in new ulong[] { 2201, 2202, 2203 })
        {
            SimCluster cluster = Sim.Cluster(seed, Nodes, options);
            cluster.StartAll(TimeSpan.FromMilliseconds(5));
            TimeSpan start = cluster.Now;
            Sim.Converge(cluster, TimeSpan.FromSeconds(30), "initial join");
            // A round put off by the spacing may still be due just after the views agree.
            cluster.RunFor(options.GossipInterval);
            TimeSpan elapsed = cluster.Now - start;
            long most = (long)(elapsed / spacing) + 1;
            long[] pushes = [.. cluster.Nodes.Select(n => n.LiveNode.Counters.MemberPushes)];
            output.WriteLine($"seed {seed}: agreed, plus one interval, after {elapsed.TotalSeconds:F2} s; member pushes per node {pushes.Min()}–{pushes.Max()} (at most {most} allowed by the spacing)");
            Assert.All(pushes, p => Assert.InRange(p, 1, most));

            cluster.RunFor(TimeSpan.FromSeconds(60));
            long[] later = [.. cluster.Nodes.Select(n => n.LiveNode.Counters.MemberPushes)];
            Assert.Equal(pushes, later);
            Sim.NoViolations(cluster);
        }
    }

    private static (double Seconds, long Packets) SecondsToAgree(ulong seed, int nodes, bool push)
    {
        SimCluster cluster = Sim.Cluster(seed, nodes, Sim.Lan with { MemberImmediatePush = push });
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        TimeSpan took = Sim.Converge(cluster, TimeSpan.FromSeconds(120), $"push {push}, {nodes} members", checkEvery: TimeSpan.FromMilliseconds(5));

        if (!push && cluster.Nodes.Any(n => n.LiveNode.Counters.MemberPushes != 0))
        {
            Sim.Fail(cluster, "a member push was counted with the option off");
        }

        return (took.TotalSeconds, cluster.Nodes.Sum(n => n.LiveNode.Counters.PacketsSent));
    }
}
