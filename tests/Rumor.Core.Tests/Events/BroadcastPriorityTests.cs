using Rumor.Core.Dissemination;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Events;

public class BroadcastPriorityTests
{
    [Fact]
    public void Higher_classes_go_first_whatever_their_age_or_transmits()
    {
        BroadcastQueue queue = new(capacity: 100);
        queue.Enqueue(null, Ack(1), priority: BroadcastClass.Events);
        queue.Enqueue(null, Ack(2), priority: BroadcastClass.StateHints);
        queue.Enqueue("m", Ack(3), priority: BroadcastClass.Membership);
        queue.Enqueue("d", Ack(4), priority: BroadcastClass.Departure);
        Assert.Equal([4u, 3u, 2u, 1u], Fill(queue, 1400));
        queue.Enqueue("d2", Ack(5), priority: BroadcastClass.Departure);

        // The departure went out once, the new one never: still departures first.
        Assert.Equal([5u, 4u, 3u, 2u, 1u], Fill(queue, 1400));
    }

    [Fact]
    public void A_leave_is_a_departure()
    {
        BroadcastQueue queue = new(capacity: 100);
        queue.Enqueue("m", Ack(1));
        queue.Enqueue("me", Ack(2), isLeave: true);
        Assert.Equal(1, queue.CountOf(BroadcastClass.Departure));
        Assert.Equal([2u, 1u], Fill(queue, 1400));
    }

    [Fact]
    public void Waiting_events_keep_a_share_of_every_packet_under_a_membership_storm()
    {
        BroadcastQueue queue = new(capacity: 10_000, lowerClassShare: 0.25);
        for (uint i = 1; i <= 2000; i++)
        {
            queue.Enqueue("m" + i, Ack(i));
        }

        for (uint i = 1; i <= 200; i++)
        {
            queue.Enqueue(null, Ack(100_000 + i), priority: BroadcastClass.Events);
        }

        // One packet: membership fills at most 75 %, events the share kept for them.
        uint[] sent = Fill(queue, 1400, transmitLimit: 1);
        int events = sent.Count(s => s > 100_000);
        int membership = sent.Length - events;
        int perMessage = 2 + 5;
        int room = 1400 - 3 - 1 - 4;
        Assert.True(events >= (int)(room * 0.25) / perMessage - 1, $"events {events}, membership {membership}");
        Assert.True(membership >= (int)(room * 0.75) / perMessage - 1, $"events {events}, membership {membership}");

        // Within a bounded number of packets, every event went out although membership news remains.
        int packets = 1;
        while (queue.CountOf(BroadcastClass.Events) > 0 && packets < 20)
        {
            Fill(queue, 1400, transmitLimit: 1);
            packets++;
        }

        Assert.Equal(0, queue.CountOf(BroadcastClass.Events));
        Assert.True(packets <= 5, $"{packets} packets");
        Assert.True(queue.CountOf(BroadcastClass.Membership) > 0);
    }

    [Fact]
    public void Strict_priority_when_the_share_is_zero_starves_lower_classes()
    {
        BroadcastQueue queue = new(capacity: 10_000, lowerClassShare: 0);
        for (uint i = 1; i <= 2000; i++)
        {
            queue.Enqueue("m" + i, Ack(i));
        }

        queue.Enqueue(null, Ack(100_001), priority: BroadcastClass.Events);
        Assert.DoesNotContain(100_001u, Fill(queue, 1400, transmitLimit: 1));
    }

    [Fact]
    public void Unused_reserve_goes_to_higher_classes_in_the_second_pass()
    {
        BroadcastQueue queue = new(capacity: 10_000, lowerClassShare: 0.5);
        for (uint i = 1; i <= 2000; i++)
        {
            queue.Enqueue("m" + i, Ack(i));
        }

        queue.Enqueue(null, Ack(100_001), priority: BroadcastClass.Events);
        uint[] sent = Fill(queue, 1400, transmitLimit: 1);
        Assert.Contains(100_001u, sent);
        Assert.Equal((1400 - 3 - 1 - 4) / 7, sent.Length); // the packet is full nevertheless
    }

    [Fact]
    public void Overflow_drops_from_the_lowest_class_and_counts_it_there()
    {
        BroadcastQueue queue = new(capacity: 3);
        queue.Enqueue("d", Ack(1), priority: BroadcastClass.Departure);
        queue.Enqueue(null, Ack(2), priority: BroadcastClass.Events);
        queue.Enqueue("m", Ack(3));
        queue.Enqueue("m2", Ack(4));
        Assert.Equal(1, queue.DroppedOf(BroadcastClass.Events));
        Assert.Equal(0, queue.DroppedOf(BroadcastClass.Membership));
        queue.Enqueue("m3", Ack(5));
        Assert.Equal(1, queue.DroppedOf(BroadcastClass.Membership));
        Assert.Equal(2, queue.Dropped);
        Assert.Equal(1, queue.CountOf(BroadcastClass.Departure));
    }

    [Fact]
    public void Expired_messages_are_retired_and_counted_by_class()
    {
        BroadcastQueue queue = new(capacity: 100);
        queue.Enqueue(null, Ack(1), priority: BroadcastClass.Events, expiresAt: TimeSpan.FromSeconds(5));
        queue.Enqueue(null, Ack(2), priority: BroadcastClass.Events, expiresAt: TimeSpan.FromSeconds(10));
        queue.Enqueue("m", Ack(3));
        Assert.Equal(0, queue.ExpireDue(TimeSpan.FromSeconds(4)));
        Assert.Equal(1, queue.ExpireDue(TimeSpan.FromSeconds(5)));
        Assert.Equal(1, queue.ExpiredOf(BroadcastClass.Events));
        Assert.Equal([3u, 2u], Fill(queue, 1400));
    }

    private static byte[] Ack(uint sequence) => PacketBuilder.EncodeMessage(new AckMessage(sequence));

    private static uint[] Fill(BroadcastQueue queue, int budget, int transmitLimit = 10)
    {
        PacketBuilder builder = new(budget);
        int added = queue.Fill(builder, transmitLimit, default);
        List<uint> sequences = [];
        if (added == 0)
        {
            return [];
        }

        Assert.Equal(DecodeError.None, PacketReader.TryOpen(builder.Finish(), budget, out PacketReader reader));
        while (reader.TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out _))
        {
            Assert.Equal(MessageType.Ack, type);
            Assert.Equal(DecodeError.None, AckMessage.TryDecode(payload, null, out AckMessage ack));
            sequences.Add(ack.Sequence);
        }

        Assert.Equal(added, sequences.Count);
        return [.. sequences];
    }
}
