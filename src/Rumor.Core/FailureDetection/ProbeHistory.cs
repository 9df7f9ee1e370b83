namespace Rumor.Core.FailureDetection;

/// <summary>How a probe ended.</summary>
public enum ProbeOutcome : byte
{
    /// <summary>The target acked our direct ping.</summary>
    AckedDirect,

    /// <summary>A helper relayed the target's ack (our direct ping went unanswered).</summary>
    AckedIndirect,

    /// <summary>Only the stream (TCP) fallback ping got through: datagrams to the target are failing.</summary>
    AckedStream,

    /// <summary>No ack by any path before the probe deadline.</summary>
    Failed,
}

/// <summary>
/// One probe of one member as this node saw it: when it started, how it ended, the round trip to
/// the first ack (null when it failed), and how many helpers were asked and how many answered
/// with a nack ("target silent, my path to it works").
/// </summary>
public readonly record struct ProbeRecord(TimeSpan At, ProbeOutcome Outcome, TimeSpan? RoundTrip, byte IndirectSent, byte Nacks);

/// <summary>
/// Where one member's probes sit in its node's <see cref="ProbeHistoryStore"/>: the newest record's
/// slot plus one (0: never probed, or released). Kept in the member, so it is one int: the chain's
/// length is not stored but counted by walking it to its end (at most <see cref="ProbeHistoryStore.Capacity"/>
/// links), which keeps a member record 8 bytes smaller.
/// </summary>
internal struct ProbeChain
{
    public int NewestPlusOne;
}

/// <summary>
/// The last few probes of every member one node has probed (the evidence a verdict record
/// carries), in one pool per node: each record is a 16-byte slot of one array plus a 4-byte link
/// to the member's next older record, and a member holds only its chain's head
/// (<see cref="ProbeChain"/>). Invariant: a chain holds at most <see cref="Capacity"/> records,
/// newest first, and when a record is added, none but the new one and, when the new one is not a
/// direct ack, the one before it started more than the window
/// (<see cref="GossipOptions.ProbeHistoryWindow"/>) before it; every slot is either in exactly one
/// chain or on the free list.
/// <para>
/// Every node keeps records for each member it has probed, so at scale these are N² histories:
/// a ring object per member cost 96 bytes after one probe and 192 at eight (object, array header,
/// records), this pool 20 bytes a record (plus at most one chunk's unused slots). The round trip is kept in
/// 100 ns ticks as a 32-bit number: a round trip is bounded by the probe deadline, far below the
/// 214 s it can hold (longer ones are clamped).
/// </para>
/// </summary>
internal sealed class ProbeHistoryStore(int capacity, TimeSpan window = default)
{
    /// <summary>
    /// Records a chain keeps however old, after a new record that is not a direct ack: the new one and
    /// the one before it (a failure, or an answer only through a helper or the stream, and the last
    /// answer before it). After a direct ack only the new record is kept regardless: it is itself the
    /// last answer, and a record older than the window behind it is evidence of nothing (session 37:
    /// in a large cluster every member kept a second record, 20 bytes a member record in a simulated
    /// cluster, for the one probe before the newest, minutes or hours old).
    /// </summary>
    public const int KeptRegardlessOfAge = 2;

    /// <summary>How many of a chain's newest records, the new one included, stay whatever their age when <paramref name="added"/> is recorded.</summary>
    public static int KeptRegardlessOfAgeAfter(ProbeOutcome added) => added == ProbeOutcome.AckedDirect ? 1 : KeptRegardlessOfAge;

    private readonly long _windowTicks = window > TimeSpan.Zero ? window.Ticks : long.MaxValue;

    // In chunks of 128 slots (ChunkedRows; the first grows as an array): a node adds records for new
    // members through the whole of a long run (one member a probe interval), and arrays grown by a
    // quarter copied each slot about five times on the way.
    private const int ChunkShift = 7;

    private readonly ChunkedRows<PackedProbe> _records = new(ChunkShift);
    private readonly ChunkedRows<int> _older = new(ChunkShift); // per slot: the next older record of the same chain, or the next free slot; -1 ends
    private int _used;
    private int _free = -1;

    /// <summary>Records kept per member at most (1 to 255).</summary>
    public int Capacity { get; } = capacity;

    /// <summary>Slots in use by all chains (for tests).</summary>
    public int InUse { get; private set; }

    /// <summary>Slots ever taken from the arrays: freed slots are reused before a new one is taken (for tests).</summary>
    public int HighWater => _used;

    /// <summary>How many records <paramref name="chain"/> holds (walked: at most <see cref="Capacity"/> links).</summary>
    public int CountOf(in ProbeChain chain)
    {
        int count = 0;
        for (int slot = chain.NewestPlusOne - 1; slot >= 0; slot = _older[slot])
        {
            count++;
        }

        return count;
    }

    /// <summary>Adds <paramref name="record"/> as the newest of <paramref name="chain"/>, dropping its oldest at capacity.</summary>
    public void Add(ref ProbeChain chain, ProbeRecord record)
    {
        // Records too old behind the new one go first, so their slots serve it (no slot beyond what the chains hold).
        DropOlderThanWindow(ref chain, record.At.Ticks, KeptRegardlessOfAgeAfter(record.Outcome));

        // One walk (Capacity is small): the chain's length, its oldest record and the one before that.
        int newest = chain.NewestPlusOne - 1;
        int count = 0;
        int oldest = -1;
        int beforeOldest = -1;
        for (int at = newest; at >= 0; at = _older[at])
        {
            beforeOldest = oldest;
            oldest = at;
            count++;
        }

        int slot;
        if (count >= Capacity)
        {
            // Full: the oldest record's slot becomes the newest.
            if (beforeOldest < 0)
            {
                _records[oldest] = PackedProbe.Pack(record); // capacity 1: overwrite in place
                return;
            }

            _older[beforeOldest] = -1;
            slot = oldest;
        }
        else
        {
            slot = Allocate();
        }

        _records[slot] = PackedProbe.Pack(record);
        _older[slot] = newest; // -1 for an empty chain: the new record ends it
        chain.NewestPlusOne = slot + 1;
    }

    /// <summary>A copy of the chain's records, oldest first.</summary>
    public ProbeRecord[] ToArray(in ProbeChain chain)
    {
        int count = CountOf(chain);
        if (count == 0)
        {
            return [];
        }

        ProbeRecord[] copy = new ProbeRecord[count];
        int slot = chain.NewestPlusOne - 1;
        for (int i = count - 1; i >= 0; i--)
        {
            copy[i] = _records[slot].Unpack();
            slot = _older[slot];
        }

        return copy;
    }

    /// <summary>Gives the chain's slots back to the pool (the member is forgotten) and empties it.</summary>
    public void Release(ref ProbeChain chain)
    {
        FreeFrom(chain.NewestPlusOne - 1);
        chain = default;
    }

    /// <summary>
    /// Before a record started at <paramref name="newAtTicks"/> joins <paramref name="chain"/>: cuts the
    /// chain at its first record older than the window behind the new one, keeping its newest
    /// <paramref name="keptRegardless"/> − 1 records whatever their age (the new record is the
    /// other one kept), and gives the cut records back. A chain is newest first and a member's probes
    /// do not overlap, so every record after a too-old one is too old as well. At most
    /// <see cref="Capacity"/> links.
    /// </summary>
    private void DropOlderThanWindow(ref ProbeChain chain, long newAtTicks, int keptRegardless)
    {
        int newest = chain.NewestPlusOne - 1;
        if (_windowTicks == long.MaxValue || newest < 0)
        {
            return;
        }

        long oldestKept = newAtTicks - _windowTicks;
        if (keptRegardless <= 1)
        {
            if (_records[newest].AtTicks < oldestKept)
            {
                FreeFrom(newest); // the whole chain is too old: the new record starts it again
                chain = default;
                return;
            }
        }

        int keep = newest;
        for (int kept = 2; kept < keptRegardless && keep >= 0; kept++)
        {
            keep = _older[keep];
        }

        while (keep >= 0)
        {
            int next = _older[keep];
            if (next < 0)
            {
                return;
            }

            if (_records[next].AtTicks < oldestKept)
            {
                _older[keep] = -1;
                FreeFrom(next);
                return;
            }

            keep = next;
        }
    }

    /// <summary>Puts <paramref name="slot"/> and every older record of its chain on the free list (-1: nothing).</summary>
    private void FreeFrom(int slot)
    {
        while (slot >= 0)
        {
            int older = _older[slot];
            _older[slot] = _free;
            _free = slot;
            slot = older;
            InUse--;
        }
    }

    private int Allocate()
    {
        InUse++;
        if (_free >= 0)
        {
            int slot = _free;
            _free = _older[slot];
            return slot;
        }

        _records.EnsureCapacity(_used + 1);
        _older.EnsureCapacity(_used + 1);
        return _used++;
    }

    /// <summary>A <see cref="ProbeRecord"/> in 16 bytes: start ticks, round-trip ticks (-1: none), outcome and counts.</summary>
    private readonly record struct PackedProbe(long AtTicks, int RoundTripTicks, ProbeOutcome Outcome, byte IndirectSent, byte Nacks)
    {
        public static PackedProbe Pack(ProbeRecord r) => new(
            r.At.Ticks,
            r.RoundTrip is { } rtt ? (int)Math.Clamp(rtt.Ticks, 0, int.MaxValue) : -1,
            r.Outcome,
            r.IndirectSent,
            r.Nacks);

        public ProbeRecord Unpack() => new(new TimeSpan(AtTicks), Outcome, RoundTripTicks < 0 ? null : new TimeSpan(RoundTripTicks), IndirectSent, Nacks);
    }
}
