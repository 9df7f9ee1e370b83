using Rumor.Core;
using Rumor.Core.Events;
using Rumor.Core.Membership;

namespace Rumor.Simulation.Tests;

public class QueryTests
{
    // 2 % loss: the query is broadcast (redundant), each response is sent QueryResponseCopies (2)
    // times, so for this seed every answer arrives; a lost pair of copies would show as missing.
    [Fact]
    public void A_tag_filtered_query_gets_exactly_the_matching_nodes_answers_and_sees_a_crashed_one_missing()
    {
        SimCluster cluster = new(new SimulationOptions { Seed = Sim.SeedOr(6006), Gossip = Sim.Lan, Network = new NetworkOptions { LossProbability = 0.02 } });
        cluster.AddNodes(40, node => Sim.Lan with
        {
            Seeds = cluster.SeedAddresses,
            Metadata = MemberTags.Encode([new("role", node.Index % 4 == 0 ? "db" : "web")]),
        });
        foreach (SimNode node in cluster.Nodes)
        {
            cluster.Start(node);
            node.LiveNode.QueryResponder = request => System.Text.Encoding.UTF8.GetBytes("from " + request.Asker);
        }

        Sim.Converge(cluster, TimeSpan.FromSeconds(60), "40 nodes join");
        string[] dbNodes = [.. cluster.Nodes.Where(n => n.Index % 4 == 0).Select(n => n.Name).Order(StringComparer.Ordinal)];
        Dictionary<string, string> filter = new() { ["role"] = "db" };
        SimNode asker = cluster.Nodes[1];
        ulong id = asker.Command((n, now) => n.Query("who", [], filter, TimeSpan.FromSeconds(10), now));
        cluster.RunUntil(() => asker.LiveNode.GetQueryResult(id)!.Done, TimeSpan.FromSeconds(11));
        QueryResult result = asker.LiveNode.GetQueryResult(id)!;
        Assert.True(result.Done);
        Assert.Equal(dbNodes, result.Expected);
        Assert.Equal(dbNodes, result.Responses.Select(r => r.From).Order(StringComparer.Ordinal));
        Assert.Empty(result.Missing);

        // One db node crashes; the next query (asked before anyone noticed) names it as missing.
        SimNode crashed = cluster.Nodes[8];
        cluster.Crash(crashed);
        ulong second = asker.Command((n, now) => n.Query("who", [], filter, TimeSpan.FromSeconds(3), now));
        cluster.RunFor(TimeSpan.FromSeconds(4));
        QueryResult after = asker.LiveNode.GetQueryResult(second)!;
        Assert.True(after.Done);
        Assert.Equal([crashed.Name], after.Missing);
        Assert.Equal(dbNodes.Where(n => n != crashed.Name), after.Responses.Select(r => r.From).Order(StringComparer.Ordinal));
    }
}
