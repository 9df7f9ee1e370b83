namespace Rumor.Simulation;

/// <summary>
/// The simulator's agenda: actions ordered by virtual time, ties broken by insertion order, so a
/// run is a pure function of its seed. Time only moves when the next action is taken.
/// </summary>
internal sealed class SimEventQueue
{
    private readonly PriorityQueue<SimEvent, (long Ticks, long Sequence)> _queue = new();
    private long _sequence;

    public int Count => _queue.Count;

    public long Processed { get; private set; }

    public void Schedule(TimeSpan at, SimEvent simEvent) => _queue.Enqueue(simEvent, (at.Ticks, ++_sequence));

    public bool TryPeekTime(out TimeSpan at)
    {
        if (_queue.TryPeek(out _, out (long Ticks, long Sequence) priority))
        {
            at = TimeSpan.FromTicks(priority.Ticks);
            return true;
        }

        at = TimeSpan.MaxValue;
        return false;
    }

    public SimEvent Dequeue(out TimeSpan at)
    {
        _queue.TryDequeue(out SimEvent? simEvent, out (long Ticks, long Sequence) priority);
        at = TimeSpan.FromTicks(priority.Ticks);
        Processed++;
        return simEvent!;
    }
}

/// <summary>Something that happens at a virtual instant.</summary>
internal abstract class SimEvent
{
    public abstract void Run(SimCluster cluster, TimeSpan now);
}
