using Rumor.Core;
using Rumor.Core.Events;
using Xunit.Abstractions;

namespace Rumor.Simulation.Tests;

/// <summary>
/// GossipNode.NextWakeDue (what the transport's loop sleeps until): an idle node is not woken for
/// gossip rounds that have nothing to send, sends the same as when it is, takes none of the late
/// rounds for a stall of its own, and still sends a new broadcast at once.
/// </summary>
public class IdleWakeTests(ITestOutputHelper output)
{
    private const int Nodes = 10;

    [Fact]
    public void Sleeping_through_idle_gossip_rounds_wakes_less_and_sends_the_same()
    {
        (long offWakes, long offPackets, _) = RunIdle(sleep: false);
        (long onWakes, long onPackets, SimCluster on) = RunIdle(sleep: true);
        output.WriteLine($"30 s idle, {Nodes} nodes: wakes {offWakes} ticking every timer, {onWakes} sleeping through idle rounds; datagrams sent {offPackets} / {onPackets}");

        // Idle, a LAN node has 5 gossip rounds a second against 1 probe round (and its ack deadlines).
        Assert.True(onWakes * 2 < offWakes, $"sleeping through idle rounds woke {onWakes} times against {offWakes}");
        Assert.Equal(offPackets, onPackets);
        Assert.All(on.Nodes, n => Assert.Equal(0, n.LiveNode.Counters.LocalStalls));

        // A broadcast queued while its round is slept through still goes out: an event reaches everyone.
        HashSet<string> delivered = new(StringComparer.Ordinal);
        on.Observe((node, e) =>
        {
            if (e is UserEventReceived { Event.Name: "after-idle" })
            {
                delivered.Add(node.Name);
            }
        });
        on.Nodes[3].Command((n, now) => n.SendEvent("after-idle", [1], now));
        if (on.RunUntil(() => delivered.Count == Nodes, TimeSpan.FromSeconds(30)) is null)
        {
            Sim.Fail(on, $"only {delivered.Count} of {Nodes} nodes delivered an event sent after 30 s idle");
        }
    }

    private static (long Wakes, long Packets, SimCluster Cluster) RunIdle(bool sleep)
    {
        SimCluster cluster = new(new SimulationOptions { Seed = Sim.SeedOr(1616), Gossip = Sim.Lan, SleepThroughIdleRounds = sleep });
        cluster.AddNodes(Nodes);
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(60), $"{Nodes} nodes join (sleep {sleep})");
        cluster.RunFor(TimeSpan.FromSeconds(20)); // the join's broadcasts drain
        if (cluster.Nodes.Any(n => n.LiveNode.PendingBroadcasts > 0))
        {
            Sim.Fail(cluster, $"sleep {sleep}: broadcasts still queued 20 s after convergence; not idle");
        }

        long wakes = cluster.Nodes.Sum(n => n.Wakes), packets = cluster.Nodes.Sum(n => n.LiveNode.Counters.PacketsSent);
        cluster.RunFor(TimeSpan.FromSeconds(30));
        return (cluster.Nodes.Sum(n => n.Wakes) - wakes, cluster.Nodes.Sum(n => n.LiveNode.Counters.PacketsSent) - packets, cluster);
    }
}
