namespace Rumor.Core.FailureDetection;

/// <summary>Which transition a verdict records.</summary>
public enum VerdictKind : byte
{
    /// <summary>The member became suspect in our view.</summary>
    Suspect,

    /// <summary>The member was declared dead in our view.</summary>
    Dead,
}

/// <summary>Where the verdict came from.</summary>
public enum VerdictSource : byte
{
    /// <summary>Our own probe of the member failed.</summary>
    OwnProbe,

    /// <summary>Another member's suspect or dead message reached us by gossip.</summary>
    Gossip,

    /// <summary>A full-state exchange told us the member was suspect or dead (merged as our own suspicion).</summary>
    PushPull,

    /// <summary>Our suspicion's timeout expired without a refutation.</summary>
    SuspicionTimeout,

    /// <summary>φ mode: the member's heartbeats stopped arriving long enough for φ to pass the threshold.</summary>
    Phi,
}

/// <summary>
/// Why this node moved a member to suspect or dead: the explanation an operator reads when a
/// healthy node was declared dead. <see cref="Accuser"/> started the suspicion (for a dead verdict
/// from a timeout: the first accuser); <see cref="Accusers"/> lists every distinct member that
/// accused it while it was suspect (the confirmations are the accusers after the first).
/// <see cref="LocalHealthScore"/> and <see cref="StallGuardActive"/> describe this node at that
/// moment (they are the accuser's own when <see cref="Source"/> is <see cref="VerdictSource.OwnProbe"/>
/// or <see cref="VerdictSource.SuspicionTimeout"/> of our own suspicion: the wire does not carry
/// another node's health). <see cref="ProbeHistory"/> is this node's last probes of the member.
/// </summary>
public sealed record VerdictRecord(
    TimeSpan At,
    VerdictKind Kind,
    VerdictSource Source,
    string Member,
    ulong Generation,
    uint Incarnation,
    string Accuser,
    IReadOnlyList<string> Accusers,
    int Confirmations,
    TimeSpan? SuspectedAt,
    TimeSpan? SuspicionDeadline,
    int LocalHealthScore,
    bool StallGuardActive,
    IReadOnlyList<ProbeRecord> ProbeHistory);

/// <summary>
/// A bounded ring of the latest verdicts, oldest first. Invariant: at most the capacity given at
/// construction; older records are overwritten and counted in <see cref="Overwritten"/>.
/// </summary>
public sealed class VerdictLog : IReadOnlyList<VerdictRecord>
{
    // Grown to the capacity as records come (a node that never reached a verdict holds none: a
    // simulated cluster's 1,000 nodes each had a 256-slot array, 2 bytes a member record). Until
    // it reaches the capacity the records sit at [0, _count) and _next is _count.
    private readonly int _capacity;
    private VerdictRecord[] _records = [];
    private int _next;
    private int _count;

    internal VerdictLog(int capacity) => _capacity = Math.Max(1, capacity);

    /// <summary>How many records the ring holds at most.</summary>
    public int Capacity => _capacity;

    /// <summary>Records dropped to make room (oldest first).</summary>
    public long Overwritten { get; private set; }

    /// <summary>Records written since the node started.</summary>
    public long Written { get; private set; }

    /// <inheritdoc />
    public int Count => _count;

    /// <inheritdoc />
    public VerdictRecord this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _count);
            int start = (_next - _count + _records.Length) % _records.Length;
            return _records[(start + index) % _records.Length];
        }
    }

    internal void Add(VerdictRecord record)
    {
        if (_count == _records.Length && _records.Length < _capacity)
        {
            Array.Resize(ref _records, Math.Min(_capacity, ArrayGrowth.Next(_records.Length)));
            _next = _count;
        }

        if (_count == _records.Length)
        {
            Overwritten++;
        }
        else
        {
            _count++;
        }

        _records[_next] = record;
        _next = (_next + 1) % _records.Length;
        Written++;
    }

    /// <inheritdoc />
    public IEnumerator<VerdictRecord> GetEnumerator()
    {
        for (int i = 0; i < _count; i++)
        {
            yield return this[i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
