using System.Net;

namespace Rumor.Serf.Tests;

/// <summary>
/// The timer loop (SerfNode.Wake.cs, issue 14): a node sleeps until a deadline with work behind it,
/// so a node with no peers does not wake at all; an input that brings work (a join) wakes it, and
/// probing, suspicion and gossip then run on their schedule.
/// </summary>
public sealed class TimerLoopTests
{
    private static SerfNode Start(int cluster, string name, int k) => SerfNode.Start(new SerfNodeOptions
    {
        Name = name,
        Bind = new IPEndPoint(SerfAgentCluster.AgentAddress(cluster, k), SerfAgentCluster.GossipPort),
        ProbeInterval = TimeSpan.FromMilliseconds(200),
        ProbeTimeout = TimeSpan.FromMilliseconds(100),
        SuspicionMult = 2,
        RandomSeed = cluster * 10 + k,
    });

    [Fact]
    public async Task A_node_with_no_peers_does_not_wake()
    {
        // A 20 ms polling loop wakes about 100 times in these 2 s; the deadline loop wakes once at
        // start and then sleeps (gossip, probe, push/pull and reaper all have nothing to do).
        await using SerfNode node = Start(60, "alone", 1);
        await Task.Delay(TimeSpan.FromSeconds(2));
        long wakeups = node.Counters.TimerWakeups;
        Assert.True(wakeups <= 5, $"{wakeups} wake-ups in 2 s with no peers");
        Assert.Equal(0, node.Counters.PacketsSent);
    }

    [Fact]
    public async Task A_sleeping_node_probes_a_member_that_joins_and_detects_its_failure()
    {
        // a sleeps with no peers; b's join (an input on a's TCP listener) must wake it: a then
        // probes b every 200 ms, and when b crashes, a's failed probe makes b suspect and the
        // suspicion deadline makes it failed, all driven by deadlines armed while a slept.
        await using SerfNode a = Start(61, "a", 1);
        SerfNode b = Start(61, "b", 2);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            long asleep = a.Counters.TimerWakeups;
            await b.JoinAsync([a.EndPoint]);
            Assert.True(await Wait.UntilAsync(() => a.FindMember("b")?.Status == SerfMemberStatus.Alive, TimeSpan.FromSeconds(10)), "a never listed b");

            // b answers a's pings: a's sends grow by its probes (resent on a loaded machine by the schedule itself).
            long sentBefore = a.Counters.PacketsSent;
            Assert.True(await Wait.UntilAsync(() => a.Counters.PacketsSent >= sentBefore + 3, TimeSpan.FromSeconds(20)), $"a sent {a.Counters.PacketsSent - sentBefore} packets after b joined");
            Assert.True(a.Counters.TimerWakeups > asleep, "a's timer loop was not woken by the join");
        }
        finally
        {
            await b.DisposeAsync();
        }

        Assert.True(await Wait.UntilAsync(() => a.FindMember("b")?.Status == SerfMemberStatus.Failed, TimeSpan.FromSeconds(30)),
            $"a lists b as {a.FindMember("b")?.Status} after b crashed");
    }
}
