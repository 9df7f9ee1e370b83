using Rumor.Core;
using Rumor.Core.Events;
using Rumor.Simulation.Experiments;
using Xunit.Abstractions;

namespace Rumor.Simulation.Tests;

public class EventTests(ITestOutputHelper output)
{
    [Fact]
    public void An_event_reaches_every_one_of_500_nodes_exactly_once_under_5_percent_loss()
    {
        SimCluster cluster = Sim.Cluster(seed: 5005, nodes: 500, network: new NetworkOptions { LossProbability = 0.05 });
        Dictionary<string, int> deliveries = new(StringComparer.Ordinal);
        cluster.Observe((node, e) =>
        {
            if (e is UserEventReceived { Event.Name: "deploy" })
            {
                deliveries[node.Name] = deliveries.GetValueOrDefault(node.Name) + 1;
            }
        });
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(120), "500 nodes join under 5% loss");
        SimNode sender = cluster.Nodes[17];
        UserEvent sent = sender.Command((n, now) => n.SendEvent("deploy", [1, 2, 3], now));

        // Bound: rumor mongering reaches almost everyone in a few seconds; digest rounds (every 2 s)
        // repair the residue. 60 s of virtual time is ample and deterministic.
        TimeSpan? took = cluster.RunUntil(() => deliveries.Count == 500, TimeSpan.FromSeconds(60));
        if (took is null)
        {
            Sim.Fail(cluster, $"only {deliveries.Count} of 500 nodes delivered {sent.Id} within 60 s");
        }

        cluster.RunFor(TimeSpan.FromSeconds(30)); // late copies and repairs must not deliver twice
        int twice = deliveries.Count(d => d.Value != 1);
        long repaired = cluster.Nodes.Sum(n => n.LiveNode.Counters.EventsRepaired);
        output.WriteLine($"all 500 delivered after {took!.Value.TotalSeconds:F1} s; {repaired} repairs by anti-entropy");
        if (twice != 0)
        {
            Sim.Fail(cluster, $"{twice} nodes delivered the event more than once");
        }

        Assert.All(cluster.Nodes, n => Assert.Contains(n.LiveNode.RecentEvents, e => e.Id == sent.Id));
    }

    [Fact]
    public void Anti_entropy_takes_the_residue_to_zero_where_rumor_mongering_alone_leaves_some()
    {
        // Harsh: 20 % loss and one transmission round per node (m = 1).
        EventResidueResult off = EventExperiments.Residue(60, 0.20, 1, antiEntropy: false, events: 10, seed: Sim.SeedOr(9), checkpointsSeconds: [30]);
        EventResidueResult on = EventExperiments.Residue(60, 0.20, 1, antiEntropy: true, events: 10, seed: Sim.SeedOr(9), checkpointsSeconds: [30]);
        output.WriteLine($"residue after 30 s: off {off.ResidueAt[0].Residue:0.0000}, on {on.ResidueAt[0].Residue:0.0000}; repairs {on.Repairs}");
        Assert.True(off.ResidueAt[0].Residue > 0, "rumor mongering alone reached everyone; the experiment is too mild to show anything");
        Assert.Equal(0, on.ResidueAt[0].Residue);
        Assert.Equal(0, on.Duplicates + off.Duplicates);
    }

    [Fact]
    public void A_coalesced_burst_delivers_only_its_newest_event_everywhere()
    {
        SimCluster cluster = Sim.Cluster(seed: 5150, nodes: 50);
        List<(string Node, EventId Id)> delivered = [];
        cluster.Observe((node, e) =>
        {
            if (e is UserEventReceived r)
            {
                delivered.Add((node.Name, r.Event.Id));
            }
        });
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(60), "50 nodes join");
        SimNode sender = cluster.Nodes[4];

        // Three versions of a configuration 300 ms apart (window 2 s): one chain.
        List<UserEvent> burst = [];
        for (int i = 0; i < 3; i++)
        {
            burst.Add(sender.Command((n, now) => n.SendEvent("config", [(byte)i], now, coalesce: true)));
            cluster.RunFor(TimeSpan.FromMilliseconds(300));
        }

        cluster.RunFor(TimeSpan.FromSeconds(30));
        Assert.Equal(50, delivered.Count(d => d.Id == burst[2].Id));
        Assert.Equal(50, delivered.Select(d => d.Node).Distinct().Count());
        if (delivered.Any(d => d.Id != burst[2].Id))
        {
            Sim.Fail(cluster, $"{delivered.Count(d => d.Id != burst[2].Id)} deliveries of replaced events (spread within 600 ms should replace them everywhere)");
        }
    }

    [Fact]
    public void Same_seed_same_event_trace()
    {
        Assert.Equal(Run(77), Run(77));
    }

    private static string Run(ulong seed)
    {
        SimCluster cluster = Sim.Cluster(seed, nodes: 30, network: new NetworkOptions { LossProbability = 0.05 });
        List<string> trace = [];
        cluster.Observe((node, e) =>
        {
            if (e is UserEventReceived r)
            {
                trace.Add($"{r.At.Ticks} {node.Name} {r.Event.Id} {r.Event.LamportTime}");
            }
        });
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        cluster.RunFor(TimeSpan.FromSeconds(20));
        cluster.Nodes[3].Command((n, now) => n.SendEvent("a", [1], now));
        cluster.Nodes[9].Command((n, now) => n.SendEvent("b", [2], now, coalesce: true));
        cluster.RunFor(TimeSpan.FromSeconds(30));
        Assert.Equal(60, trace.Count);
        return string.Join('\n', trace);
    }
}
