using Rumor.Core.Membership;
using Rumor.Transport.Tests.Support;

namespace Rumor.Transport.Tests;

/// <summary>Membership over real sockets on loopback: join and converge, crash detection, graceful leave.</summary>
public sealed class MembershipTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Five_nodes_converge_and_detect_a_crashed_one()
    {
        await using LocalCluster cluster = await LocalCluster.StartJoinedAsync(5);

        await LocalCluster.WaitUntilAsync(cluster.Nodes, view => LocalCluster.AllAlive(view, 5), Bound, "every node seeing 5 alive members");

        GossipTransport crashed = cluster[3];
        await crashed.DisposeAsync(); // No leave: to the others this is a crash.
        GossipTransport[] survivors = cluster.Nodes.Where(n => n != crashed).ToArray();

        await LocalCluster.WaitUntilAsync(survivors, view => LocalCluster.SeesAs(view, crashed.Name, MemberState.Dead), Bound, $"every survivor seeing {crashed.Name} dead");
        await LocalCluster.WaitUntilAsync(survivors, view => LocalCluster.AllAlive(view, 4), Bound, "the 4 survivors all alive in each view");
        Assert.All(cluster.Nodes, n => Assert.Equal(0, n.Counters.LoopFaults));
    }

    [Fact]
    public async Task A_node_that_leaves_is_seen_as_left_not_failed()
    {
        await using LocalCluster cluster = await LocalCluster.StartJoinedAsync(3);
        await LocalCluster.WaitUntilAsync(cluster.Nodes, view => LocalCluster.AllAlive(view, 3), Bound, "every node seeing 3 alive members");

        GossipTransport leaver = cluster[2];
        bool completed = await leaver.LeaveAsync(TimeSpan.FromSeconds(5));
        Assert.True(completed, "the leave announcement was not gossiped within 5 s");
        await leaver.DisposeAsync();

        GossipTransport[] others = [cluster[0], cluster[1]];
        await LocalCluster.WaitUntilAsync(others, view => LocalCluster.SeesAs(view, leaver.Name, MemberState.Left), Bound, $"every other node seeing {leaver.Name} left");

        // Left stays left: the silence after leaving must not turn into a failure verdict.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.All(others, n => Assert.True(LocalCluster.SeesAs(n.Members, leaver.Name, MemberState.Left), $"{n.Name} no longer sees {leaver.Name} as left"));
    }

    [Fact]
    public async Task The_member_copy_is_made_by_the_first_read_after_a_change_and_never_by_the_loop_alone()
    {
        await using LocalCluster cluster = await LocalCluster.StartJoinedAsync(1);
        GossipTransport first = cluster[0];
        Assert.Single(first.Members);
        long copies = first.MemberCopies;
        Assert.Single(first.Members);
        Assert.Equal(copies, first.MemberCopies); // unchanged: the same copy

        // Three nodes join through it; nothing reads its Members meanwhile (GetMembersAsync reads on the loop).
        await using GossipTransport b = await GossipTransport.StartAsync(LocalCluster.FastOptions("copy-b"));
        await using GossipTransport c = await GossipTransport.StartAsync(LocalCluster.FastOptions("copy-c"));
        await using GossipTransport d = await GossipTransport.StartAsync(LocalCluster.FastOptions("copy-d"));
        foreach (GossipTransport joiner in new[] { b, c, d })
        {
            Assert.True((await joiner.JoinAsync([first.Address])).Joined);
        }

        DateTime deadline = DateTime.UtcNow + Bound;
        while ((await first.GetMembersAsync()).Count(m => m.State == MemberState.Alive) < 4)
        {
            Assert.True(DateTime.UtcNow < deadline, "node-1 did not see the three joiners alive");
            await Task.Delay(20);
        }

        Assert.Equal(copies, first.MemberCopies); // the joins changed the members; no copy was made
        Assert.Equal(4, first.Members.Count(m => m.State == MemberState.Alive)); // the read sees them
        Assert.Equal(copies + 1, first.MemberCopies);
        Assert.Equal(4, first.Members.Count);
        Assert.Equal(copies + 1, first.MemberCopies);
    }

    [Fact]
    public async Task Leaving_alone_completes_at_once()
    {
        await using GossipTransport node = await GossipTransport.StartAsync(LocalCluster.FastOptions("alone"));

        Assert.True(await node.LeaveAsync(TimeSpan.FromSeconds(2)));
        Assert.Equal(MemberState.Left, Assert.Single(node.Members).State);
    }

    [Fact]
    public async Task Events_report_joins_in_order_through_the_channel_and_the_handler()
    {
        List<Rumor.Core.GossipEvent> handled = [];
        await using GossipTransport first = await GossipTransport.StartAsync(
            LocalCluster.FastOptions("first"),
            new GossipTransportSettings { OnEvent = e => { lock (handled) { handled.Add(e); } } });
        await using GossipTransport second = await GossipTransport.StartAsync(LocalCluster.FastOptions("second"));

        JoinResult result = await second.JoinAsync([first.Address]);

        Rumor.Core.JoinSucceeded succeeded = Assert.Single(result.Succeeded);
        Assert.Equal(first.Address, succeeded.Seed);
        using CancellationTokenSource timeout = new(TimeSpan.FromSeconds(5));
        Rumor.Core.MemberChanged joined = await ReadFirstAsync<Rumor.Core.MemberChanged>(first, timeout.Token);
        Assert.Equal("second", joined.Member.Name);
        Assert.Equal(Rumor.Core.MemberChangeKind.Joined, joined.Kind);
        await LocalCluster.WaitUntilAsync([first], _ => { lock (handled) { return handled.Count > 0; } }, TimeSpan.FromSeconds(5), "the handler called");
    }

    [Fact]
    public async Task A_metadata_update_reaches_the_others()
    {
        await using LocalCluster cluster = await LocalCluster.StartJoinedAsync(3);
        await LocalCluster.WaitUntilAsync(cluster.Nodes, view => LocalCluster.AllAlive(view, 3), Bound, "every node seeing 3 alive members");
        byte[] metadata = "role=web"u8.ToArray();

        await cluster[1].UpdateMetadataAsync(metadata);

        Assert.Equal(metadata, cluster[1].Members.Single(m => m.Name == "node-2").Metadata);
        await LocalCluster.WaitUntilAsync(cluster.Nodes, view => view.Single(m => m.Name == "node-2").Metadata.AsSpan().SequenceEqual(metadata), Bound, "every node seeing node-2's new metadata");
    }

    [Fact]
    public async Task A_throwing_event_handler_is_counted_and_does_not_stop_delivery()
    {
        int calls = 0;
        await using GossipTransport first = await GossipTransport.StartAsync(
            LocalCluster.FastOptions("first"),
            new GossipTransportSettings { OnEvent = _ => { Interlocked.Increment(ref calls); throw new InvalidOperationException("handler bug"); } });
        await using GossipTransport second = await GossipTransport.StartAsync(LocalCluster.FastOptions("second"));
        await using GossipTransport third = await GossipTransport.StartAsync(LocalCluster.FastOptions("third"));

        Assert.True((await second.JoinAsync([first.Address])).Joined);
        Assert.True((await third.JoinAsync([first.Address])).Joined);

        await LocalCluster.WaitUntilAsync([first], _ => first.Counters.EventHandlerErrors >= 2, Bound, "two handler errors counted");
        Assert.True(Volatile.Read(ref calls) >= 2);
        Assert.Equal(0, first.Counters.LoopFaults);
    }

    [Fact]
    public async Task Dispose_ends_the_event_loop_thread()
    {
        GossipTransport node = await GossipTransport.StartAsync(LocalCluster.FastOptions("n"));
        Assert.True(node.IsLoopRunning);

        await node.DisposeAsync();

        Assert.False(node.IsLoopRunning);
    }

    [Fact]
    public async Task Dispose_ends_the_datagram_receiver_that_polls_without_a_timeout()
    {
        // The receiver waits for a datagram with no timeout; only the shutdown on dispose wakes it.
        // Were it not woken, DisposeAsync would give up after ShutdownTimeout with the thread still polling.
        GossipTransport node = await GossipTransport.StartAsync(LocalCluster.FastOptions("n"));
        Assert.True(node.IsReceiverRunning);

        await node.DisposeAsync();

        Assert.False(node.IsReceiverRunning);
    }

    private static async Task<T> ReadFirstAsync<T>(GossipTransport node, CancellationToken cancellationToken)
        where T : Rumor.Core.GossipEvent
    {
        await foreach (Rumor.Core.GossipEvent e in node.Events.ReadAllAsync(cancellationToken))
        {
            if (e is T found)
            {
                return found;
            }
        }

        throw new InvalidOperationException("The event stream ended.");
    }
}
