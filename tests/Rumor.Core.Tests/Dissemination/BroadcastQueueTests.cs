using Rumor.Core.Dissemination;
using Rumor.Core.Tests.Support;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Dissemination;

public class BroadcastQueueTests
{
    [Fact]
    public void Newest_first_among_messages_sent_equally_often()
    {
        BroadcastQueue queue = new(capacity: 100);
        queue.Enqueue("a", Ack(1));
        queue.Enqueue("b", Ack(2));
        queue.Enqueue("c", Ack(3));
        Assert.Equal([3u, 2u, 1u], FillOnce(queue, limit: 10));
    }

    [Fact]
    public void Fewest_transmits_first()
    {
        BroadcastQueue queue = new(capacity: 100);
        queue.Enqueue("a", Ack(1));
        queue.Enqueue("b", Ack(2));
        Assert.Equal([2u, 1u], FillOnce(queue, limit: 10)); // both now sent once
        queue.Enqueue("c", Ack(3)); // never sent: goes first although b and a are... older news
        Assert.Equal([3u, 2u, 1u], FillOnce(queue, limit: 10));

        // Now c has 1 transmit, a and b have 2; a small packet takes only the fewest-sent.
        Assert.Equal([3u], FillOnce(queue, limit: 10, budget: 3 + 1 + 7 + 4));
        Assert.Equal([3u, 2u, 1u], FillOnce(queue, limit: 10)); // all at 2 transmits again, newest first
    }

    [Fact]
    public void Same_key_replaces_the_older_message()
    {
        BroadcastQueue queue = new(capacity: 100);
        queue.Enqueue("a", Ack(1));
        queue.Enqueue("b", Ack(2));
        queue.Enqueue("a", Ack(3));
        Assert.Equal(2, queue.Count);
        Assert.Equal([3u, 2u], FillOnce(queue, limit: 10));
    }

    [Fact]
    public void Replacement_starts_its_transmit_count_afresh()
    {
        BroadcastQueue queue = new(capacity: 100);
        queue.Enqueue("a", Ack(1));
        queue.Enqueue("b", Ack(2));
        FillOnce(queue, limit: 10);
        FillOnce(queue, limit: 10);
        queue.Enqueue("a", Ack(3));
        Assert.Equal([3u], FillOnce(queue, limit: 10, budget: 3 + 1 + 7 + 4));
    }

    [Fact]
    public void Messages_without_a_key_never_replace_each_other()
    {
        BroadcastQueue queue = new(capacity: 100);
        queue.Enqueue(null, Ack(1));
        queue.Enqueue(null, Ack(2));
        Assert.Equal(2, queue.Count);
    }

    [Fact]
    public void Retires_a_message_when_it_reaches_the_transmit_limit()
    {
        BroadcastQueue queue = new(capacity: 100);
        queue.Enqueue("a", Ack(1));
        Assert.Equal([1u], FillOnce(queue, limit: 3));
        Assert.Equal([1u], FillOnce(queue, limit: 3));
        Assert.Equal(1, queue.Count);
        Assert.Equal([1u], FillOnce(queue, limit: 3));
        Assert.Equal(0, queue.Count);
        Assert.Empty(FillOnce(queue, limit: 3));

        // The key is forgotten with it: a new message under the same key is queued afresh.
        queue.Enqueue("a", Ack(2));
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public void Over_capacity_drops_the_most_sent_and_counts_it()
    {
        BroadcastQueue queue = new(capacity: 3);
        queue.Enqueue("a", Ack(1));
        queue.Enqueue("b", Ack(2));
        FillOnce(queue, limit: 10); // a and b: 1 transmit
        queue.Enqueue("c", Ack(3));
        FillOnce(queue, limit: 10, budget: 3 + 1 + 7 + 4); // c: 1 transmit
        FillOnce(queue, limit: 10); // a, b: 2; c: 2 ... all equal now except ordering by id
        FillOnce(queue, limit: 10, budget: 3 + 1 + 7 + 4); // c (newest among equals): 3
        Assert.Equal(0, queue.Dropped);

        queue.Enqueue("d", Ack(4));
        Assert.Equal(3, queue.Count);
        Assert.Equal(1, queue.Dropped);
        Assert.Equal([4u, 2u, 1u], FillOnce(queue, limit: 10)); // c, the most sent, is gone

        queue.Enqueue("e", Ack(5));
        Assert.Equal(2, queue.Dropped);
        // Among the most sent (a and b, 3 each) the oldest goes first: a.
        Assert.Equal([5u, 4u, 2u], FillOnce(queue, limit: 10));
    }

    [Fact]
    public void Fill_respects_the_builder_budget_and_keeps_the_rest_for_later()
    {
        BroadcastQueue queue = new(capacity: 1000);
        for (uint i = 1; i <= 300; i++)
        {
            queue.Enqueue("m" + i, PacketBuilder.EncodeMessage(new SuspectMessage("member-" + i, i, 1, "accuser")));
        }

        PacketBuilder builder = new(1400);
        int added = queue.Fill(builder, transmitLimit: 5, default);
        Assert.Equal(added, builder.Count);
        Assert.True(added is > 10 and < 300, $"added {added}");
        ReadOnlySpan<byte> packet = builder.Finish();
        Assert.True(packet.Length <= 1400);
        Assert.True(builder.RemainingForMessage < PacketBuilder.EncodeMessage(new SuspectMessage("member-1", 1, 1, "accuser")).Length);

        List<object?> decoded = [];
        Assert.Equal(DecodeError.None, Packets.DecodeAll(packet, 1400, null, decoded));
        Assert.Equal(added, decoded.Count);
        Assert.Equal("member-300", ((SuspectMessage)decoded[0]!).Name);
    }

    [Fact]
    public void Fill_skips_a_message_too_big_for_the_room_left_but_adds_smaller_ones()
    {
        BroadcastQueue queue = new(capacity: 100);
        queue.Enqueue("small-old", Ack(1));
        queue.Enqueue("big", PacketBuilder.EncodeMessage(new AliveMessage("big", NodeAddress.Parse("1.2.3.4:5"), 1, 1, ProtocolVersions.Current, new byte[1500])));
        queue.Enqueue("small-new", Ack(2));
        PacketBuilder builder = new(1400);
        Assert.Equal(2, queue.Fill(builder, transmitLimit: 10, default));
        List<object?> decoded = [];
        Assert.Equal(DecodeError.None, Packets.DecodeAll(builder.Finish(), 1400, null, decoded));
        Assert.Equal([new AckMessage(2), new AckMessage(1)], decoded.Cast<AckMessage>());
        Assert.Equal(3, queue.Count);
    }

    [Fact]
    public void Leave_is_done_once_sent_up_to_the_limit()
    {
        BroadcastQueue queue = new(capacity: 100);
        queue.Enqueue("me", Ack(1), isLeave: true);
        FillOnce(queue, limit: 2);
        Assert.False(queue.LeaveDone);
        FillOnce(queue, limit: 2);
        Assert.True(queue.LeaveDone);
    }

    [Theory]
    [InlineData(1, 300)]
    [InlineData(2, 300)]
    [InlineData(3, 300)]
    [InlineData(4, 300)]
    [InlineData(5, 300)]
    [InlineData(11, 20)]
    [InlineData(12, 20)]
    [InlineData(13, 20)]
    [InlineData(14, 20)]
    [InlineData(15, 20)]
    public void Fills_drops_and_expiries_match_a_sorted_list_model(int seed, int capacity)
    {
        // The queue keeps each class in transmit-count buckets and stops a class's scan once no
        // message of it can fit; the model sorts a plain list by (transmits, newest first) and scans
        // all of it every time. Same packets byte for byte, same drops, expiries and leave flag. A
        // large capacity fills packets to the last bytes (the scan's early stop); a small one drops.
        Random random = new(seed);
        BroadcastQueue queue = new(capacity);
        ModelQueue model = new(capacity);
        PacketBuilder a = new(1400), b = new(1400);
        int packetsWithRoomLeft = 0;
        for (int step = 0; step < 5000; step++)
        {
            int action = random.Next(10);
            if (action < 6)
            {
                string? key = random.Next(4) == 0 ? null : $"m{random.Next(2 * capacity)}";
                byte[] meta = new byte[random.Next(0, 300)];
                random.NextBytes(meta);
                byte[] message = PacketBuilder.EncodeMessage(new AliveMessage(new string('n', random.Next(1, 60)), new NodeAddress(0x7F000001, 7946), (uint)step, 1, default, meta));
                BroadcastClass priority = (BroadcastClass)random.Next(4);
                bool isLeave = random.Next(25) == 0;
                TimeSpan? expiry = random.Next(5) == 0 ? TimeSpan.FromSeconds(random.Next(150)) : null;
                queue.Enqueue(key, message, isLeave, priority, expiry);
                model.Enqueue(key, message, isLeave, priority, expiry ?? TimeSpan.MaxValue);
            }
            else if (action < 9)
            {
                int budget = random.Next(40, 1400);
                int limit = random.Next(1, 9);
                a.Reset(budget);
                b.Reset(budget);
                Assert.Equal(model.Fill(b, limit), queue.Fill(a, limit, default));
                packetsWithRoomLeft += a.RemainingForMessage >= 2 && queue.Count > 0 ? 1 : 0;
                Assert.Equal(b.Finish().ToArray(), a.Finish().ToArray());
            }
            else
            {
                TimeSpan now = TimeSpan.FromSeconds(step / 40.0);
                Assert.Equal(model.ExpireDue(now), queue.ExpireDue(now));
            }

            Assert.Equal(model.Count, queue.Count);
            Assert.Equal(model.Dropped, queue.Dropped);
            Assert.Equal(model.LeaveDone, queue.LeaveDone);
        }

        Assert.True(packetsWithRoomLeft > 100, $"only {packetsWithRoomLeft} packets ended with room that no queued message fitted");
        Assert.True(capacity > 100 || model.Dropped > 50, $"only {model.Dropped} drops: the capacity was not exercised");
    }

    /// <summary>The queue's documented behaviour, written the slow and obvious way.</summary>
    private sealed class ModelQueue(int capacity)
    {
        private readonly List<Entry> _items = [];
        private readonly Dictionary<string, Entry> _byKey = [];
        private long _nextId;

        public int Count => _items.Count;

        public long Dropped { get; private set; }

        public bool LeaveDone { get; private set; }

        public void Enqueue(string? key, byte[] message, bool isLeave, BroadcastClass priority, TimeSpan expiresAt)
        {
            int c = isLeave ? 0 : (int)priority;
            if (key is not null && _byKey.Remove(key, out Entry? older))
            {
                _items.Remove(older);
                LeaveDone |= older.IsLeave && !isLeave;
            }

            Entry entry = new(key, message, ++_nextId, isLeave, c, expiresAt);
            _items.Add(entry);
            if (key is not null)
            {
                _byKey[key] = entry;
            }

            while (_items.Count > capacity)
            {
                int least = _items.Max(e => e.Class);
                Remove(Ordered(least).Last());
                Dropped++;
            }
        }

        public int Fill(PacketBuilder builder, int limit)
        {
            if (_items.Count == 0)
            {
                return 0;
            }

            List<Entry> picked = [];
            int share = (int)(builder.RemainingForMessage * 0.25);
            bool full = false;
            for (int c = 0; c < 4 && !full; c++)
            {
                full = FillClass(builder, c, _items.Any(e => e.Class > c) ? share : 0, picked);
            }

            for (int c = 0; c < 4 && !full; c++)
            {
                full = FillClass(builder, c, 0, picked);
            }

            foreach (Entry entry in picked)
            {
                entry.Transmits++;
                if (entry.Transmits >= limit)
                {
                    _items.Remove(entry);
                    if (entry.Key is not null)
                    {
                        _byKey.Remove(entry.Key);
                    }

                    LeaveDone |= entry.IsLeave;
                }
            }

            return picked.Count;
        }

        public int ExpireDue(TimeSpan now)
        {
            List<Entry> expired = [.. _items.Where(e => e.ExpiresAt <= now)];
            expired.ForEach(Remove);
            return expired.Count;
        }

        private IEnumerable<Entry> Ordered(int c) => _items.Where(e => e.Class == c).OrderBy(e => e.Transmits).ThenByDescending(e => e.Id);

        private static bool FillClass(PacketBuilder builder, int c, int reserve, List<Entry> picked, IEnumerable<Entry> ordered)
        {
            foreach (Entry entry in ordered.ToList())
            {
                int room = builder.RemainingForMessage;
                if (room < 2)
                {
                    return true;
                }

                if (!picked.Contains(entry) && entry.Message.Length <= room - reserve && builder.TryAddEncoded(entry.Message))
                {
                    picked.Add(entry);
                }
            }

            return false;
        }

        private bool FillClass(PacketBuilder builder, int c, int reserve, List<Entry> picked) => FillClass(builder, c, reserve, picked, Ordered(c));

        private void Remove(Entry entry)
        {
            _items.Remove(entry);
            if (entry.Key is not null && _byKey.TryGetValue(entry.Key, out Entry? current) && ReferenceEquals(current, entry))
            {
                _byKey.Remove(entry.Key);
            }

            LeaveDone |= entry.IsLeave;
        }

        private sealed record Entry(string? Key, byte[] Message, long Id, bool IsLeave, int Class, TimeSpan ExpiresAt)
        {
            public int Transmits { get; set; }
        }
    }

    [Fact]
    public void A_message_is_never_sent_back_to_the_member_it_was_learned_from_and_costs_no_transmission_there()
    {
        NodeAddress source = new(0x7F000001, 7001);
        NodeAddress other = new(0x7F000002, 7001);
        BroadcastQueue queue = new(capacity: 100);
        queue.Enqueue(null, Ack(1), priority: BroadcastClass.Events, source: source);
        queue.Enqueue(null, Ack(2), priority: BroadcastClass.Events);

        // To the source: only the message it did not bring, however often that is asked.
        Assert.Equal([2u], FillOnce(queue, limit: 2, to: source));
        Assert.Equal([2u], FillOnce(queue, limit: 2, to: source)); // 2 retires at its limit
        Assert.Equal([], FillOnce(queue, limit: 2, to: source));

        // The passes over it cost no transmission: the other member still gets both of its two.
        Assert.Equal([1u], FillOnce(queue, limit: 2, to: other));
        Assert.Equal([1u], FillOnce(queue, limit: 2, to: other));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void A_message_with_no_one_but_its_source_to_go_to_retires_after_being_passed_over_twice_the_limit()
    {
        NodeAddress source = new(0x7F000001, 7001);
        BroadcastQueue queue = new(capacity: 100);
        queue.Enqueue(null, Ack(1), priority: BroadcastClass.Events, source: source);
        for (int i = 1; i < BroadcastQueue.SourceSkipsMax * 3; i++)
        {
            Assert.Equal([], FillOnce(queue, limit: 3, to: source));
            Assert.Equal(1, queue.Count);
        }

        Assert.Equal([], FillOnce(queue, limit: 3, to: source));
        Assert.Equal(0, queue.Count); // retired: a node alone with the member that told it drains its queue
        Assert.Equal(0, queue.Dropped);
    }

    [Fact]
    public void A_queued_message_is_a_32_byte_slot_and_a_full_queue_of_4096_holds_under_48_bytes_a_message()
    {
        // A join queues an Alive per member on every node (twenty million items at a simulated
        // 5,000-node join), so what a queued message costs is pinned (docs/BENCHMARKS.md, issue 17):
        // its slot, its 4-byte number in the key index and in a transmit-count bucket.
        Assert.Equal(32, BroadcastQueue.SlotBytes);
        const int capacity = 4096;
        BroadcastQueue queue = new(capacity);
        byte[] message = Ack(1);
        string[] keys = new string[capacity + 100];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = "member-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            queue.Enqueue(keys[i], message);
        }

        Assert.Equal(capacity, queue.Count);
        Assert.Equal(100, queue.Dropped);
        long bytes = queue.TableBytes;
        Assert.InRange(bytes / capacity, 32, 47); // 4,096 slots, an index of 8,192 buckets, a bucket of 4,096

        // A relayed message carries its source and expiry beside its slot: never sent back, retired when due.
        NodeAddress source = NodeAddress.Parse("10.0.0.9:7946");
        queue.Enqueue("relayed", Ack(2), expiresAt: TimeSpan.FromSeconds(3), source: source);
        Assert.Equal(capacity, queue.Count);
        Assert.Equal(101, queue.Dropped); // the oldest made room for it
        Assert.DoesNotContain(2u, FillOnce(queue, limit: 100, to: source));
        Assert.Equal(0, queue.ExpireDue(TimeSpan.FromSeconds(2)));
        Assert.Equal(1, queue.ExpireDue(TimeSpan.FromSeconds(3)));
        Assert.Equal(capacity - 1, queue.Count);
        Assert.Equal(1, queue.ExpiredOf(BroadcastClass.Membership));

        // Drained, the tables are given back.
        for (int round = 0; round < 1_000 && queue.Count > 0; round++)
        {
            FillOnce(queue, limit: 1);
        }

        Assert.Equal(0, queue.Count);
        Assert.Equal(8 * sizeof(int), queue.TableBytes); // the key index's smallest table, nothing else
    }

    [Theory]
    [InlineData(40)] // the first chunk alone: 16, 32, then 40
    [InlineData(1000)] // 256 + 256 + 256 + 232: not a multiple of the chunk
    public void The_slot_table_grows_a_chunk_at_a_time_to_exactly_the_capacity_and_keeps_every_message(int capacity)
    {
        // The slot table is chunks of BroadcastQueue.ChunkSlots, so that a join's thousands of queued
        // Alives per node neither copy the table as it grows nor put it on the large object heap.
        BroadcastQueue queue = new(capacity);
        Dictionary<string, uint> latest = [];
        for (int i = 0; i < capacity; i++)
        {
            string key = "member-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            queue.Enqueue(key, Ack((uint)i));
            latest[key] = (uint)i;
        }

        Assert.Equal(capacity, queue.Count);
        Assert.Equal(capacity, queue.SlotCapacity); // no slack past what the queue holds at once

        // Every other key replaced: the old slots are freed and reused, the table does not grow.
        for (int i = 0; i < capacity; i += 2)
        {
            string key = "member-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            queue.Enqueue(key, Ack((uint)(100_000 + i)));
            latest[key] = (uint)(100_000 + i);
        }

        Assert.Equal(capacity, queue.Count);
        Assert.Equal(capacity, queue.SlotCapacity);

        // Drained with a transmit limit of one: each key's latest message exactly once, across every chunk.
        List<uint> sent = [];
        for (int round = 0; round < 10_000 && queue.Count > 0; round++)
        {
            sent.AddRange(FillOnce(queue, limit: 1));
        }

        Assert.Equal(latest.Values.Order(), sent.Order());
        Assert.Equal(0, queue.Count);
        Assert.Equal(capacity > 64 ? 0 : capacity, queue.SlotCapacity); // a drained table above 64 slots is given back
    }

    private static byte[] Ack(uint sequence) => PacketBuilder.EncodeMessage(new AckMessage(sequence));

    /// <summary>One gossip round: fills a fresh packet and returns the sequence numbers in packet order.</summary>
    private static uint[] FillOnce(BroadcastQueue queue, int limit, int budget = 1400, NodeAddress to = default)
    {
        PacketBuilder builder = new(1400);
        builder.Reset(budget);
        int added = queue.Fill(builder, limit, to);
        if (added == 0)
        {
            Assert.True(builder.Finish().IsEmpty);
            return [];
        }

        List<object?> decoded = [];
        Assert.Equal(DecodeError.None, Packets.DecodeAll(builder.Finish(), budget, null, decoded));
        Assert.Equal(added, decoded.Count);
        return [.. decoded.Select(m => ((AckMessage)m!).Sequence)];
    }
}
