using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Rumor.Serf.Wire;

namespace Rumor.Serf.Tests;

/// <summary>
/// A Rumor <see cref="SerfNode"/> against three real <c>serf agent</c> processes on loopback. Each
/// test has its own cluster on its own 127.83.c.0/24 addresses; the collection runs them one at a time.
/// </summary>
[Collection(nameof(SerfInteropCollection))]
public sealed class SerfInteropTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static SerfNode StartNode(int cluster, Dictionary<string, string>? tags = null, SerfKeyring? keyring = null) => SerfNode.Start(new SerfNodeOptions
    {
        Keyring = keyring,
        Name = "rumor",
        Bind = new IPEndPoint(SerfAgentCluster.AgentAddress(cluster, 10), SerfAgentCluster.GossipPort),
        Tags = tags ?? new Dictionary<string, string> { ["role"] = "rumor", ["lang"] = "csharp" },
        RandomSeed = cluster,
    });

    [Fact]
    public async Task Rumor_node_joins_and_serf_lists_it_alive_with_its_tags()
    {
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(cluster: 1, count: 3);
        await using SerfNode node = StartNode(1);

        int joined = await node.JoinAsync([agents.GossipEndPoint(1)]);
        Assert.Equal(1, joined);

        for (int k = 1; k <= 3; k++)
        {
            await agents.WaitForAsync(k, members => members.Any(m => m.Name == "rumor" && m.Status == "alive"
                && m.Tags.GetValueOrDefault("role") == "rumor" && m.Tags.GetValueOrDefault("lang") == "csharp"
                && m.Addr == $"{SerfAgentCluster.AgentAddress(1, 10)}:{SerfAgentCluster.GossipPort}"), $"serf{k} lists rumor alive with its tags");
        }

        // And the Rumor node sees the three agents alive with their tags (learned by push/pull and gossip).
        Assert.True(await Wait.UntilAsync(() => node.Members.Count(m => m.Name.StartsWith("serf", StringComparison.Ordinal) && m.Status == SerfMemberStatus.Alive) == 3, Bound),
            string.Join(", ", node.Members));
        SerfMember serf2 = node.FindMember("serf2")!;
        Assert.Equal("serf", serf2.Tags["role"]);
        Assert.Equal("2", serf2.Tags["idx"]);
    }

    [Fact]
    public async Task A_serf_user_event_reaches_the_rumor_node()
    {
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(cluster: 2, count: 3);
        await using SerfNode node = StartNode(2);
        ConcurrentQueue<SerfUserEvent> received = new();
        node.UserEventReceived += received.Enqueue;
        await node.JoinAsync([agents.GossipEndPoint(1)]);
        await agents.WaitForAsync(3, members => members.Any(m => m.Name == "rumor" && m.Status == "alive"), "serf3 lists rumor alive");

        await agents.SendEventAsync(3, "deploy", "v42");

        Assert.True(await Wait.UntilAsync(() => received.Any(e => e.Name == "deploy"), Bound), "the event did not arrive");
        SerfUserEvent e = Assert.Single(received, e => e.Name == "deploy");
        Assert.Equal("v42", Encoding.UTF8.GetString(e.Payload));
        Assert.False(e.Coalesce);
    }

    [Fact]
    public async Task A_rumor_user_event_runs_every_serf_agents_handler()
    {
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(cluster: 3, count: 3);
        await using SerfNode node = StartNode(3);
        await node.JoinAsync([agents.GossipEndPoint(2)]);
        for (int k = 1; k <= 3; k++)
        {
            await agents.WaitForAsync(k, members => members.Any(m => m.Name == "rumor" && m.Status == "alive"), $"serf{k} lists rumor alive");
        }

        node.SendUserEvent("hello-from-rumor", Encoding.UTF8.GetBytes("payload-7"));

        for (int k = 1; k <= 3; k++)
        {
            string log = agents.EventLog(k);
            bool ran = await Wait.UntilAsync(() => File.Exists(log) && File.ReadAllText(log).Contains($"serf{k} hello-from-rumor payload-7", StringComparison.Ordinal), Bound);
            Assert.True(ran, $"serf{k}'s handler did not run the event; log: {(File.Exists(log) ? File.ReadAllText(log) : "(none)")}\n{agents.LogTail(k)}");
        }
    }

    [Fact]
    public async Task Serf_decodes_our_lzw_compressed_push_pull_and_gossip()
    {
        // Compression on (Serf's default, and ours): the join's push/pull goes out LZW-compressed,
        // so the join succeeds and serf lists us only if Serf decodes our LZW; the event goes out
        // in compressed gossip compounds.
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(cluster: 14, count: 3);
        await using SerfNode node = SerfNode.Start(new SerfNodeOptions
        {
            Name = "rumor",
            Bind = new IPEndPoint(SerfAgentCluster.AgentAddress(14, 10), SerfAgentCluster.GossipPort),
            Tags = new Dictionary<string, string> { ["role"] = "rumor", ["note"] = new string('z', 200) },
            EnableCompression = true,
            RandomSeed = 14,
        });
        Assert.Equal(1, await node.JoinAsync([agents.GossipEndPoint(1)]));
        await agents.WaitForAsync(1, members => members.Any(m => m.Name == "rumor" && m.Status == "alive" && m.Tags.GetValueOrDefault("note")?.Length == 200), "serf1 lists rumor with its tags");

        long before = node.Counters.PacketsCompressed;
        node.SendUserEvent("compressed-event", Encoding.UTF8.GetBytes(new string('y', 300)));
        for (int k = 1; k <= 3; k++)
        {
            string log = agents.EventLog(k);
            Assert.True(await Wait.UntilAsync(() => File.Exists(log) && File.ReadAllText(log).Contains($"serf{k} compressed-event yyy", StringComparison.Ordinal), Bound),
                $"serf{k}'s handler did not run the compressed event\n{agents.LogTail(k)}");
        }

        Assert.True(node.Counters.PacketsCompressed > before, "no datagram was sent compressed");
    }

    [Fact]
    public async Task A_serf_query_is_answered_by_the_rumor_node_and_its_filters_are_honoured()
    {
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(cluster: 9, count: 3);
        await using SerfNode node = StartNode(9);
        ConcurrentQueue<SerfQuery> asked = new();
        node.QueryHandler = q =>
        {
            asked.Enqueue(q);
            return q.Name == "whoami" ? Encoding.UTF8.GetBytes("rumor heard " + Encoding.UTF8.GetString(q.Payload)) : null;
        };
        await node.JoinAsync([agents.GossipEndPoint(1)]);
        for (int k = 1; k <= 3; k++)
        {
            await agents.WaitForAsync(k, members => members.Any(m => m.Name == "rumor" && m.Status == "alive"), $"serf{k} lists rumor alive");
        }

        string all = await agents.QueryAsync(2, "whoami", "ping-7");
        Assert.Contains("Ack from 'rumor'", all, StringComparison.Ordinal);
        Assert.Contains("Response from 'rumor': rumor heard ping-7", all, StringComparison.Ordinal);
        SerfQuery seen = Assert.Single(asked);
        Assert.Equal(("whoami", "serf2"), (seen.Name, seen.SourceNode));

        // A node filter that leaves it out: no ack, no handler call.
        string others = await agents.QueryAsync(2, "-node=serf1", "-node=serf3", "whoami", "ping-8");
        Assert.DoesNotContain("'rumor'", others, StringComparison.Ordinal);
        Assert.Contains("Ack from 'serf1'", others, StringComparison.Ordinal);

        // A tag filter that selects only it.
        string tagged = await agents.QueryAsync(1, "-tag", "lang=c.*", "whoami", "ping-9");
        Assert.Contains("Response from 'rumor': rumor heard ping-9", tagged, StringComparison.Ordinal);
        Assert.DoesNotContain("Ack from 'serf", tagged, StringComparison.Ordinal);
        Assert.Equal(2, asked.Count);
    }

    [Fact]
    public async Task An_encrypted_cluster_takes_in_a_node_with_the_key_and_refuses_one_without()
    {
        string key = Convert.ToBase64String([.. Enumerable.Range(1, 32).Select(i => (byte)i)]);
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(10, 3, $"-encrypt={key}");

        // Without the key: the join's push/pull is refused.
        await using (SerfNode outsider = SerfNode.Start(new SerfNodeOptions { Name = "outsider", Bind = new IPEndPoint(SerfAgentCluster.AgentAddress(10, 11), SerfAgentCluster.GossipPort) }))
        {
            await Assert.ThrowsAsync<IOException>(() => outsider.JoinAsync([agents.GossipEndPoint(1)]));
        }

        await using SerfNode node = StartNode(10, keyring: SerfKeyring.FromBase64(key));
        ConcurrentQueue<SerfUserEvent> received = new();
        node.UserEventReceived += received.Enqueue;
        await node.JoinAsync([agents.GossipEndPoint(1)]);
        for (int k = 1; k <= 3; k++)
        {
            await agents.WaitForAsync(k, members => members.Any(m => m.Name == "rumor" && m.Status == "alive"), $"serf{k} lists rumor alive (encrypted)");
        }

        Assert.True(await Wait.UntilAsync(() => node.Members.Count(m => m.Status == SerfMemberStatus.Alive) == 4, Bound), string.Join(", ", node.Members));
        await agents.SendEventAsync(3, "secret", "s1");
        Assert.True(await Wait.UntilAsync(() => received.Any(e => e.Name == "secret"), Bound), "the encrypted event did not arrive");

        node.SendUserEvent("sealed", Encoding.UTF8.GetBytes("s2"));
        string log = agents.EventLog(2);
        Assert.True(await Wait.UntilAsync(() => File.Exists(log) && File.ReadAllText(log).Contains("serf2 sealed s2", StringComparison.Ordinal), Bound), "serf2 did not run the encrypted event");
        Assert.Equal(0, node.Counters.DecryptFailures);

        // Probes keep it alive over encrypted UDP: after several probe intervals nobody suspects it.
        await Task.Delay(TimeSpan.FromSeconds(5));
        await agents.WaitForAsync(1, members => members.Any(m => m.Name == "rumor" && m.Status == "alive"), "serf1 still lists rumor alive");
        Assert.Equal(0, node.Counters.Refutations);
    }

    [Fact]
    public async Task A_graceful_leave_is_left_in_serf()
    {
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(cluster: 4, count: 3);
        SerfNode node = StartNode(4);
        await node.JoinAsync([agents.GossipEndPoint(1)]);
        for (int k = 1; k <= 3; k++)
        {
            await agents.WaitForAsync(k, members => members.Any(m => m.Name == "rumor" && m.Status == "alive"), $"serf{k} lists rumor alive");
        }

        await node.LeaveAsync();

        for (int k = 1; k <= 3; k++)
        {
            await agents.WaitForAsync(k, members => members.Any(m => m.Name == "rumor" && m.Status == "left"), $"serf{k} lists rumor left");
        }
    }

    [Fact]
    public async Task A_killed_rumor_node_is_failed_in_serf()
    {
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(cluster: 5, count: 3);
        SerfNode node = StartNode(5);
        await node.JoinAsync([agents.GossipEndPoint(1)]);
        for (int k = 1; k <= 3; k++)
        {
            await agents.WaitForAsync(k, members => members.Any(m => m.Name == "rumor" && m.Status == "alive"), $"serf{k} lists rumor alive");
        }

        await node.DisposeAsync(); // no leave: sockets closed, as a crash looks on the wire

        for (int k = 1; k <= 3; k++)
        {
            await agents.WaitForAsync(k, members => members.Any(m => m.Name == "rumor" && m.Status == "failed"), $"serf{k} lists rumor failed");
        }
    }

    [Fact]
    public async Task The_rumor_node_detects_a_killed_serf_agent_as_failed_and_a_leaving_one_as_left()
    {
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(cluster: 6, count: 3);
        await using SerfNode node = StartNode(6);
        await node.JoinAsync([agents.GossipEndPoint(1)]);
        Assert.True(await Wait.UntilAsync(() => node.Members.Count(m => m.Status == SerfMemberStatus.Alive) == 4, Bound), string.Join(", ", node.Members));

        agents.Kill(3);

        Assert.True(await Wait.UntilAsync(() => node.FindMember("serf3")?.Status == SerfMemberStatus.Failed, Bound), string.Join(", ", node.Members));
        Assert.Equal(SerfMemberStatus.Alive, node.FindMember("serf1")!.Status);
        Assert.Equal(SerfMemberStatus.Alive, node.FindMember("serf2")!.Status);
        Assert.Equal(SerfMemberStatus.Alive, node.FindMember("rumor")!.Status);

        await agents.LeaveAsync(2);

        Assert.True(await Wait.UntilAsync(() => node.FindMember("serf2")?.Status == SerfMemberStatus.Left, Bound), string.Join(", ", node.Members));
        Assert.Equal(SerfMemberStatus.Failed, node.FindMember("serf3")!.Status);
    }
}

[CollectionDefinition(nameof(SerfInteropCollection), DisableParallelization = true)]
public sealed class SerfInteropCollection;
