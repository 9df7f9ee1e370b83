namespace Rumor.Core;

/// <summary>What a timer is for.</summary>
internal enum TimerKind : byte
{
    ProbeRound,
    GossipRound,
    PushPullRound,
    ProbeAckTimeout,
    ProbeDeadline,
    RelayTimeout,
    SuspicionTimeout,
    StreamDeadline,
    StateRound,
    StateMaintenance,
    StateStreamDeadline,
    HeartbeatRound,

    // User events and queries (GossipNode.Events.cs); Token and Target are theirs to use.
    EventRound,
    EventMaintenance,
    QueryTimeout,

    // Cluster aggregates (GossipNode.Aggregates.cs).
    AggregateRound,
}

/// <summary>A pending timer. Cancellation is lazy: a firing timer checks that what it is for still holds.</summary>
internal readonly record struct TimerEntry(TimerKind Kind, long Token, object? Target);

/// <summary>
/// The node's own timers, ordered by due time and then by insertion, so that timers due at the same
/// instant fire in a deterministic order. The shell only needs <see cref="NextDue"/>.
/// </summary>
internal sealed class TimerQueue
{
    private readonly PriorityQueue<TimerEntry, (long DueTicks, long Sequence)> _queue = new();
    private long _sequence;

    public int Count => _queue.Count;

    public TimeSpan NextDue => _queue.TryPeek(out _, out (long DueTicks, long Sequence) priority)
        ? TimeSpan.FromTicks(priority.DueTicks)
        : TimeSpan.MaxValue;

    public void Schedule(TimeSpan due, TimerKind kind, long token = 0, object? target = null) =>
        _queue.Enqueue(new TimerEntry(kind, token, target), (due.Ticks, ++_sequence));

    public bool TryDequeueDue(TimeSpan now, out TimerEntry entry)
    {
        if (_queue.TryPeek(out entry, out (long DueTicks, long Sequence) priority) && priority.DueTicks <= now.Ticks)
        {
            _queue.Dequeue();
            return true;
        }

        entry = default;
        return false;
    }

    public void Clear() => _queue.Clear();
}
