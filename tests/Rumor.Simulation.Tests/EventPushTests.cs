using Rumor.Core;
using Rumor.Core.Events;
using Xunit.Abstractions;

namespace Rumor.Simulation.Tests;

/// <summary>
/// EventImmediatePush (PROTOCOL.md, "User events"): a new event goes to the fanout at once on the
/// sender and on every first receipt, instead of waiting for the next gossip round. Same seeds,
/// same cluster, the option on and off: the time until every node delivered must drop.
/// </summary>
public class EventPushTests(ITestOutputHelper output)
{
    private const int Nodes = 50;

    [Fact]
    public void Pushing_new_events_at_once_delivers_to_everyone_in_fewer_rounds_than_waiting_for_the_round()
    {
        ulong[] seeds = [1601, 1602, 1603, 1604, 1605];
        double onTotal = 0, offTotal = 0;
        foreach (ulong seed in seeds)
        {
            double on = RoundsToDeliverToAll(seed, push: true);
            double off = RoundsToDeliverToAll(seed, push: false);
            output.WriteLine($"seed {seed}: push on {on:F2} rounds, off {off:F2} rounds (GossipInterval {Sim.Lan.GossipInterval.TotalMilliseconds} ms, N = {Nodes})");
            onTotal += on;
            offTotal += off;
        }

        double onMean = onTotal / seeds.Length, offMean = offTotal / seeds.Length;
        output.WriteLine($"mean: on {onMean:F2}, off {offMean:F2} rounds");

        // Without the push both runs are the same protocol and the means are equal.
        Assert.True(onMean < offMean - 0.5, $"push on took {onMean:F2} rounds on average against {offMean:F2} with it off (seeds {string.Join(',', seeds)})");
    }

    /// <summary>Rounds of GossipInterval from the send until the last of <see cref="Nodes"/> nodes delivered; every node exactly once.</summary>
    private static double RoundsToDeliverToAll(ulong seed, bool push)
    {
        GossipOptions options = Sim.Lan with { EventImmediatePush = push };
        SimCluster cluster = Sim.Cluster(seed, Nodes, options);
        Dictionary<string, int> deliveries = new(StringComparer.Ordinal);
        TimeSpan last = TimeSpan.Zero;
        cluster.Observe((node, e) =>
        {
            if (e is UserEventReceived { Event.Name: "push" })
            {
                deliveries[node.Name] = deliveries.GetValueOrDefault(node.Name) + 1;
                last = cluster.Now;
            }
        });
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(60), $"{Nodes} nodes join (push {push})");

        // Let the join's broadcasts drain so the event travels alone.
        cluster.RunFor(TimeSpan.FromSeconds(10));
        TimeSpan sentAt = cluster.Now;
        cluster.Nodes[7].Command((n, now) => n.SendEvent("push", [1], now));
        if (cluster.RunUntil(() => deliveries.Count == Nodes, TimeSpan.FromSeconds(30)) is null)
        {
            Sim.Fail(cluster, $"push {push}: only {deliveries.Count} of {Nodes} nodes delivered the event within 30 s");
        }

        cluster.RunFor(TimeSpan.FromSeconds(5)); // copies still in flight must not deliver twice
        if (deliveries.Values.Any(count => count != 1))
        {
            Sim.Fail(cluster, $"push {push}: some node delivered the event more than once");
        }

        return (last - sentAt) / options.GossipInterval;
    }
}
