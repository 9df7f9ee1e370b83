namespace Rumor.Core.Modules;

/// <summary>One typed timer queue as the node's <see cref="TimerSet"/> sees it.</summary>
internal interface ITimerQueue
{
    /// <summary>The earliest entry's (due ticks, sequence), false when empty.</summary>
    bool TryPeek(out (long DueTicks, long Sequence) key);

    /// <summary>Removes the earliest entry and fires it.</summary>
    void FireNext(TimeSpan now);

    void Clear();
}

/// <summary>
/// All timers of one node: the kernel's and each module's, every owner with a queue of its own
/// typed entries (a record struct of the owner's choice: no payload cast, no shared enum). One
/// sequence numbers every entry across all queues, and <see cref="TryFireNext"/> always fires the
/// entry with the smallest (due time, sequence) of any queue, so timers fire exactly in the order of
/// one queue: by due time, then by insertion, deterministic across owners. Cancellation is lazy: a
/// firing timer checks that what it is for still holds. The shell only needs <see cref="NextDue"/>.
/// </summary>
internal sealed class TimerSet
{
    private readonly List<ITimerQueue> _queues = [];
    private long _sequence;

    public TimeSpan NextDue => Earliest(out (long DueTicks, long Sequence) key) is null ? TimeSpan.MaxValue : TimeSpan.FromTicks(key.DueTicks);

    /// <summary>A new queue of <typeparamref name="T"/> entries; <paramref name="fire"/> runs each when due.</summary>
    public TimerQueue<T> Create<T>(Action<T, TimeSpan> fire)
        where T : struct
    {
        TimerQueue<T> queue = new(this, fire);
        _queues.Add(queue);
        return queue;
    }

    /// <summary>Fires the earliest timer due at <paramref name="now"/>; false when none is due.</summary>
    public bool TryFireNext(TimeSpan now)
    {
        ITimerQueue? queue = Earliest(out (long DueTicks, long Sequence) key);
        if (queue is null || key.DueTicks > now.Ticks)
        {
            return false;
        }

        queue.FireNext(now);
        return true;
    }

    public void Clear()
    {
        foreach (ITimerQueue queue in _queues)
        {
            queue.Clear();
        }
    }

    internal long NextSequence() => ++_sequence;

    private ITimerQueue? Earliest(out (long DueTicks, long Sequence) earliest)
    {
        ITimerQueue? result = null;
        earliest = default;
        foreach (ITimerQueue queue in _queues)
        {
            if (queue.TryPeek(out (long DueTicks, long Sequence) key) && (result is null || key.CompareTo(earliest) < 0))
            {
                result = queue;
                earliest = key;
            }
        }

        return result;
    }
}

/// <summary>One owner's timers: entries of its own type, fired through its own handler.</summary>
internal sealed class TimerQueue<T> : ITimerQueue
    where T : struct
{
    private readonly PriorityQueue<T, (long DueTicks, long Sequence)> _queue = new();
    private readonly TimerSet _set;
    private readonly Action<T, TimeSpan> _fire;

    internal TimerQueue(TimerSet set, Action<T, TimeSpan> fire)
    {
        _set = set;
        _fire = fire;
    }

    public int Count => _queue.Count;

    /// <summary>Fires <paramref name="timer"/> at <paramref name="due"/> (after every timer already due then).</summary>
    public void Schedule(TimeSpan due, T timer) => _queue.Enqueue(timer, (due.Ticks, _set.NextSequence()));

    bool ITimerQueue.TryPeek(out (long DueTicks, long Sequence) key) => _queue.TryPeek(out _, out key);

    void ITimerQueue.FireNext(TimeSpan now) => _fire(_queue.Dequeue(), now);

    public void Clear() => _queue.Clear();
}
