using System.Diagnostics;
using System.Net;
using System.Text;
using Rumor.Core;

namespace Rumor.Hosting.Tests;

/// <summary>
/// Fifty nodes in one process over real loopback sockets (<see cref="InProcessCluster"/>, the engine
/// of <c>rumor cluster</c>): they converge, a key and an event reach every node, and a killed node
/// is declared failed by every survivor. Every wait is bounded; nothing asserts a speed.
/// </summary>
public sealed class InProcessClusterTests
{
    private const int Nodes = 50;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    /// <summary>
    /// One loopback address per node (127.X.Y.1 to .50, X and Y drawn per run) on one port, so the
    /// test cannot collide with ports other tests take on 127.0.0.1.
    /// </summary>
    private static InProcessClusterOptions Options()
    {
        byte second = (byte)Random.Shared.Next(100, 200);
        byte third = (byte)Random.Shared.Next(1, 250);
        return new InProcessClusterOptions
        {
            Nodes = Nodes,
            FirstAddress = NodeAddress.From(new IPAddress([127, second, third, 1]), 7946),
            Addressing = ClusterAddressing.Hosts,
            Template = new RumorOptions
            {
                Preset = "local",
                ProbeInterval = TimeSpan.FromMilliseconds(500),
                ProbeTimeout = TimeSpan.FromMilliseconds(250),
                SuspicionMultiplier = 3,
            },
            RandomSeed = 1600,
        };
    }

    [Fact]
    public async Task Fifty_real_socket_nodes_converge_spread_a_key_and_an_event_and_detect_a_killed_node()
    {
        InProcessClusterOptions options = Options();
        await using InProcessCluster cluster = await InProcessCluster.StartAsync(options).WaitAsync(Bound);
        Assert.Equal(Nodes, cluster.Count);
        Assert.Equal(options.FirstAddress, cluster[0].Address);
        Assert.Equal(InProcessCluster.AddressOf(options, Nodes - 1), cluster[Nodes - 1].Address);

        Assert.True(await cluster.WaitUntilConvergedAsync(Bound, TimeSpan.FromMilliseconds(50)), Describe(cluster, "did not converge"));
        ClusterSummary converged = cluster.Summary();
        Assert.Equal(Nodes, converged.Running);
        Assert.Equal(Nodes, converged.Converged);
        Assert.All(Enumerable.Range(0, Nodes), i => Assert.Equal(Nodes, cluster.MembersOf(i).Count));

        await cluster.SetAsync(3, "config/color", Encoding.UTF8.GetBytes("blue"));
        await cluster.SendEventAsync(7, "deploy", Encoding.UTF8.GetBytes("v2"));
        string key = InProcessCluster.KeyKey(cluster[3].Name, "config/color");
        string userEvent = InProcessCluster.EventKey("deploy");
        Assert.True(await WaitAsync(() => cluster.Spread(key).Reached == Nodes && cluster.Spread(userEvent).Reached == Nodes), Describe(cluster, "the key or the event did not reach everyone", key, userEvent));
        SpreadReport keySpread = cluster.Spread(key);
        Assert.Equal(Nodes, keySpread.Running);
        Assert.NotNull(keySpread.AllMs);
        Assert.NotNull(cluster.Spread(userEvent).AllMs);

        string victim = cluster[10].Name;
        TrafficReport beforeKill = await cluster.TrafficAsync();
        Assert.True(await cluster.KillAsync(10));

        // The killed node's counters stay in the health sums as of its kill, so they never go down
        // (without that, this read right after the kill would lose node-10's probes).
        TrafficReport afterKill = await cluster.TrafficAsync();
        Assert.True(afterKill.Health.ProbesSent >= beforeKill.Health.ProbesSent, $"probes sent fell from {beforeKill.Health.ProbesSent} to {afterKill.Health.ProbesSent} across the kill");
        Assert.False(await cluster.KillAsync(10));
        await Assert.ThrowsAsync<RumorNodeNotRunningException>(() => cluster.SetAsync(10, "k", [1]));
        string dead = InProcessCluster.DeadKey(victim);
        Assert.True(await WaitAsync(() => cluster.Spread(dead).Reached == Nodes - 1), Describe(cluster, $"not every survivor declared {victim} failed", dead));
        SpreadReport detection = cluster.Spread(dead);
        Assert.Equal(Nodes - 1, detection.Running);
        Assert.NotNull(detection.AllMs);
        Assert.True(detection.AllMs > 0);

        // The first verdict on the cluster's clock is the kill's moment plus the first arrival after it.
        Assert.Equal(detection.OriginMs!.Value + detection.FirstMs!.Value, detection.FirstAtMs!.Value, 3);
        Assert.Null(cluster.Spread(InProcessCluster.DeadKey(cluster[11].Name)).FirstAtMs);

        // Every survivor sees exactly the survivors alive; no live node was declared failed.
        Assert.True(await cluster.WaitUntilConvergedAsync(Bound, TimeSpan.FromMilliseconds(50)), Describe(cluster, "did not converge after the kill"));
        Assert.All(Enumerable.Range(0, Nodes).Where(i => i != 10), i => Assert.Equal(0, cluster.Spread(InProcessCluster.DeadKey(cluster[i].Name)).Reached));

        TrafficReport traffic = await cluster.TrafficAsync();
        Assert.Equal(Nodes - 1, traffic.Nodes);
        Assert.Equal(traffic.DatagramPayloadBytes + (traffic.Datagrams * InProcessCluster.DatagramHeaderBytes), traffic.DatagramBytesWithHeaders);
        Assert.True(traffic.Datagrams > 0);

        // The health sums: the survivors probed, and suspected the victim on their own probes.
        Assert.True(traffic.Health.ProbesSent > 0);
        Assert.True(traffic.Health.ProbesFailed > 0 && traffic.Health.SuspicionsRaised > 0, $"probes failed {traffic.Health.ProbesFailed}, suspicions {traffic.Health.SuspicionsRaised} after a kill");
        Assert.True(traffic.Health.ProbesFailed > beforeKill.Health.ProbesFailed);
    }

    [Fact]
    public async Task A_taken_address_fails_the_start_and_stops_the_nodes_started()
    {
        InProcessClusterOptions options = Options() with { Nodes = 4 };
        await using (InProcessCluster blocker = await InProcessCluster.StartAsync(options with { Nodes = 1, FirstAddress = InProcessCluster.AddressOf(options, 2) }).WaitAsync(Bound))
        {
            await Assert.ThrowsAsync<Rumor.Transport.TransportBindException>(() => InProcessCluster.StartAsync(options).WaitAsync(Bound));
        }

        // The failed start released what it bound: the same addresses start now.
        await using InProcessCluster again = await InProcessCluster.StartAsync(options).WaitAsync(Bound);
        Assert.Equal(4, again.Summary().Running);
    }

    [Fact]
    public void Options_are_validated_and_addresses_follow_the_scheme()
    {
        Assert.NotEmpty(new InProcessClusterOptions { Nodes = 0 }.Validate());
        Assert.NotEmpty(new InProcessClusterOptions { Nodes = 10, FirstAddress = NodeAddress.Parse("127.0.0.1:65530") }.Validate());
        Assert.NotEmpty(new InProcessClusterOptions { FirstAddress = NodeAddress.Parse("127.0.0.1:0") }.Validate());
        Assert.Empty(new InProcessClusterOptions { Nodes = 1000 }.Validate());
        Assert.Equal(NodeAddress.Parse("127.0.0.1:20999"), InProcessCluster.AddressOf(new InProcessClusterOptions(), 999));
        Assert.Equal(NodeAddress.Parse("127.0.1.4:7946"), InProcessCluster.AddressOf(new InProcessClusterOptions { FirstAddress = NodeAddress.Parse("127.0.0.255:7946"), Addressing = ClusterAddressing.Hosts }, 5));
    }

    private static async Task<bool> WaitAsync(Func<bool> condition)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (!condition())
        {
            if (waited.Elapsed > Bound)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    private static string Describe(InProcessCluster cluster, string what, params string[] tracked)
    {
        ClusterSummary summary = cluster.Summary();
        StringBuilder text = new($"{what}: {summary.Converged} of {summary.Running} running nodes converged, {summary.SeeAllRunningAlive} see all running alive, {summary.JoinsFailed} joins failed.");
        foreach (string t in tracked)
        {
            SpreadReport spread = cluster.Spread(t);
            text.Append($" {t}: {spread.Reached} of {spread.Running}.");
        }

        return text.ToString();
    }
}
