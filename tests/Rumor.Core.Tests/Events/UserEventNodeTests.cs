using Rumor.Core.AntiEntropy;
using Rumor.Core.Events;
using Rumor.Core.Randomness;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Events;

/// <summary>One node fed event packets by hand: deduplication, Lamport clock, coalescing, limits.</summary>
public class UserEventNodeTests
{
    private static readonly NodeAddress Peer = NodeAddress.Parse("10.0.0.2:7946");

    [Fact]
    public void Own_event_is_delivered_once_and_returned_with_its_identity()
    {
        (GossipNode node, Host host) = Start();
        UserEvent sent = node.SendEvent("deploy", [1, 2], TimeSpan.FromSeconds(1));
        Assert.Equal(new EventId("self", 7, 1), sent.Id);
        Assert.Equal(1ul, sent.LamportTime);
        UserEventReceived received = Assert.Single(host.Events.OfType<UserEventReceived>());
        Assert.Equal(sent, received.Event);
        Assert.Equal(2ul, node.SendEvent("deploy", [], TimeSpan.FromSeconds(1)).Id.Sequence);
    }

    [Fact]
    public void A_received_event_is_delivered_once_and_advances_the_clock()
    {
        (GossipNode node, Host host) = Start();
        UserEventMessage message = new("other", 1, 1, 41, 0, "x", [9]);
        node.OnPacket(Peer, PacketBuilder.EncodeSingle(message), TimeSpan.FromSeconds(1));
        node.OnPacket(Peer, PacketBuilder.EncodeSingle(message), TimeSpan.FromSeconds(2));
        Assert.Single(host.Events.OfType<UserEventReceived>());
        Assert.Equal(1, node.Counters.EventsDuplicate);
        Assert.Equal(42ul, node.LamportTime);
        Assert.Equal(43ul, node.SendEvent("y", [], TimeSpan.FromSeconds(2)).LamportTime);
        Assert.Equal(["x", "y"], node.RecentEvents.Select(e => e.Name));
    }

    [Fact]
    public void After_retention_a_late_copy_is_still_recognised_by_the_floor()
    {
        (GossipNode node, Host host) = Start(GossipOptions.Lan with { EventRetention = TimeSpan.FromSeconds(10) });
        UserEventMessage message = new("other", 1, 5, 1, 0, "x", []);
        node.OnPacket(Peer, PacketBuilder.EncodeSingle(message), TimeSpan.FromSeconds(1));
        node.OnTick(TimeSpan.FromSeconds(60)); // event rounds prune the log
        Assert.Empty(node.RecentEvents);
        node.OnPacket(Peer, PacketBuilder.EncodeSingle(message), TimeSpan.FromSeconds(61));
        node.OnPacket(Peer, PacketBuilder.EncodeSingle(message with { Sequence = 3 }), TimeSpan.FromSeconds(61));
        Assert.Single(host.Events.OfType<UserEventReceived>());
    }

    [Fact]
    public void Coalescing_delivers_only_the_newest_of_a_burst_after_the_window()
    {
        (GossipNode node, Host host) = Start();
        TimeSpan t = TimeSpan.FromSeconds(1);
        node.SendEvent("config", [1], t, coalesce: true);
        node.SendEvent("config", [2], t + TimeSpan.FromMilliseconds(500), coalesce: true);
        UserEvent third = node.SendEvent("config", [3], t + TimeSpan.FromMilliseconds(900), coalesce: true);
        Assert.Empty(host.Events.OfType<UserEventReceived>());
        node.OnTick(t + TimeSpan.FromSeconds(5));
        UserEventReceived delivered = Assert.Single(host.Events.OfType<UserEventReceived>());
        Assert.Equal(third.Id, delivered.Event.Id);
        Assert.Equal(2, node.Counters.EventsCoalesced);

        // Past the window a coalescing event supersedes nothing.
        UserEvent later = node.SendEvent("config", [4], t + TimeSpan.FromSeconds(10), coalesce: true);
        node.OnTick(t + TimeSpan.FromSeconds(20));
        Assert.Equal(later.Id, host.Events.OfType<UserEventReceived>().Last().Event.Id);
        Assert.Equal(2, host.Events.OfType<UserEventReceived>().Count());
    }

    [Fact]
    public void Only_the_newest_of_a_chain_stays_queued_but_a_new_chain_does_not_replace_the_old()
    {
        (GossipNode node, _) = Start();
        int before = node.PendingBroadcasts;
        node.SendEvent("config", [1], TimeSpan.FromSeconds(1), coalesce: true);
        node.SendEvent("config", [2], TimeSpan.FromSeconds(1.5), coalesce: true);
        Assert.Equal(before + 1, node.PendingBroadcasts);
        node.SendEvent("config", [3], TimeSpan.FromSeconds(10), coalesce: true); // past the window: a new chain
        Assert.Equal(before + 2, node.PendingBroadcasts);
        node.SendEvent("other", [4], TimeSpan.FromSeconds(10), coalesce: true);
        Assert.Equal(before + 3, node.PendingBroadcasts);
    }

    [Fact]
    public void An_older_coalescing_event_arriving_after_its_replacement_is_never_delivered()
    {
        (GossipNode node, Host host) = Start();
        node.OnPacket(Peer, PacketBuilder.EncodeSingle(new UserEventMessage("other", 1, 2, 5, 1, "cfg", [2])), TimeSpan.FromSeconds(1));
        node.OnPacket(Peer, PacketBuilder.EncodeSingle(new UserEventMessage("other", 1, 1, 4, 1, "cfg", [1])), TimeSpan.FromSeconds(1.1));
        node.OnTick(TimeSpan.FromSeconds(10));
        UserEventReceived delivered = Assert.Single(host.Events.OfType<UserEventReceived>());
        Assert.Equal(2ul, delivered.Event.Id.Sequence);
    }

    [Fact]
    public void Limits_give_errors_naming_the_option()
    {
        (GossipNode node, _) = Start();
        ArgumentException name = Assert.Throws<ArgumentException>(() => node.SendEvent(new string('n', 129), [], TimeSpan.FromSeconds(1)));
        Assert.Contains("EventNameMaxBytes", name.Message, StringComparison.Ordinal);
        ArgumentException payload = Assert.Throws<ArgumentException>(() => node.SendEvent("n", new byte[513], TimeSpan.FromSeconds(1)));
        Assert.Contains("EventPayloadMaxBytes", payload.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => node.SendEvent(string.Empty, [], TimeSpan.FromSeconds(1)));

        (GossipNode small, _) = Start(GossipOptions.Lan with { PacketBudgetBytes = 512 });
        ArgumentException budget = Assert.Throws<ArgumentException>(() => small.SendEvent("n", new byte[500], TimeSpan.FromSeconds(1)));
        Assert.Contains("PacketBudgetBytes", budget.Message, StringComparison.Ordinal);

        ArgumentException timeout = Assert.Throws<ArgumentException>(() => node.Query("q", [], null, TimeSpan.FromHours(1), TimeSpan.FromSeconds(1)));
        Assert.Contains("QueryTimeoutMax", timeout.Message, StringComparison.Ordinal);
        ArgumentException filter = Assert.Throws<ArgumentException>(() => node.Query("q", [], new Dictionary<string, string> { ["a=b"] = "c" }, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
        Assert.Contains("'='", filter.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lone_query_is_answered_by_the_asker_itself_through_the_responder()
    {
        (GossipNode node, Host host) = Start();
        node.QueryResponder = request => [(byte)request.Payload.Length];
        ulong id = node.Query("count", [1, 2, 3], null, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1));
        QueryResult result = node.GetQueryResult(id)!;
        Assert.True(result.Done);
        Assert.Equal(["self"], result.Expected);
        Assert.Empty(result.Missing);
        Assert.Equal([3], Assert.Single(result.Responses).Payload);
        Assert.Single(host.Events.OfType<QueryCompleted>());
        QueryReceived received = Assert.Single(host.Events.OfType<QueryReceived>());
        Assert.Throws<InvalidOperationException>(() => node.RespondToQuery(received.Request, [], TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void A_digest_lacking_our_events_gets_them_back_directly_and_a_digest_in_return()
    {
        (GossipNode node, Host host) = Start();
        node.SendEvent("a", [1], TimeSpan.FromSeconds(1));
        node.SendEvent("b", [2], TimeSpan.FromSeconds(1));
        host.Sent.Clear();

        // The peer holds one event we lack and none of ours: its digest (one item) wants a reply.
        BloomFilter filter = BloomFilter.Create(1, 0.01, 99);
        filter.Add("other", 1, 1);
        node.OnPacket(Peer, PacketBuilder.EncodeSingle(new EventDigestMessage(99, (byte)filter.HashCount, true, 1, filter.Bits)), TimeSpan.FromSeconds(2));

        List<MessageType> types = [];
        List<UserEventMessage> events = [];
        foreach ((NodeAddress to, byte[] packet) in host.Sent)
        {
            Assert.Equal(Peer, to);
            Assert.Equal(DecodeError.None, PacketReader.TryOpen(packet, 1400, out PacketReader reader));
            while (reader.TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out _))
            {
                types.Add(type);
                if (type == MessageType.UserEvent)
                {
                    Assert.Equal(DecodeError.None, UserEventMessage.TryDecode(payload, null, out UserEventMessage e));
                    events.Add(e);
                }
            }
        }

        Assert.Equal(["a", "b"], events.Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.Contains(MessageType.EventDigest, types);
        Assert.Equal(2, node.Counters.EventsRepaired);

        // A digest holding everything we have gets nothing back.
        host.Sent.Clear();
        BloomFilter full = BloomFilter.Create(2, 0.01, 5);
        full.Add("self", 7, 1);
        full.Add("self", 7, 2);
        node.OnPacket(Peer, PacketBuilder.EncodeSingle(new EventDigestMessage(5, (byte)full.HashCount, true, 2, full.Bits)), TimeSpan.FromSeconds(3));
        Assert.Empty(host.Sent);
    }

    [Fact]
    public void An_oversized_automatic_answer_is_refused_and_counted_not_thrown_into_the_receive_path()
    {
        (GossipNode node, _) = Start();
        node.QueryResponder = _ => new byte[5000];
        node.OnPacket(Peer, PacketBuilder.EncodeSingle(new AliveMessage("other", Peer, 0, 1, ProtocolVersions.Current, [])), TimeSpan.FromSeconds(1)); // answers go only to a known asker
        QueryMessage query = new("other", 1, 1, 3, Peer, 1000, "q", [], []);
        node.OnPacket(Peer, PacketBuilder.EncodeSingle(query), TimeSpan.FromSeconds(1));
        Assert.Equal(1, node.Counters.QueryResponsesRefused);
        Assert.Equal(0, node.Counters.QueryResponsesSent);
    }

    [Fact]
    public void A_query_not_matching_our_tags_is_relayed_but_not_reported()
    {
        (GossipNode node, Host host) = Start();
        QueryMessage query = new("other", 1, 1, 3, Peer, 1000, "q", "role=db"u8.ToArray(), []);
        node.OnPacket(Peer, PacketBuilder.EncodeSingle(query), TimeSpan.FromSeconds(1));
        node.OnPacket(Peer, PacketBuilder.EncodeSingle(query), TimeSpan.FromSeconds(1));
        Assert.Empty(host.Events.OfType<QueryReceived>());
        Assert.Equal(2, node.PendingBroadcasts); // our own alive news, and the query once
    }

    private static (GossipNode Node, Host Host) Start(GossipOptions? options = null)
    {
        Host host = new();
        GossipNode node = new((options ?? GossipOptions.Lan) with { Name = "self", Generation = 7, AdvertiseAddress = NodeAddress.Parse("10.0.0.1:7946") }, host, new Xoshiro256StarStar(1));
        node.Start(TimeSpan.Zero);
        return (node, host);
    }

    private sealed class Host : IGossipHost
    {
        public List<GossipEvent> Events { get; } = [];

        public List<(NodeAddress To, byte[] Packet)> Sent { get; } = [];

        public void SendPacket(NodeAddress to, ReadOnlySpan<byte> packet) => Sent.Add((to, packet.ToArray()));

        public void OpenStream(long streamId, NodeAddress to, ReadOnlySpan<byte> request)
        {
        }

        public void ReplyStream(long streamId, ReadOnlySpan<byte> response)
        {
        }

        public void OnEvent(GossipEvent gossipEvent) => Events.Add(gossipEvent);
    }
}
