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
/// The last few probes of one member (a ring, oldest overwritten): the evidence a verdict record
/// carries. Invariant: holds at most <see cref="Capacity"/> records, in start order.
/// <para>
/// Every node keeps one per member it has probed, so at scale these are N² rings: records are
/// packed to 16 bytes (a <see cref="ProbeRecord"/> takes 40) and the ring starts with room for two
/// and doubles up to <see cref="Capacity"/>, so a member probed once costs one small array. The
/// round trip is kept in 100 ns ticks as a 32-bit number: a round trip is bounded by the probe
/// deadline, far below the 214 s it can hold (longer ones are clamped).
/// </para>
/// </summary>
internal sealed class ProbeHistory(int capacity)
{
    private PackedProbe[] _records = new PackedProbe[Math.Min(2, capacity)];
    private int _next;
    private int _count;

    public int Capacity { get; } = capacity;

    public void Add(ProbeRecord record)
    {
        if (_count == _records.Length && _records.Length < Capacity)
        {
            // Full but below capacity: the records sit in order at [0, count) (the ring only wraps
            // at full capacity), so growing keeps the order and the next one goes after them.
            Array.Resize(ref _records, Math.Min(Capacity, _records.Length * 2));
            _next = _count;
        }

        _records[_next] = PackedProbe.Pack(record);
        _next = (_next + 1) % _records.Length;
        _count = Math.Min(_count + 1, _records.Length);
    }

    /// <summary>A copy, oldest first.</summary>
    public ProbeRecord[] ToArray()
    {
        ProbeRecord[] copy = new ProbeRecord[_count];
        int start = (_next - _count + _records.Length) % _records.Length;
        for (int i = 0; i < _count; i++)
        {
            copy[i] = _records[(start + i) % _records.Length].Unpack();
        }

        return copy;
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
