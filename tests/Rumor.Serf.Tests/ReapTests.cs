using System.Collections.Concurrent;
using System.Net;

namespace Rumor.Serf.Tests;

/// <summary>
/// Serf's reaper in <see cref="SerfNode"/>: a member that left is forgotten after
/// <see cref="SerfNodeOptions.TombstoneTimeout"/> with one member-reap event; a live member never is.
/// (The failed-member path, <see cref="SerfNodeOptions.ReconnectTimeout"/>, is checked against
/// real Serf agents with a member-reap handler in SerfEventHandlerInteropTests.)
/// </summary>
public sealed class ReapTests
{
    private static SerfNode Start(string name, int k, TimeSpan tombstone) => SerfNode.Start(new SerfNodeOptions
    {
        Name = name,
        Bind = new IPEndPoint(SerfAgentCluster.AgentAddress(54, k), SerfAgentCluster.GossipPort),
        GossipInterval = TimeSpan.FromMilliseconds(50),
        ProbeInterval = TimeSpan.FromMilliseconds(200),
        ProbeTimeout = TimeSpan.FromMilliseconds(100),
        ReconnectTimeout = TimeSpan.FromSeconds(1),
        TombstoneTimeout = tombstone,
        ReapInterval = TimeSpan.FromMilliseconds(100),
        RandomSeed = 540 + k,
    });

    [Fact]
    public async Task A_member_that_left_is_reaped_after_the_tombstone_timeout_and_a_live_one_never_is()
    {
        await using SerfNode a = Start("a", 1, TimeSpan.FromSeconds(1));
        await using SerfNode b = Start("b", 2, TimeSpan.FromSeconds(1));
        SerfNode c = Start("c", 3, TimeSpan.FromSeconds(1));
        ConcurrentQueue<SerfMemberEvent> events = new();
        a.MemberChanged += events.Enqueue;
        await b.JoinAsync([a.EndPoint]);
        await c.JoinAsync([a.EndPoint]);
        Assert.True(await Wait.UntilAsync(() => a.Members.Count(m => m.Status == SerfMemberStatus.Alive) == 3, TimeSpan.FromSeconds(10)), string.Join(", ", a.Members));

        await c.LeaveAsync();
        Assert.True(await Wait.UntilAsync(() => events.Any(e => e.Kind == SerfMemberEventKind.Reap), TimeSpan.FromSeconds(20)), string.Join(", ", events));
        SerfMemberEvent reap = Assert.Single(events, e => e.Kind == SerfMemberEventKind.Reap);
        Assert.Equal("c", reap.Member.Name);
        Assert.Equal(SerfMemberStatus.Left, reap.Member.Status);
        Assert.Contains(events, e => e.Kind == SerfMemberEventKind.Leave && e.Member.Name == "c");
        Assert.Null(a.FindMember("c"));

        // Several tombstone timeouts more: b, alive all along, is never reaped; c not twice.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Single(events, e => e.Kind == SerfMemberEventKind.Reap);
        Assert.Equal(SerfMemberStatus.Alive, a.FindMember("b")?.Status);
        Assert.Equal(1, a.Counters.MembersReaped);
    }
}
