using System.Buffers;
using System.Runtime.InteropServices;
using Rumor.Core.Membership;
using Rumor.Core.Wire;

namespace Rumor.Core.Dissemination;

/// <summary>
/// The transmit-limited broadcast queue of rumor mongering (memberlist's TransmitLimitedQueue) with
/// priority classes. Each queued message is piggybacked on outgoing packets until it has been sent
/// <c>limit = RetransmitMultiplier × ceil(log10(N + 1))</c> times, which damps old news: within a
/// class the fewest-sent messages go first (newest first among equals), so fresh rumors spread
/// fastest. A message with a key replaces any older queued message with the same key (only the
/// newest news about a member matters).
/// <para>
/// Classes (<see cref="BroadcastClass"/>): a packet is filled in two passes. First pass, most urgent
/// class first: while any less urgent class has messages waiting, a class may only fill the packet
/// down to <c>lowerClassShare × room</c> bytes, which are kept for the classes below it. Second
/// pass, most urgent first again: whatever room is left goes to any class. So departures always go
/// first, but user events get at least a share of every packet they wait for, and no class starves.
/// </para>
/// <para>
/// Bounded: when full, the most-sent message of the least urgent non-empty class is dropped. A
/// message may carry an expiry (queries carry their deadline); <see cref="ExpireDue"/> retires
/// expired ones. Drops and expiries are counted per class.
/// </para>
/// <para>
/// Not back where it came from: a message may name the member it was learned from (a relayed user
/// event or query names the sender of the packet that carried it), and a packet to that member
/// never carries it and counts no transmission. At three members the limit is two transmissions in
/// all (local preset), and the ack to the ping that brought a query, or a gossip round that chose
/// the sender first, used them up on the one member that had it: the third member never heard it
/// (fresh-clone CI, session 17; tests/Rumor.Simulation.Tests/QueryRelayTests.cs). A message whose
/// only target is its source would then wait forever, so it retires after being passed over
/// <see cref="SourceSkipsMax"/> × limit times for it. Membership news (alive, suspect, dead) names
/// no source and goes as memberlist sends it.
/// </para>
/// </summary>
internal sealed class BroadcastQueue
{
    private const int ClassCount = 4;

    /// <summary>Slots the item table keeps when it drains (more are given back).</summary>
    private const int KeptSlots = 64;

    private const int ChunkShift = 8;

    /// <summary>Slots in a full chunk of the slot table: 256 × 32 bytes = 8 KB.</summary>
    internal const int ChunkSlots = 1 << ChunkShift;

    private const int ChunkMask = ChunkSlots - 1;

    /// <summary>
    /// Fills of a packet to its source that a message may be passed over, as a multiple of the
    /// transmit limit, before it retires untransmitted there: wide enough that at three members the
    /// rounds that choose the source first do not retire it before the third member got its
    /// transmissions (about one pass-over per send), bounded so that a message with no one else to
    /// go to leaves the queue.
    /// </summary>
    public const int SourceSkipsMax = 2;

    private const byte LeaveFlag = 1;
    private const byte PickedFlag = 2;
    private const byte PassedOverFlag = 4;
    private const byte RelayedFlag = 8;

    private readonly ClassQueue[] _classes = new ClassQueue[ClassCount];

    // Every queued message is a slot of this table, and everything else refers to it by number: the
    // transmit-count buckets, the key index and the relayed parts (see Slot). The table is chunks of
    // ChunkSlots slots (SlotAt): the first grows by doubling up to a chunk, then whole chunks are
    // added, so a growing table never copies more than one chunk and no array reaches the large
    // object heap. As one array doubling to 4,096 slots, a node's join left up to 64 KB of copies
    // behind it and, above 2,048 queued messages, a 128 KB large-object array per node that only a
    // full collection frees (docs/BENCHMARKS.md, issue 17).
    private Slot[][] _chunks = [];
    private int _slotCapacity; // slots in all chunks
    private int _slotsUsed; // slots handed out at least once: the free ones below it are on the free list
    private int _freeSlot = -1; // head of the free list, linked through Slot.Transmits

    // The queued message of each key: 4 bytes a bucket at a load of at most two thirds, the keys read
    // from the slots (a HashSet<Item> took a 20-byte entry and a 4-byte bucket per slot; issue 17).
    private readonly NameSlotIndex _byKey = new();

    // The parts only relayed events and queries have (the member it came from, an expiry, pass-overs),
    // by slot: a few at a time, where the Alives of a join are thousands per node.
    private readonly Dictionary<int, Relay> _relays = [];
    private readonly List<int> _picked = [];
    private readonly List<int> _expired = [];
    private readonly List<int> _passedOver = [];
    private readonly long[] _droppedByClass = new long[ClassCount];
    private readonly long[] _expiredByClass = new long[ClassCount];
    private readonly LengthFloor[] _floors = new LengthFloor[ClassCount];
    private readonly int _capacity;
    private readonly double _lowerClassShare;
    private long _nextId;
    private int _count;

    public BroadcastQueue(int capacity, double lowerClassShare = 0.25)
    {
        _capacity = capacity;
        _lowerClassShare = Math.Clamp(lowerClassShare, 0, 1);
        for (int i = 0; i < ClassCount; i++)
        {
            _classes[i] = new ClassQueue(this);
            _floors[i] = new LengthFloor();
        }
    }

    public int Count => _count;

    /// <summary>Messages dropped because the queue was full (all classes).</summary>
    public long Dropped { get; private set; }

    /// <summary>Messages retired because their expiry passed before they reached the transmit limit (all classes).</summary>
    public long Expired { get; private set; }

    /// <summary>Set when a leave announcement has been sent as often as the limit asks, or was dropped.</summary>
    public bool LeaveDone { get; private set; }

    /// <summary>
    /// Bytes the queue's tables hold now: the slot table, the key index and the transmit-count
    /// buckets (not the messages, which the queue shares with their sender, nor the few relayed parts).
    /// </summary>
    internal long TableBytes
    {
        get
        {
            long bytes = ((long)_slotCapacity * SlotBytes) + ((long)_chunks.Length * IntPtr.Size) + ((long)_byKey.Capacity * sizeof(int));
            foreach (ClassQueue set in _classes)
            {
                bytes += set.ArrayBytes;
            }

            return bytes;
        }
    }

    /// <summary>Slots the table holds now, in all chunks (for tests).</summary>
    internal int SlotCapacity => _slotCapacity;

    /// <summary>The size of one slot (pinned by a test: 32 bytes).</summary>
    internal static int SlotBytes => System.Runtime.CompilerServices.Unsafe.SizeOf<Slot>();

    /// <summary>Messages waiting in one class.</summary>
    public int CountOf(BroadcastClass priority) => _classes[(int)priority].Count;

    /// <summary>Messages of one class dropped because the queue was full.</summary>
    public long DroppedOf(BroadcastClass priority) => _droppedByClass[(int)priority];

    /// <summary>Messages of one class that expired before reaching the transmit limit.</summary>
    public long ExpiredOf(BroadcastClass priority) => _expiredByClass[(int)priority];

    /// <summary>
    /// Queues a message (type byte + payload). <paramref name="key"/> names what it is about (a
    /// member, or a coalescing event); a leave is always of class <see cref="BroadcastClass.Departure"/>.
    /// </summary>
    public void Enqueue(string? key, byte[] message, bool isLeave = false, BroadcastClass priority = BroadcastClass.Membership, TimeSpan? expiresAt = null, NodeAddress? source = null)
    {
        if (isLeave)
        {
            priority = BroadcastClass.Departure;
        }

        if (key is not null)
        {
            int older = _byKey.Remove(key, new SlotKeys(_chunks));
            if (older >= 0)
            {
                bool olderWasLeave = (SlotAt(older).Flags & LeaveFlag) != 0;
                RemoveFromClass(older);
                FreeSlot(older);
                if (olderWasLeave && !isLeave)
                {
                    LeaveDone = true;
                }
            }
        }

        if (_count >= _capacity && !MakeRoom((int)priority))
        {
            // The new message is itself what a full queue drops: the only one of the least urgent class.
            Dropped++;
            _droppedByClass[(int)priority]++;
            LeaveDone |= isLeave;
            return;
        }

        TimeSpan expiry = expiresAt ?? TimeSpan.MaxValue;
        bool relayed = source is not null || expiry != TimeSpan.MaxValue;
        int slot = NewSlot();
        SlotAt(slot) = new Slot
        {
            Key = key,
            Message = message,
            Id = ++_nextId,
            Priority = (byte)priority,
            Flags = (byte)((isLeave ? LeaveFlag : 0) | (relayed ? RelayedFlag : 0)),
        };
        if (relayed)
        {
            _relays[slot] = new Relay(expiry, source);
        }

        AddToClass(slot);
        if (key is not null)
        {
            _byKey.Add(slot, new SlotKeys(_chunks));
        }

    }

    /// <summary>
    /// Makes room in a full queue for a message of class <paramref name="priority"/> by dropping what
    /// adding it first and then dropping the last in send order of the least urgent non-empty class
    /// would drop: the most-sent, oldest message of that class; false when that would be the new
    /// message itself (the only one of the least urgent class: a new message is the first of its
    /// class in send order). Dropping first keeps the slot table at the capacity, not one over it
    /// (a 4,097th slot doubled its transmit-count bucket to 8,192 entries).
    /// </summary>
    private bool MakeRoom(int priority)
    {
        while (_count >= _capacity)
        {
            int c = ClassCount - 1;
            while (c > priority && _classes[c].Count == 0)
            {
                c--;
            }

            if (_classes[c].Count == 0)
            {
                return false; // c == priority, and the class holds only the new message
            }

            Remove(_classes[c].Last);
            Dropped++;
            _droppedByClass[c]++;
        }

        return true;
    }

    /// <summary>
    /// Adds as many queued messages as fit into <paramref name="builder"/>, a packet to
    /// <paramref name="to"/> (two passes by class, see the type's remarks; never a message learned
    /// from <paramref name="to"/>); counts a transmission for each and retires those that reach
    /// <paramref name="transmitLimit"/>.
    /// </summary>
    public int Fill(PacketBuilder builder, int transmitLimit, NodeAddress to)
    {
        if (_count == 0)
        {
            return 0;
        }

        _picked.Clear();
        _passedOver.Clear();
        int roomAtStart = builder.RemainingForMessage;
        int share = (int)(roomAtStart * _lowerClassShare);
        bool full = false;
        for (int c = 0; c < ClassCount && !full; c++)
        {
            int reserve = LowerClassesWaiting(c) ? share : 0;
            full = FillClass(builder, c, reserve, to);
        }

        for (int c = 0; c < ClassCount && !full; c++)
        {
            full = FillClass(builder, c, 0, to);
        }

        foreach (int slot in _picked)
        {
            ref Slot item = ref SlotAt(slot);
            item.Flags &= unchecked((byte)~PickedFlag);
            RemoveFromClass(slot);
            item.Transmits++;
            if (item.Transmits >= transmitLimit)
            {
                Remove(slot); // out of its class already: retired at the limit
            }
            else
            {
                AddToClass(slot);
            }
        }

        foreach (int slot in _passedOver)
        {
            SlotAt(slot).Flags &= unchecked((byte)~PassedOverFlag);
            if (++_relays[slot].SourceSkips >= SourceSkipsMax * transmitLimit) // only an item with a source is passed over
            {
                Remove(slot); // no one but its source to go to: retired, as at the transmit limit
            }
        }

        TrimIfDrained();
        return _picked.Count;
    }

    /// <summary>Retires every message whose expiry is at or before <paramref name="now"/>, counting each by class.</summary>
    public int ExpireDue(TimeSpan now)
    {
        if (_relays.Count == 0)
        {
            return 0; // only relayed messages expire
        }

        _expired.Clear();
        foreach ((int slot, Relay relay) in _relays)
        {
            if (relay.Expiry <= now)
            {
                _expired.Add(slot);
            }
        }

        foreach (int slot in _expired)
        {
            int priority = SlotAt(slot).Priority;
            Remove(slot);
            Expired++;
            _expiredByClass[priority]++;
        }

        TrimIfDrained();
        return _expired.Count;
    }

    /// <summary>Forgets every queued message.</summary>
    public void Clear()
    {
        for (int slot = 0; slot < _slotsUsed; slot++)
        {
            ref Slot item = ref SlotAt(slot);
            if (item.Message is not null)
            {
                LeaveDone |= (item.Flags & LeaveFlag) != 0;
            }
        }

        foreach (ClassQueue set in _classes)
        {
            set.Clear();
        }

        foreach (LengthFloor floor in _floors)
        {
            floor.Clear();
        }

        _count = 0;
        _relays.Clear();
        ResetSlots();
    }

    /// <summary>Fills from one class, keeping <paramref name="reserve"/> bytes free; true when the packet is full.</summary>
    private bool FillClass(PacketBuilder builder, int c, int reserve, NodeAddress to)
    {
        ClassQueue set = _classes[c];
        if (set.Count == 0)
        {
            return false;
        }

        int floor = _floors[c].Floor;
        for (int t = 0; t < set.Buckets; t++)
        {
            // Fewest transmits first; within a count, newest (highest id, the end of the bucket) first.
            for (int i = set.CountIn(t) - 1; i >= 0; i--)
            {
                int slot = set.At(t, i);
                ref Slot item = ref SlotAt(slot);
                int room = builder.RemainingForMessage;
                if (room < 2)
                {
                    return true;
                }

                if (room - reserve < floor)
                {
                    // No message of this class is that short: the rest of the scan would add nothing
                    // (and at a join's thousands of queued Alives it cost a third of the simulator's time).
                    return false;
                }

                if ((item.Flags & RelayedFlag) != 0 && _relays[slot].From is { } source && source == to)
                {
                    if ((item.Flags & PassedOverFlag) == 0)
                    {
                        item.Flags |= PassedOverFlag;
                        _passedOver.Add(slot);
                    }

                    continue;
                }

                if ((item.Flags & PickedFlag) == 0 && item.Message!.Length <= room - reserve && builder.TryAddEncoded(item.Message))
                {
                    item.Flags |= PickedFlag;
                    _picked.Add(slot);
                }
            }
        }

        return false;
    }

    private bool LowerClassesWaiting(int c)
    {
        for (int lower = c + 1; lower < ClassCount; lower++)
        {
            if (_classes[lower].Count > 0)
            {
                return true;
            }
        }

        return false;
    }

    private void AddToClass(int slot)
    {
        ref Slot item = ref SlotAt(slot);
        int priority = item.Priority;
        if (_classes[priority].Add(slot))
        {
            _count++;
            _floors[priority].Add(item.Message!.Length);
        }
    }

    private void RemoveFromClass(int slot)
    {
        ref Slot item = ref SlotAt(slot);
        int priority = item.Priority;
        if (_classes[priority].Remove(slot))
        {
            _count--;
            _floors[priority].Remove(item.Message!.Length);
        }
    }

    /// <summary>Retires a queued message: out of its class (if still in it) and the key index, its slot freed.</summary>
    private void Remove(int slot)
    {
        RemoveFromClass(slot);
        ref Slot item = ref SlotAt(slot);
        if (item.Key is not null)
        {
            _byKey.Remove(item.Key, slot, new SlotKeys(_chunks)); // a keyed message is indexed until it retires (one per key)
        }

        if ((item.Flags & LeaveFlag) != 0)
        {
            LeaveDone = true;
        }

        FreeSlot(slot);
    }

    private int NewSlot()
    {
        if (_freeSlot >= 0)
        {
            int free = _freeSlot;
            _freeSlot = SlotAt(free).Transmits;
            return free;
        }

        if (_slotsUsed == _slotCapacity)
        {
            GrowSlots();
        }

        return _slotsUsed++;
    }

    /// <summary>
    /// Room for one more slot: the first chunk doubles (from 16) up to <see cref="ChunkSlots"/>, then
    /// a chunk is added; never past what the queue holds at once (a full queue drops before it adds),
    /// so a full queue of 4,096 has 4,096 slots.
    /// </summary>
    private void GrowSlots()
    {
        long limit = Math.Max(16L, _capacity);
        int chunk = _slotCapacity >> ChunkShift;
        if (chunk == 0)
        {
            int length = (int)Math.Min(Math.Max(16L, _slotCapacity * 2L), Math.Min(ChunkSlots, limit));
            if (_chunks.Length == 0)
            {
                _chunks = new Slot[1][];
            }

            Array.Resize(ref _chunks[0], length);
            _slotCapacity = length;
            return;
        }

        if (chunk == _chunks.Length)
        {
            Array.Resize(ref _chunks, chunk * 2);
        }

        int added = (int)Math.Min(ChunkSlots, Math.Max(1L, limit - _slotCapacity));
        _chunks[chunk] = new Slot[added];
        _slotCapacity += added;
    }

    /// <summary>Slot <paramref name="slot"/> of the table (below the table's capacity).</summary>
    private ref Slot SlotAt(int slot) => ref _chunks[slot >> ChunkShift][slot & ChunkMask];

    private void FreeSlot(int slot)
    {
        ref Slot item = ref SlotAt(slot);
        if ((item.Flags & RelayedFlag) != 0)
        {
            _relays.Remove(slot);
        }

        item = new Slot { Transmits = _freeSlot }; // no references kept
        _freeSlot = slot;
    }

    /// <summary>
    /// Gives back the tables' storage once the queue has drained after a burst (a join queues an
    /// Alive per member: at N = 500 the key index alone kept 22 KB per node, 44 bytes per member
    /// record, for the rest of the run). The index is only looked up, never iterated, and the slot
    /// numbers order nothing (ids do), so neither's size changes a decision; below
    /// <see cref="KeptSlots"/> slots they are left alone.
    /// </summary>
    private void TrimIfDrained()
    {
        if (_count == 0 && _slotCapacity > KeptSlots)
        {
            ResetSlots();
        }
    }

    private void ResetSlots()
    {
        if (_slotCapacity > KeptSlots)
        {
            _chunks = [];
            _slotCapacity = 0;
        }
        else if (_chunks.Length > 0)
        {
            Array.Clear(_chunks[0]);
        }

        _slotsUsed = 0;
        _freeSlot = -1;
        _byKey.Clear();
    }

    /// <summary>
    /// One queued message, a slot of the queue's table. A node can hold thousands at once (a join
    /// queues an Alive per member, up to <see cref="GossipOptions.BroadcastQueueMax"/>), and a
    /// simulated cluster N times that: at a 5,000-node join, twenty million. So a message is a
    /// 32-byte struct in one array per node (key, message, id, transmit count, class and flags),
    /// referred to by its 4-byte number from the transmit-count buckets and the key index; the
    /// parts only relayed events and queries use live in <see cref="Relay"/>, by slot. Before
    /// session 30 each was a 48-byte object with a reference in a bucket and a 20-byte entry in a
    /// <c>HashSet</c> (and 112 bytes before session 26): docs/BENCHMARKS.md, issue 17.
    /// A free slot has no message, and its transmit count links it to the next free one.
    /// </summary>
    [StructLayout(LayoutKind.Auto)]
    private struct Slot
    {
        public string? Key;
        public byte[]? Message;
        public long Id;
        public int Transmits;
        public byte Priority;
        public byte Flags;
    }

    /// <summary>What a relayed event or query has beside its slot: when it retires unsent, the member it was learned from (never sent back there), and its pass-overs.</summary>
    private sealed class Relay(TimeSpan expiry, NodeAddress? from)
    {
        public TimeSpan Expiry { get; } = expiry;

        public NodeAddress? From { get; } = from;

        /// <summary>Fills of packets to <see cref="From"/> that passed it over.</summary>
        public int SourceSkips { get; set; }
    }

    /// <summary>The keys of the slot table, for the key index.</summary>
    private readonly struct SlotKeys(Slot[][] chunks) : ISlotNames
    {
        public string NameAt(int slot) => chunks[slot >> ChunkShift][slot & ChunkMask].Key!;
    }

    /// <summary>
    /// A lower bound on the shortest message of one class, kept as a count of messages per length
    /// bucket of <see cref="BucketBytes"/> bytes (the last bucket holds every longer message), so
    /// that a fill stops scanning a class once the room left is below it. Only a bound, so it never
    /// changes which messages a packet gets: a fill skips exactly the messages that would not fit.
    /// </summary>
    private sealed class LengthFloor
    {
        private const int BucketBytes = 4;
        private const int Buckets = 64;

        private readonly int[] _counts = new int[Buckets];
        private int _lowest = Buckets; // lowest non-empty bucket; Buckets when empty
        private bool _stale;

        /// <summary>No message of the class is shorter than this.</summary>
        public int Floor
        {
            get
            {
                if (_stale)
                {
                    int found = Array.FindIndex(_counts, static count => count > 0);
                    _lowest = found >= 0 ? found : Buckets;
                    _stale = false;
                }

                return _lowest == Buckets ? int.MaxValue : _lowest * BucketBytes;
            }
        }

        public void Add(int length)
        {
            int bucket = BucketOf(length);
            _counts[bucket]++;
            if (!_stale && bucket < _lowest)
            {
                _lowest = bucket;
            }
        }

        public void Remove(int length)
        {
            int bucket = BucketOf(length);
            if (--_counts[bucket] == 0 && bucket == _lowest)
            {
                _stale = true;
            }
        }

        public void Clear()
        {
            Array.Clear(_counts);
            _lowest = Buckets;
            _stale = false;
        }

        private static int BucketOf(int length) => Math.Min(length / BucketBytes, Buckets - 1);
    }

    /// <summary>
    /// One class's messages in send order (fewest transmits first, then newest first), without a
    /// tree: a bucket per transmit count, each an array sorted by ascending id (a new message is
    /// appended; one moving up a count is inserted by binary search). A message moves up one count
    /// per transmission, and a SortedSet allocated a node for every move: at a 1,000-node join that
    /// was about a quarter of the simulator's allocation. Emptied buckets that had grown past
    /// <see cref="KeptBucketCapacity"/> give their array back (a join fills them once), and an
    /// emptied class gives back all of them.
    /// </summary>
    private sealed class ClassQueue(BroadcastQueue queue)
    {
        private const int KeptBucketCapacity = 16;

        // The shared pool's smallest arrays.
        private const int MinBucketCapacity = 16;

        private int[][] _buckets = [];
        private int[] _counts = [];

        public int Count { get; private set; }

        /// <summary>Buckets in use or kept: transmit counts 0 … Buckets − 1.</summary>
        public int Buckets => _buckets.Length;

        /// <summary>Bytes of the bucket arrays (4 a slot, with their unused room).</summary>
        public long ArrayBytes
        {
            get
            {
                long bytes = 0;
                foreach (int[] bucket in _buckets)
                {
                    bytes += (long)bucket.Length * sizeof(int);
                }

                return bytes;
            }
        }

        public int CountIn(int transmits) => _counts[transmits];

        /// <summary>The slot of the message at <paramref name="index"/> of a bucket (ascending id: the last is the newest).</summary>
        public int At(int transmits, int index) => _buckets[transmits][index];

        /// <summary>The last message in send order: the oldest of the most-sent.</summary>
        public int Last
        {
            get
            {
                for (int t = _buckets.Length - 1; t >= 0; t--)
                {
                    if (_counts[t] > 0)
                    {
                        return _buckets[t][0];
                    }
                }

                throw new InvalidOperationException("The class is empty.");
            }
        }

        public bool Add(int slot)
        {
            int t = queue.SlotAt(slot).Transmits;
            if (t >= _buckets.Length)
            {
                int length = Math.Max(t + 1, _buckets.Length * 2);
                int old = _buckets.Length;
                Array.Resize(ref _buckets, length);
                Array.Resize(ref _counts, length);
                for (int i = old; i < length; i++)
                {
                    _buckets[i] = [];
                }
            }

            int[] bucket = _buckets[t];
            int n = _counts[t];
            int at = Position(bucket, n, queue.SlotAt(slot).Id);
            if (at < n && bucket[at] == slot)
            {
                return false;
            }

            if (n == bucket.Length)
            {
                int[] grown = ArrayPool<int>.Shared.Rent(Math.Max(MinBucketCapacity, n * 2));
                Array.Copy(bucket, grown, n);
                GiveBack(bucket);
                bucket = grown;
                _buckets[t] = bucket;
            }

            Array.Copy(bucket, at, bucket, at + 1, n - at);
            bucket[at] = slot;
            _counts[t] = n + 1;
            Count++;
            return true;
        }

        public bool Remove(int slot)
        {
            int t = queue.SlotAt(slot).Transmits;
            if (t >= _buckets.Length)
            {
                return false;
            }

            int[] bucket = _buckets[t];
            int n = _counts[t];
            int at = Position(bucket, n, queue.SlotAt(slot).Id);
            if (at >= n || bucket[at] != slot)
            {
                return false;
            }

            Array.Copy(bucket, at + 1, bucket, at, n - at - 1);
            _counts[t] = n - 1;
            Count--;
            if (Count == 0)
            {
                Clear(); // an idle node keeps no arrays
            }
            else if (n == 1 && bucket.Length > KeptBucketCapacity)
            {
                GiveBack(bucket);
                _buckets[t] = [];
            }

            return true;
        }

        public void Clear()
        {
            for (int t = 0; t < _buckets.Length; t++)
            {
                GiveBack(_buckets[t]);
            }

            _buckets = [];
            _counts = [];
            Count = 0;
        }

        /// <summary>
        /// Returns a bucket's array to the shared pool (slot numbers hold no references, so nothing
        /// needs clearing). Every non-empty bucket array comes from the pool: a join moves each
        /// queued Alive through one bucket per transmission, so each bucket grows to thousands of
        /// items and empties again, wave after wave, on every node (at N = 2,000 the growing arrays
        /// were a fifth of the join's allocation when each was new).
        /// </summary>
        private static void GiveBack(int[] bucket)
        {
            if (bucket.Length == 0)
            {
                return;
            }

            ArrayPool<int>.Shared.Return(bucket);
        }

        /// <summary>The first index of the bucket whose id is at least <paramref name="id"/> (ids are unique).</summary>
        private int Position(int[] bucket, int count, long id)
        {
            if (count == 0 || queue.SlotAt(bucket[count - 1]).Id < id)
            {
                return count; // the common case: a new message, newer than all
            }

            int low = 0, high = count;
            while (low < high)
            {
                int mid = (low + high) >>> 1;
                if (queue.SlotAt(bucket[mid]).Id < id)
                {
                    low = mid + 1;
                }
                else
                {
                    high = mid;
                }
            }

            return low;
        }
    }
}
