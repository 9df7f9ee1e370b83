using System.Net;
using System.Net.Sockets;
using Rumor.Serf.Wire;

namespace Rumor.Serf.Tests;

/// <summary>
/// The timer loop (SerfNode.Wake.cs, issue 14): a node sleeps until a deadline with work behind it,
/// so a node with no peers does not wake at all; an input that brings work (a join) wakes it, and
/// probing, suspicion and gossip then run on their schedule.
/// </summary>
public sealed class TimerLoopTests
{
    private static SerfNode Start(int cluster, string name, int k, int probeMs = 200) => SerfNode.Start(new SerfNodeOptions
    {
        Name = name,
        Bind = new IPEndPoint(SerfAgentCluster.AgentAddress(cluster, k), SerfAgentCluster.GossipPort),
        ProbeInterval = TimeSpan.FromMilliseconds(probeMs),
        ProbeTimeout = TimeSpan.FromMilliseconds(probeMs / 2),
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

    [Fact]
    public async Task A_joiner_gossips_its_own_alive()
    {
        // memberlist's setAlive queues the node's own alive at start, so a joiner tells the
        // members it learned from the join about itself (not only the seed does). A raw socket w
        // plays a member the seed knows; the joiner b learns w from the join's push/pull and
        // gossips to it: among b's datagrams to w is b's alive about itself.
        const int Cluster = 62;
        using Socket w = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        IPEndPoint wEndPoint = new(SerfAgentCluster.AgentAddress(Cluster, 3), SerfAgentCluster.GossipPort);
        w.Bind(wEndPoint);
        // Probes every 10 s: w never answers, and with 200 ms probes the seed could declare it dead
        // before b's join on a loaded machine, so that b would never learn w (seen at load 8).
        await using SerfNode seed = Start(Cluster, "seed", 1, probeMs: 10_000);
        byte[] wAlive = new NodeRecord("w", wEndPoint.Address.GetAddressBytes(), (ushort)wEndPoint.Port, SerfTags.Encode(new Dictionary<string, string>()), 1, NodeRecord.SerfAgentVsn).EncodeAlive();
        for (int attempt = 0; attempt < 30 && seed.FindMember("w") is null; attempt++)
        {
            await w.SendToAsync(wAlive, seed.EndPoint); // resent: UDP may drop under load
            await Wait.UntilAsync(() => seed.FindMember("w") is not null, TimeSpan.FromSeconds(1));
        }

        Assert.NotNull(seed.FindMember("w"));
        await using SerfNode b = Start(Cluster, "b", 2, probeMs: 10_000);
        await b.JoinAsync([seed.EndPoint]);
        Assert.NotNull(b.FindMember("w"));

        (bool found, List<string> seen) = await WatchAsync(w, b.EndPoint, message =>
            message.Type == MemberlistType.Alive && NodeRecord.TryDecodeAlive(message.Body, out NodeRecord alive)
                ? ("alive " + alive.Name, alive.Name == "b")
                : (message.Type.ToString(), false));
        Assert.True(found, $"no alive about b from b within 20 s; b sent w: {string.Join(", ", seen)}");
    }

    [Fact]
    public async Task A_failed_probe_of_a_suspect_member_is_gossiped_as_a_confirmation()
    {
        // memberlist's probeNode calls suspectNode after a failed probe whatever the target's
        // state, so a node that already holds w suspect (told by u) and then fails its own probe
        // of w gossips a suspect of w from itself: a confirmation that shortens the others'
        // timeouts. Raw sockets play w (never answers), u (the accuser, listens) and v; with four
        // members and SuspicionMult 4, k = 2 confirmations are wanted.
        const int Cluster = 63;
        using Socket w = Bound(Cluster, 2);
        using Socket u = Bound(Cluster, 3);
        using Socket v = Bound(Cluster, 4);
        await using SerfNode a = SerfNode.Start(new SerfNodeOptions
        {
            Name = "a",
            Bind = new IPEndPoint(SerfAgentCluster.AgentAddress(Cluster, 1), SerfAgentCluster.GossipPort),
            ProbeInterval = TimeSpan.FromMilliseconds(200),
            ProbeTimeout = TimeSpan.FromMilliseconds(100),
            SuspicionMult = 4,
            RandomSeed = 63,
        });
        byte[] tags = SerfTags.Encode(new Dictionary<string, string>());
        byte[] Alive(string name, Socket socket)
        {
            IPEndPoint at = (IPEndPoint)socket.LocalEndPoint!;
            return new NodeRecord(name, at.Address.GetAddressBytes(), (ushort)at.Port, tags, 1, NodeRecord.SerfAgentVsn).EncodeAlive();
        }

        // One packet: the three members alive, then u's accusation of w, so w is suspect before a
        // ever probes it (a probe failing while w was still alive would accuse it from a anyway).
        byte[] packet = Packet.Compound([Alive("w", w), Alive("u", u), Alive("v", v), new AccusationMessage(1, "w", "u").Encode(MemberlistType.Suspect)]);
        for (int attempt = 0; attempt < 30 && a.FindMember("w") is null; attempt++)
        {
            await u.SendToAsync(packet, a.EndPoint); // resent: UDP may drop under load
            await Wait.UntilAsync(() => a.FindMember("w") is not null, TimeSpan.FromSeconds(1));
        }

        Assert.Equal(SerfMemberStatus.Alive, a.FindMember("w")?.Status); // Serf's view: suspect is still a live member

        (bool confirmed, List<string> accusations) = await WatchAsync(u, null, message =>
            message.Type == MemberlistType.Suspect && AccusationMessage.TryDecode(message.Body, out AccusationMessage suspect)
                ? ($"{suspect.Node} from {suspect.From}", suspect.Node == "w" && suspect.From == "a")
                : (null, false));
        Assert.True(confirmed, $"a never gossiped its own suspicion of w within 20 s; suspects u received: {string.Join(", ", accusations)}");
    }

    /// <summary>
    /// Reads the datagrams <paramref name="socket"/> receives (from <paramref name="from"/> only,
    /// when given) for at most 20 s and hands each message to <paramref name="inspect"/>, which
    /// describes it (null: not worth listing) and says whether it is the one awaited. Returns
    /// whether it came, and the descriptions of what came before it.
    /// </summary>
    private static async Task<(bool Found, List<string> Seen)> WatchAsync(Socket socket, IPEndPoint? from, Func<WireMessage, (string? Seen, bool Found)> inspect)
    {
        using CancellationTokenSource bound = new(TimeSpan.FromSeconds(20));
        byte[] buffer = new byte[65536];
        List<string> seen = [];
        while (true)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), bound.Token);
            }
            catch (OperationCanceledException)
            {
                return (false, seen);
            }

            List<WireMessage> messages = [];
            if ((from is not null && !received.RemoteEndPoint.Equals(from))
                || !Packet.TryUnpack(buffer.AsSpan(0, received.ReceivedBytes).ToArray(), messages, out _))
            {
                continue;
            }

            foreach (WireMessage message in messages)
            {
                (string? description, bool found) = inspect(message);
                if (description is not null)
                {
                    seen.Add(description);
                }

                if (found)
                {
                    return (true, seen);
                }
            }
        }
    }

    private static Socket Bound(int cluster, int k)
    {
        Socket socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(SerfAgentCluster.AgentAddress(cluster, k), SerfAgentCluster.GossipPort));
        return socket;
    }
}
