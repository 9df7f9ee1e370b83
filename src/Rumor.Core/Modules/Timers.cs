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

    /// <summary>
    /// As <see cref="NextDue"/>, but when <paramref name="queue"/>'s earliest entry satisfies
    /// <paramref name="skip"/>, that one entry is left out (the entry after it in that queue counts instead).
    /// </summary>
    public TimeSpan NextDueSkippingHead<T>(TimerQueue<T> queue, Func<T, bool> skip)
        where T : struct
    {
        if (!queue.TryPeekAfterHead(skip, out (long DueTicks, long Sequence) queueKey, out bool skipped) || !skipped)
        {
            return NextDue;
        }

        bool any = queueKey != default;
        (long DueTicks, long Sequence) earliest = queueKey;
        foreach (ITimerQueue other in _queues)
        {
            if (!ReferenceEquals(other, queue) && other.TryPeek(out (long DueTicks, long Sequence) key) && (!any || key.CompareTo(earliest) < 0))
            {
                earliest = key;
                any = true;
            }
        }

        return any ? TimeSpan.FromTicks(earliest.DueTicks) : TimeSpan.MaxValue;
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

    /// <summary>
    /// False when empty. Otherwise <paramref name="skipped"/> tells whether the earliest entry
    /// satisfies <paramref name="skip"/>; if it does, <paramref name="key"/> is the key of the entry
    /// after it (default when there is none), else the earliest's. The queue's order is unchanged:
    /// the head is taken out and put back under its own unique (due, sequence) key.
    /// </summary>
    internal bool TryPeekAfterHead(Func<T, bool> skip, out (long DueTicks, long Sequence) key, out bool skipped)
    {
        skipped = false;
        if (!_queue.TryPeek(out T head, out key))
        {
            return false;
        }

        if (!skip(head))
        {
            return true;
        }

        skipped = true;
        (long DueTicks, long Sequence) headKey = key;
        _queue.Dequeue();
        if (!_queue.TryPeek(out _, out key))
        {
            key = default;
        }

        _queue.Enqueue(head, headKey);
        return true;
    }

    void ITimerQueue.FireNext(TimeSpan now) => _fire(_queue.Dequeue(), now);

    public void Clear() => _queue.Clear();
}
