namespace Rumor.Core.FailureDetection;

/// <summary>
/// Lifeguard's dynamic suspicion (Dadgar et al., 2018; memberlist's suspicion.go). A suspicion
/// starts with the longest timeout and shrinks toward the shortest as independent members confirm
/// it, on a logarithmic curve:
/// <code>
/// timeout(c) = max(min, max − (log(c + 1) / log(k + 1)) × (max − min))
/// </code>
/// where c is the number of distinct confirmations and k the number expected. With k &lt; 1 (tiny
/// clusters) the suspicion simply lasts <c>min</c>. Invariant: the deadline never moves later, and
/// each accuser counts once.
/// </summary>
internal sealed class Suspicion
{
    private readonly HashSet<string> _confirmers = new(StringComparer.Ordinal);
    private readonly List<string> _accusersInOrder = [];
    private readonly int _expectedConfirmations;
    private readonly TimeSpan _min;
    private readonly TimeSpan _max;

    public Suspicion(string firstAccuser, uint incarnation, ulong generation, int expectedConfirmations, TimeSpan min, TimeSpan max, TimeSpan now, long token)
    {
        _confirmers.Add(firstAccuser);
        _accusersInOrder.Add(firstAccuser);
        Incarnation = incarnation;
        Generation = generation;
        _expectedConfirmations = expectedConfirmations;
        _min = min;
        _max = max;
        StartedAt = now;
        Token = token;
        Deadline = now + (expectedConfirmations < 1 ? min : max);
    }

    /// <summary>The incarnation the suspicion is about; a refutation must exceed it.</summary>
    public uint Incarnation { get; }

    /// <summary>The generation the suspicion is about.</summary>
    public ulong Generation { get; }

    /// <summary>When the suspicion started.</summary>
    public TimeSpan StartedAt { get; }

    /// <summary>When the member is declared dead unless it refutes.</summary>
    public TimeSpan Deadline { get; private set; }

    /// <summary>Identifies this suspicion's timers (a new suspicion of the same member gets a new token).</summary>
    public long Token { get; }

    /// <summary>Distinct members that have accused, the first included.</summary>
    public int Confirmations => _confirmers.Count - 1;

    /// <summary>Who accused, first accuser first, in the order their accusations counted (at most k + 1: the set is bounded by the confirmations expected).</summary>
    public IReadOnlyList<string> Accusers => _accusersInOrder;

    /// <summary>The member whose accusation started the suspicion.</summary>
    public string FirstAccuser => _accusersInOrder[0];

    /// <summary>
    /// Records an accusation by <paramref name="accuser"/>. Returns true when it was new and moved the
    /// deadline earlier (the caller then schedules a timer at <see cref="Deadline"/> and re-gossips
    /// the suspicion, as memberlist does, so that others learn of the confirmation).
    /// </summary>
    public bool Confirm(string accuser)
    {
        if (_expectedConfirmations < 1 || Confirmations >= _expectedConfirmations || !_confirmers.Add(accuser))
        {
            return false;
        }

        _accusersInOrder.Add(accuser);

        double fraction = Math.Log(Confirmations + 1) / Math.Log(_expectedConfirmations + 1);
        long raw = _max.Ticks - (long)(fraction * (_max.Ticks - _min.Ticks));
        TimeSpan timeout = TimeSpan.FromTicks(Math.Max(raw, _min.Ticks));
        TimeSpan deadline = StartedAt + timeout;
        if (deadline < Deadline)
        {
            Deadline = deadline;
        }

        return true;
    }

    /// <summary>The shortest suspicion: SuspicionMultiplier × max(1, log10(N)) × ProbeInterval (memberlist's suspicionTimeout).</summary>
    public static TimeSpan MinTimeout(int suspicionMultiplier, int memberCount, TimeSpan probeInterval)
    {
        double scale = Math.Max(1.0, Math.Log10(Math.Max(1, memberCount)));
        return TimeSpan.FromTicks((long)(suspicionMultiplier * scale * probeInterval.Ticks));
    }
}
