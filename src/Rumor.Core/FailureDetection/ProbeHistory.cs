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
/// The last few probes of one member (a fixed-size ring, oldest overwritten): the evidence a
/// verdict record carries. Invariant: holds at most <see cref="Capacity"/> records, in start order.
/// </summary>
internal sealed class ProbeHistory(int capacity)
{
    private readonly ProbeRecord[] _records = new ProbeRecord[capacity];
    private int _next;
    private int _count;

    public int Capacity => _records.Length;

    public void Add(ProbeRecord record)
    {
        _records[_next] = record;
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
            copy[i] = _records[(start + i) % _records.Length];
        }

        return copy;
    }
}
