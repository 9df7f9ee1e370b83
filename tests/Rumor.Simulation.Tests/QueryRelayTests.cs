using System.Globalization;
using Rumor.Core;
using Rumor.Core.Events;
using Rumor.Core.Membership;

namespace Rumor.Simulation.Tests;

/// <summary>
/// A query at three members (the local preset: two transmissions per node in all) reaches both other
/// members. A fresh-clone CI run saw agent b never answer: the real loop reads waiting datagrams
/// before it fires the push round, so the query's first transmission could ride the ack to c's ping,
/// and c's own two could go back to a, the member that sent it. Without the push round the simulator
/// shows the same (3 of 1,200 queries missed a member at 0 % loss before a message learned from a
/// member was never sent back to it); with it, both members must answer every query.
/// </summary>
public class QueryRelayTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_query_at_three_members_reaches_both_others_when_its_transmissions_start_on_probe_traffic(bool immediatePush)
    {
        List<string> misses = [];
        int asked = 0;
        for (ulong seed = 1; seed <= 40; seed++)
        {
            GossipOptions local = GossipOptions.Local with { EventImmediatePush = immediatePush };
            SimCluster cluster = new(new SimulationOptions { Seed = seed, Gossip = local });
            cluster.AddNodes(3, node => local with
            {
                Seeds = cluster.SeedAddresses,
                Metadata = MemberTags.Encode([new("role", node.Index == 0 ? "db" : "web")]),
            });
            foreach (SimNode node in cluster.Nodes)
            {
                cluster.Start(node);
                node.LiveNode.QueryResponder = _ => [1];
            }

            Sim.Converge(cluster, TimeSpan.FromSeconds(30), "3 nodes join");
            SimNode asker = cluster.Nodes[0];
            Dictionary<string, string> filter = new() { ["role"] = "web" };
            for (int q = 0; q < 30; q++)
            {
                // Queries at times spread over the probe period, each after a user event as the
                // end-to-end test sends them.
                asker.Command((n, now) => n.SendEvent("warm", [1], now));
                cluster.RunFor(TimeSpan.FromMilliseconds(137 * ((q % 7) + 1)));
                ulong id = asker.Command((n, now) => n.Query("rumor.ping", [], filter, TimeSpan.FromSeconds(10), now));
                cluster.RunUntil(() => asker.LiveNode.GetQueryResult(id)!.Done, TimeSpan.FromSeconds(11));
                QueryResult result = asker.LiveNode.GetQueryResult(id)!;
                asked++;
                if (!result.Done || result.Missing.Count > 0)
                {
                    misses.Add(string.Create(CultureInfo.InvariantCulture, $"seed {seed}, query {q}: missing {string.Join(", ", result.Missing)}"));
                }
            }
        }

        Assert.True(misses.Count == 0, $"{misses.Count} of {asked} queries missed a member:\n{string.Join("\n", misses)}");
    }
    /// <summary>
    /// The end-to-end key rotation's case (stop 47's CI failure): three members, c crashed and dead
    /// to a and b, a asks. Within GossipToTheDeadTime a's gossip rounds go to b and to the dead c, and
    /// the query has two transmissions; the kernel's sampler, 9 random draws over 3 members, left b
    /// out of 2.6 % of the rounds, so both could go to c: with that sampler put back, 15 of these
    /// 1,200 queries missed b. It now counts the members left when its draws run out short, and b must
    /// answer every query.
    /// </summary>
    [Fact]
    public void Every_query_reaches_the_live_member_while_the_third_is_dead_and_still_gossiped_to()
    {
        List<string> misses = [];
        int asked = 0;
        for (ulong seed = 1; seed <= 40; seed++)
        {
            GossipOptions local = GossipOptions.Local;
            SimCluster cluster = new(new SimulationOptions { Seed = seed, Gossip = local });
            cluster.AddNodes(3, _ => local with { Seeds = cluster.SeedAddresses });
            foreach (SimNode node in cluster.Nodes)
            {
                cluster.Start(node);
                node.LiveNode.QueryResponder = _ => [1];
            }

            Sim.Converge(cluster, TimeSpan.FromSeconds(30), "3 nodes join");
            SimNode asker = cluster.Nodes[0];
            SimNode dead = cluster.Nodes[2];
            cluster.Crash(dead);
            if (cluster.RunUntil(() => cluster.Nodes.Where(n => n.IsUp).All(n => n.StateOf(dead.Name) == MemberState.Dead), TimeSpan.FromSeconds(30)) is null)
            {
                Sim.Fail(cluster, $"seed {seed}: {dead.Name} was not dead to both others within 30 s of its crash");
            }

            // 30 queries in about 9 s, inside the local preset's 15 s of gossip to the dead.
            for (int q = 0; q < 30; q++)
            {
                cluster.RunFor(TimeSpan.FromMilliseconds(97 * ((q % 5) + 1)));
                ulong id = asker.Command((n, now) => n.Query("rumor.ping", [], null, TimeSpan.FromSeconds(5), now));
                cluster.RunUntil(() => asker.LiveNode.GetQueryResult(id)!.Done, TimeSpan.FromSeconds(6));
                QueryResult result = asker.LiveNode.GetQueryResult(id)!;
                asked++;
                Assert.Equal(2, result.Expected.Count);
                if (!result.Done || result.Missing.Count > 0)
                {
                    misses.Add(string.Create(CultureInfo.InvariantCulture, $"seed {seed}, query {q}: missing {string.Join(", ", result.Missing)}"));
                }
            }
        }

        Assert.True(misses.Count == 0, $"{misses.Count} of {asked} queries missed the live member:\n{string.Join("\n", misses)}");
    }
}
