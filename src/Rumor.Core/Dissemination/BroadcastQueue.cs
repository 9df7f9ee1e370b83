using System.Buffers;
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

    private const int KeyIndexKeptCapacity = 64;

    /// <summary>
    /// Fills of a packet to its source that a message may be passed over, as a multiple of the
    /// transmit limit, before it retires untransmitted there: wide enough that at three members the
    /// rounds that choose the source first do not retire it before the third member got its
    /// transmissions (about one pass-over per send), bounded so that a message with no one else to
    /// go to leaves the queue.
    /// </summary>
    public const int SourceSkipsMax = 2;

    private readonly ClassQueue[] _classes = new ClassQueue[ClassCount];
    // The queued message of each key, found by the key: a set of the items themselves (an item holds
    // its key), 20 bytes a slot where a dictionary from key to item took 28, looked up by string
    // through the comparer's alternate lookup (issue 17: a join fills it with an Alive per member).
    private readonly HashSet<Item> _byKey = new(ItemKeyComparer.Instance);
    private readonly HashSet<Item>.AlternateLookup<string> _byKeyName;
    private readonly List<Item> _picked = [];
    private readonly List<Item> _expired = [];
    private readonly List<Item> _passedOver = [];
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
        _byKeyName = _byKey.GetAlternateLookup<string>();
        _lowerClassShare = Math.Clamp(lowerClassShare, 0, 1);
        for (int i = 0; i < ClassCount; i++)
        {
            _classes[i] = new ClassQueue();
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

        if (key is not null && _byKeyName.TryGetValue(key, out Item? older))
        {
            _byKey.Remove(older);
            RemoveFromClass(older);
            if (older.IsLeave && !isLeave)
            {
                LeaveDone = true;
            }
        }

        Item item = Item.Create(key, message, ++_nextId, isLeave, priority, expiresAt ?? TimeSpan.MaxValue, source);
        AddToClass(item);
        if (key is not null)
        {
            _byKey.Add(item);
        }

        while (_count > _capacity)
        {
            for (int c = ClassCount - 1; c >= 0; c--)
            {
                if (_classes[c].Count > 0)
                {
                    Remove(_classes[c].Last);
                    Dropped++;
                    _droppedByClass[c]++;
                    break;
                }
            }
        }
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

        foreach (Item item in _picked)
        {
            item.Picked = false;
            RemoveFromClass(item);
            item.Transmits++;
            if (item.Transmits >= transmitLimit)
            {
                if (item.Key is not null)
                {
                    _byKey.Remove(item);
                }

                if (item.IsLeave)
                {
                    LeaveDone = true;
                }
            }
            else
            {
                AddToClass(item);
            }
        }

        foreach (Item item in _passedOver)
        {
            item.PassedOver = false;
            if (++((RelayedItem)item).SourceSkips >= SourceSkipsMax * transmitLimit) // only an item with a source is passed over
            {
                Remove(item); // no one but its source to go to: retired, as at the transmit limit
            }
        }

        TrimIfDrained();
        return _picked.Count;
    }

    /// <summary>Retires every message whose expiry is at or before <paramref name="now"/>, counting each by class.</summary>
    public int ExpireDue(TimeSpan now)
    {
        _expired.Clear();
        foreach (ClassQueue set in _classes)
        {
            for (int t = 0; t < set.Buckets; t++)
            {
                for (int i = set.CountIn(t) - 1; i >= 0; i--)
                {
                    Item item = set.At(t, i);
                    if (item.ExpiresAt <= now)
                    {
                        _expired.Add(item);
                    }
                }
            }
        }

        foreach (Item item in _expired)
        {
            Remove(item);
            Expired++;
            _expiredByClass[(int)item.Priority]++;
        }

        TrimIfDrained();
        return _expired.Count;
    }

    /// <summary>Forgets every queued message.</summary>
    public void Clear()
    {
        foreach (ClassQueue set in _classes)
        {
            for (int t = 0; t < set.Buckets; t++)
            {
                for (int i = 0; i < set.CountIn(t); i++)
                {
                    LeaveDone |= set.At(t, i).IsLeave;
                }
            }

            set.Clear();
        }

        foreach (LengthFloor floor in _floors)
        {
            floor.Clear();
        }

        _count = 0;
        _byKey.Clear();
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
                Item item = set.At(t, i);
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

                if (item.Source is { } source && source == to)
                {
                    if (!item.PassedOver)
                    {
                        item.PassedOver = true;
                        _passedOver.Add(item);
                    }

                    continue;
                }

                if (!item.Picked && item.Message.Length <= room - reserve && builder.TryAddEncoded(item.Message))
                {
                    item.Picked = true;
                    _picked.Add(item);
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

    private void AddToClass(Item item)
    {
        if (_classes[(int)item.Priority].Add(item))
        {
            _count++;
            _floors[(int)item.Priority].Add(item.Message.Length);
        }
    }

    /// <summary>
    /// Gives back the key index's storage once the queue has drained after a burst (a join queues
    /// an Alive per member: at N = 500 the dictionary kept 22 KB per node, 44 bytes per member
    /// record, for the rest of the run). The index is only looked up, never iterated, so its
    /// capacity changes no decision; below <see cref="KeyIndexKeptCapacity"/> it is left alone.
    /// </summary>
    private void TrimIfDrained()
    {
        if (_count == 0 && _byKey.Count == 0 && _byKey.Capacity > KeyIndexKeptCapacity)
        {
            _byKey.TrimExcess();
        }
    }

    private void RemoveFromClass(Item item)
    {
        if (_classes[(int)item.Priority].Remove(item))
        {
            _count--;
            _floors[(int)item.Priority].Remove(item.Message.Length);
        }
    }

    private void Remove(Item item)
    {
        RemoveFromClass(item);
        if (item.Key is not null && _byKey.TryGetValue(item, out Item? current) && ReferenceEquals(current, item))
        {
            _byKey.Remove(item);
        }

        if (item.IsLeave)
        {
            LeaveDone = true;
        }
    }

    /// <summary>
    /// One queued message. A node can hold thousands at once (a join queues an Alive per member, up
    /// to <see cref="GossipOptions.BroadcastQueueMax"/>), and a simulated cluster N times that: at a
    /// 1,000-node join, half a million in all. So the common item is 48 bytes (header, key, message,
    /// id, transmit count, class and flags), and the parts only relayed events and queries use (the
    /// member it came from, an expiry) live in <see cref="RelayedItem"/>, a subclass made only for
    /// them. Before, every item carried them: 112 bytes (docs/BENCHMARKS.md, issue 17, session 26).
    /// </summary>
    internal class Item(string? key, byte[] message, long id, bool isLeave, BroadcastClass priority)
    {
        private const byte LeaveFlag = 1;
        private const byte PickedFlag = 2;
        private const byte PassedOverFlag = 4;

        private readonly byte _priority = (byte)priority;
        private byte _flags = (byte)(isLeave ? LeaveFlag : 0);

        public string? Key { get; } = key;

        public byte[] Message { get; } = message;

        public long Id { get; } = id;

        public bool IsLeave => (_flags & LeaveFlag) != 0;

        public BroadcastClass Priority => (BroadcastClass)_priority;

        public int Transmits { get; set; }

        /// <summary>Taken into the packet being filled (so the second pass does not add it twice).</summary>
        public bool Picked
        {
            get => (_flags & PickedFlag) != 0;
            set => SetFlag(PickedFlag, value);
        }

        /// <summary>Passed over in the fill under way (counted once per fill).</summary>
        public bool PassedOver
        {
            get => (_flags & PassedOverFlag) != 0;
            set => SetFlag(PassedOverFlag, value);
        }

        /// <summary>This item is a <see cref="RelayedItem"/>.</summary>
        public bool IsRelayed => this is RelayedItem;

        /// <summary>When it retires unsent (<see cref="TimeSpan.MaxValue"/>: never).</summary>
        public TimeSpan ExpiresAt => this is RelayedItem relayed ? relayed.Expiry : TimeSpan.MaxValue;

        /// <summary>The member it was learned from (never sent back there), or null.</summary>
        public NodeAddress? Source => this is RelayedItem relayed ? relayed.From : null;

        /// <summary>An item with a source or an expiry, or a plain one.</summary>
        public static Item Create(string? key, byte[] message, long id, bool isLeave, BroadcastClass priority, TimeSpan expiresAt, NodeAddress? source) =>
            source is null && expiresAt == TimeSpan.MaxValue
                ? new Item(key, message, id, isLeave, priority)
                : new RelayedItem(key, message, id, isLeave, priority, expiresAt, source);

        private void SetFlag(byte flag, bool value) => _flags = (byte)(value ? _flags | flag : _flags & ~flag);
    }

    /// <summary>An item that names the member it was learned from, or expires (relayed events and queries).</summary>
    internal sealed class RelayedItem(string? key, byte[] message, long id, bool isLeave, BroadcastClass priority, TimeSpan expiresAt, NodeAddress? source)
        : Item(key, message, id, isLeave, priority)
    {
        public TimeSpan Expiry { get; } = expiresAt;

        public NodeAddress? From { get; } = source;

        /// <summary>Fills of packets to <see cref="From"/> that passed it over.</summary>
        public int SourceSkips { get; set; }
    }

    /// <summary>Items equal by key (ordinal), and a key looked up as the item that holds it.</summary>
    private sealed class ItemKeyComparer : IEqualityComparer<Item>, IAlternateEqualityComparer<string, Item>
    {
        public static readonly ItemKeyComparer Instance = new();

        public bool Equals(Item? x, Item? y) => string.Equals(x?.Key, y?.Key, StringComparison.Ordinal);

        public int GetHashCode(Item obj) => StringComparer.Ordinal.GetHashCode(obj.Key!);

        public bool Equals(string alternate, Item other) => string.Equals(alternate, other.Key, StringComparison.Ordinal);

        public int GetHashCode(string alternate) => StringComparer.Ordinal.GetHashCode(alternate);

        // Only lookups and removals go through the key; items are added as items.
        public Item Create(string alternate) => throw new NotSupportedException("Queue an item, not a key.");
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
    private sealed class ClassQueue
    {
        private const int KeptBucketCapacity = 16;

        // The shared pool's smallest arrays.
        private const int MinBucketCapacity = 16;

        private Item[][] _buckets = [];
        private int[] _counts = [];

        public int Count { get; private set; }

        /// <summary>Buckets in use or kept: transmit counts 0 … Buckets − 1.</summary>
        public int Buckets => _buckets.Length;

        public int CountIn(int transmits) => _counts[transmits];

        /// <summary>The message at <paramref name="index"/> of a bucket (ascending id: the last is the newest).</summary>
        public Item At(int transmits, int index) => _buckets[transmits][index];

        /// <summary>The last message in send order: the oldest of the most-sent.</summary>
        public Item Last
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

        public bool Add(Item item)
        {
            int t = item.Transmits;
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

            Item[] bucket = _buckets[t];
            int n = _counts[t];
            int at = Position(bucket, n, item.Id);
            if (at < n && ReferenceEquals(bucket[at], item))
            {
                return false;
            }

            if (n == bucket.Length)
            {
                Item[] grown = ArrayPool<Item>.Shared.Rent(Math.Max(MinBucketCapacity, n * 2));
                Array.Copy(bucket, grown, n);
                GiveBack(bucket, n);
                bucket = grown;
                _buckets[t] = bucket;
            }

            Array.Copy(bucket, at, bucket, at + 1, n - at);
            bucket[at] = item;
            _counts[t] = n + 1;
            Count++;
            return true;
        }

        public bool Remove(Item item)
        {
            int t = item.Transmits;
            if (t >= _buckets.Length)
            {
                return false;
            }

            Item[] bucket = _buckets[t];
            int n = _counts[t];
            int at = Position(bucket, n, item.Id);
            if (at >= n || !ReferenceEquals(bucket[at], item))
            {
                return false;
            }

            Array.Copy(bucket, at + 1, bucket, at, n - at - 1);
            bucket[n - 1] = null!;
            _counts[t] = n - 1;
            Count--;
            if (Count == 0)
            {
                Clear(); // an idle node keeps no arrays
            }
            else if (n == 1 && bucket.Length > KeptBucketCapacity)
            {
                GiveBack(bucket, 0);
                _buckets[t] = [];
            }

            return true;
        }

        public void Clear()
        {
            for (int t = 0; t < _buckets.Length; t++)
            {
                GiveBack(_buckets[t], _counts[t]);
            }

            _buckets = [];
            _counts = [];
            Count = 0;
        }

        /// <summary>
        /// Returns a bucket's array to the shared pool, its first <paramref name="used"/> slots
        /// cleared first (the rest are already null). Every non-empty bucket array comes from the
        /// pool: a join moves each queued Alive through one bucket per transmission, so each bucket
        /// grows to thousands of items and empties again, wave after wave, on every node (at
        /// N = 2,000 the growing arrays were a fifth of the join's allocation when each was new).
        /// </summary>
        private static void GiveBack(Item[] bucket, int used)
        {
            if (bucket.Length == 0)
            {
                return;
            }

            Array.Clear(bucket, 0, used);
            ArrayPool<Item>.Shared.Return(bucket);
        }

        /// <summary>The first index of the bucket whose id is at least <paramref name="id"/> (ids are unique).</summary>
        private static int Position(Item[] bucket, int count, long id)
        {
            if (count == 0 || bucket[count - 1].Id < id)
            {
                return count; // the common case: a new message, newer than all
            }

            int low = 0, high = count;
            while (low < high)
            {
                int mid = (low + high) >>> 1;
                if (bucket[mid].Id < id)
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
