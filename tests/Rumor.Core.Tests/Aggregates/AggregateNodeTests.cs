using System.Text;
using Rumor.Core.Aggregates;
using Rumor.Core.Membership;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Aggregates;

/// <summary>One GossipNode fed hand-made Aggregate messages: joining, the flow ledger, epochs, stop, bad input.</summary>
public class AggregateNodeTests
{
    private static readonly NodeAddress Peer = NodeAddress.Parse("10.0.0.9:7946");

    private static AggregateMessage Push(uint epoch, string initiator, uint sequence, PushSumState flow, uint ack = 0) =>
        new(AggregateFlags.None, "load", epoch, initiator, sequence, ack, flow, 1, 9, 5, 10, 10);

    private static void Deliver(GossipNode node, in AggregateMessage message, TimeSpan now) =>
        node.OnPacket(Peer, PacketBuilder.EncodeSingle(message), now);

    private static List<AggregateMessage> Sent(RecordingHost host)
    {
        List<AggregateMessage> result = [];
        foreach ((NodeAddress _, byte[] packet) in host.Packets)
        {
            Assert.Equal(DecodeError.None, PacketReader.TryOpen(packet, WireLimits.DatagramMaxBytes, new byte[WireLimits.DatagramMaxBytes], out PacketReader reader));
            while (reader.TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out _))
            {
                if (type == MessageType.Aggregate)
                {
                    Assert.Equal(DecodeError.None, AggregateMessage.TryDecode(payload, null, out AggregateMessage message));
                    result.Add(message);
                }
            }
        }

        return result;
    }

    [Fact]
    public void A_push_for_an_unknown_key_joins_with_our_own_value_and_is_acknowledged()
    {
        (GossipNode node, RecordingHost host) = AggregateMessageTests.TestNode();
        node.SetValue("load", Encoding.UTF8.GetBytes("4"), TimeSpan.FromSeconds(1));
        Deliver(node, Push(4, "z", 1, new PushSumState(6, 1, 1, 0.5)), TimeSpan.FromSeconds(2));
        Assert.Equal(new PushSumState(10, 2, 2, 0.5), node.AggregateMass("load"));
        AggregateEstimate estimate = node.GetAggregate("load")!;
        Assert.Equal(4u, estimate.Epoch);
        Assert.Equal("z", estimate.Initiator);
        Assert.Equal(5, estimate.Average);
        Assert.Equal(4, estimate.Count);
        Assert.Equal(20, estimate.Sum);
        Assert.Equal(1, estimate.Min);
        Assert.Equal(9, estimate.Max);
        Assert.False(estimate.Converged);
        AggregateMessage reply = Assert.Single(Sent(host));
        Assert.True(reply.IsReply);
        Assert.Equal(1u, reply.Ack);
        Assert.Equal(["load"], node.Aggregates);
        Assert.Equal(1, node.AggregateCounters.AutoJoins);
    }

    [Fact]
    public void A_reply_carries_the_estimates_from_before_the_push_it_answers_was_absorbed()
    {
        // After absorbing, our estimate lies between the pusher's and our old one; as the pusher's
        // sample it would understate the pusher's error (its bound came out too tight).
        (GossipNode node, RecordingHost host) = AggregateMessageTests.TestNode();
        node.SetValue("load", Encoding.UTF8.GetBytes("4"), TimeSpan.FromSeconds(1));
        Deliver(node, Push(4, "z", 1, new PushSumState(6, 1, 1, 0.5)), TimeSpan.FromSeconds(2));
        AggregateMessage first = Assert.Single(Sent(host));
        Assert.Equal(4, first.Average); // our own input alone; after the push it is 5
        Assert.True(double.IsNaN(first.Count)); // no weight had reached us before the push
        Assert.True(double.IsNaN(first.HolderCount));

        // The second push adds (10, 1, 1, 0.5): before it the mass is (10, 2, 2, 0.5), after it (20, 3, 3, 1).
        host.Packets.Clear();
        Deliver(node, Push(4, "z", 2, new PushSumState(16, 2, 2, 1)), TimeSpan.FromSeconds(3));
        Assert.Equal(new PushSumState(20, 3, 3, 1), node.AggregateMass("load"));
        AggregateMessage second = Assert.Single(Sent(host));
        Assert.True(second.IsReply);
        Assert.Equal(2u, second.Ack);
        Assert.Equal(5, second.Average);
        Assert.Equal(4, second.Count);
        Assert.Equal(4, second.HolderCount);
        Assert.Equal(20.0 / 3, node.GetAggregate("load")!.Average);
    }

    [Fact]
    public void Duplicates_add_nothing_older_sequences_are_refused_and_a_later_total_repairs_a_loss()
    {
        (GossipNode node, _) = AggregateMessageTests.TestNode();
        Deliver(node, Push(1, "z", 1, new PushSumState(2, 1, 1, 0)), TimeSpan.FromSeconds(1));
        PushSumState own = new(0, 0, 1, 0);
        Assert.Equal(new PushSumState(2, 1, 2, 0), node.AggregateMass("load"));
        Deliver(node, Push(1, "z", 1, new PushSumState(2, 1, 1, 0)), TimeSpan.FromSeconds(1)); // duplicate
        Assert.Equal(new PushSumState(2, 1, 2, 0), node.AggregateMass("load"));

        // Sequence 2 is lost; sequence 3 carries the total of both.
        Deliver(node, Push(1, "z", 3, new PushSumState(5, 1.5, 1.75, 0.5)), TimeSpan.FromSeconds(2));
        PushSumState expected = own;
        expected.Add(new PushSumState(5, 1.5, 1.75, 0.5));
        Assert.Equal(expected, node.AggregateMass("load"));

        // Sequence 2 arrives late, reordered: refused.
        Deliver(node, Push(1, "z", 2, new PushSumState(3, 1.25, 1.5, 0.25)), TimeSpan.FromSeconds(3));
        Assert.Equal(expected, node.AggregateMass("load"));
        Assert.Equal(1, node.AggregateCounters.StaleSequenceMessages);
    }

    [Fact]
    public void A_newer_epoch_resets_to_our_own_value_keeps_the_previous_result_and_an_older_one_is_answered_not_absorbed()
    {
        (GossipNode node, RecordingHost host) = AggregateMessageTests.TestNode();
        node.SetValue("load", Encoding.UTF8.GetBytes("3"), TimeSpan.FromSeconds(1));
        Assert.True(node.StartAggregate("load", TimeSpan.FromSeconds(1)));
        Assert.False(node.StartAggregate("load", TimeSpan.FromSeconds(1)));
        Assert.Equal(new PushSumState(3, 1, 1, 1), node.AggregateMass("load"));
        Assert.Equal("n1", node.GetAggregate("load")!.Initiator);

        // Same number, smaller initiator name: it outranks ours (one weight unit per epoch).
        Deliver(node, Push(1, "a", 1, new PushSumState(1, 1, 1, 1)), TimeSpan.FromSeconds(2));
        AggregateEstimate adopted = node.GetAggregate("load")!;
        Assert.Equal("a", adopted.Initiator);
        Assert.Equal(new PushSumState(4, 2, 2, 1), node.AggregateMass("load"));
        Assert.Equal(3, adopted.Previous!.Sum);
        Assert.Null(adopted.Previous.Previous);

        // Epoch 0 is older: not absorbed, answered with ours.
        host.Packets.Clear();
        Deliver(node, Push(0, "a", 9, new PushSumState(100, 1, 1, 1)), TimeSpan.FromSeconds(3));
        Assert.Equal(new PushSumState(4, 2, 2, 1), node.AggregateMass("load"));
        AggregateMessage answer = Assert.Single(Sent(host));
        Assert.Equal(1u, answer.Epoch);
        Assert.True(answer.IsReply);

        // Epoch 2: reset to our own current value, no weight (we are not its initiator).
        node.SetValue("load", Encoding.UTF8.GetBytes("8"), TimeSpan.FromSeconds(4));
        Deliver(node, Push(2, "q", 1, default), TimeSpan.FromSeconds(4));
        Assert.Equal(new PushSumState(8, 1, 1, 0), node.AggregateMass("load"));
        Assert.Equal(2u, node.GetAggregate("load")!.Epoch);
        Assert.Equal(4, node.GetAggregate("load")!.Previous!.Sum);
    }

    [Fact]
    public void Alone_a_node_runs_rounds_and_keeps_its_whole_mass()
    {
        (GossipNode node, RecordingHost host) = AggregateMessageTests.TestNode(options: GossipOptions.Lan with { AggregateInterval = TimeSpan.FromSeconds(1) });
        node.StartAggregate("load", TimeSpan.FromSeconds(1));

        // Alone: rounds run but there is nobody to push to; the mass stays whole.
        node.OnTick(TimeSpan.FromSeconds(5));
        Assert.Equal(new PushSumState(0, 0, 1, 1), node.AggregateMass("load"));
        Assert.Empty(Sent(host));
    }

    /// <summary>
    /// VOPR seed 228: both peers of a three-node cluster left; the survivor started an aggregate and
    /// ran 466 rounds with an exact estimate and error bound 0, yet never reported Converged, because
    /// the sample window fills only with peers' estimates. Alone in its view, its own rounds are the
    /// whole evidence. With a live peer in view that has not answered, the window rule still holds.
    /// </summary>
    [Fact]
    public void Alone_a_node_s_exact_estimate_converges_but_not_while_a_live_peer_is_unheard()
    {
        (GossipNode alone, _) = AggregateMessageTests.TestNode();
        alone.SetValue("load", Encoding.UTF8.GetBytes("893"), TimeSpan.FromSeconds(1));
        alone.StartAggregate("load", TimeSpan.FromSeconds(1));
        for (TimeSpan t = TimeSpan.FromSeconds(1); t <= TimeSpan.FromSeconds(3); t += TimeSpan.FromMilliseconds(50))
        {
            alone.OnTick(t);
        }

        AggregateEstimate estimate = alone.GetAggregate("load")!;
        Assert.True(estimate.Rounds >= 3, $"rounds {estimate.Rounds}");
        Assert.True(estimate.Converged, estimate.ToString());
        Assert.Equal(0, estimate.ErrorBound);
        Assert.Equal(1, estimate.Count);
        Assert.Equal(893, estimate.Sum);
        Assert.Equal(893, estimate.Average);

        (GossipNode withPeer, _) = AggregateMessageTests.TestNode();
        withPeer.OnPacket(Peer, PacketBuilder.EncodeSingle(new AliveMessage("peer", Peer, 1, 1, ProtocolVersions.Current, [])), TimeSpan.FromMilliseconds(500));
        Assert.Equal(MemberState.Alive, withPeer.FindMember("peer")?.State);
        withPeer.SetValue("load", Encoding.UTF8.GetBytes("893"), TimeSpan.FromSeconds(1));
        withPeer.StartAggregate("load", TimeSpan.FromSeconds(1));
        for (TimeSpan t = TimeSpan.FromSeconds(1); t <= TimeSpan.FromSeconds(3); t += TimeSpan.FromMilliseconds(50))
        {
            withPeer.OnTick(t);
        }

        Assert.True(withPeer.FindMember("peer")!.IsActive);
        AggregateEstimate unheard = withPeer.GetAggregate("load")!;
        Assert.True(unheard.Rounds >= 3, $"rounds {unheard.Rounds}");
        Assert.False(unheard.Converged, unheard.ToString());
    }

    [Fact]
    public void Stopped_keys_are_ignored_and_bad_keys_are_refused()
    {
        (GossipNode node, _) = AggregateMessageTests.TestNode();
        node.StartAggregate("load", TimeSpan.FromSeconds(1));
        Assert.True(node.StopAggregate("load", TimeSpan.FromSeconds(1)));
        Assert.False(node.StopAggregate("load", TimeSpan.FromSeconds(1)));
        Deliver(node, Push(1, "z", 1, new PushSumState(2, 1, 1, 0)), TimeSpan.FromSeconds(2));
        Assert.Null(node.GetAggregate("load"));
        Assert.Equal(1, node.AggregateCounters.MessagesDropped);
        Assert.Empty(node.Aggregates);
        Assert.Throws<ArgumentException>(() => node.StartAggregate("", TimeSpan.FromSeconds(2)));
        Assert.Throws<ArgumentException>(() => node.StartAggregate(new string('k', 600), TimeSpan.FromSeconds(2)));
        Assert.True(node.StartAggregate("load", TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void Aggregates_max_bounds_auto_joins()
    {
        (GossipNode node, _) = AggregateMessageTests.TestNode(options: GossipOptions.Lan with { AggregatesMax = 1 });
        node.StartAggregate("a", TimeSpan.FromSeconds(1));
        Deliver(node, Push(1, "z", 1, default), TimeSpan.FromSeconds(2));
        Assert.Null(node.GetAggregate("load"));
        Assert.Equal(1, node.AggregateCounters.MessagesDropped);
        Assert.Throws<InvalidOperationException>(() => node.StartAggregate("b", TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void Options_are_validated_with_named_problems()
    {
        GossipOptions bad = GossipOptions.Lan with
        {
            Name = "n",
            AdvertiseAddress = Peer,
            AggregateInterval = TimeSpan.FromSeconds(1),
            AggregateEpochLength = TimeSpan.FromSeconds(5),
            AggregateConvergenceThreshold = 0,
            AggregateSampleWindow = 1,
            AggregateRetransmitsMax = 65,
            AggregatesMax = 0,
        };
        IReadOnlyList<string> problems = bad.Validate();
        foreach (string option in new[] { "AggregateEpochLength", "AggregateConvergenceThreshold", "AggregateSampleWindow", "AggregateRetransmitsMax", "AggregatesMax" })
        {
            Assert.Contains(problems, p => p.StartsWith(option, StringComparison.Ordinal));
        }
    }
}
