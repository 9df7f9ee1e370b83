namespace Rumor.Simulation;

/// <summary>
/// The simulator's agenda: actions ordered by virtual time, ties broken by insertion order, so a
/// run is a pure function of its seed. Time only moves when the next action is taken.
/// <para>
/// Entries are structs: the two commonest actions, a node's timer wake-up and a datagram's
/// delivery, are held inline (a node, a sender and a pooled buffer) instead of as one object
/// each, so scheduling them allocates nothing once the heap has grown; O(log n) per entry.
/// </para>
/// </summary>
internal sealed class SimEventQueue
{
    private readonly PriorityQueue<SimEntry, (long Ticks, long Sequence)> _queue = new();
    private long _sequence;

    public int Count => _queue.Count;

    public long Processed { get; private set; }

    public void Schedule(TimeSpan at, SimEvent simEvent) => Schedule(at, new SimEntry(SimEntryKind.Event, simEvent, null, null, null, 0));

    public void Schedule(TimeSpan at, in SimEntry entry) => _queue.Enqueue(entry, (at.Ticks, ++_sequence));

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

    public SimEntry Dequeue(out TimeSpan at)
    {
        _queue.TryDequeue(out SimEntry entry, out (long Ticks, long Sequence) priority);
        at = TimeSpan.FromTicks(priority.Ticks);
        Processed++;
        return entry;
    }
}

/// <summary>What an agenda entry does.</summary>
internal enum SimEntryKind : byte
{
    /// <summary>Runs <see cref="SimEntry.Event"/>.</summary>
    Event,

    /// <summary>Wakes <see cref="SimEntry.Node"/> for its timers.</summary>
    Wake,

    /// <summary>Delivers <see cref="SimEntry.Bytes"/> (first <see cref="SimEntry.Length"/> bytes, a pooled buffer) from <see cref="SimEntry.From"/> to <see cref="SimEntry.Node"/>.</summary>
    Packet,
}

/// <summary>One agenda entry (see <see cref="SimEntryKind"/> for which fields are set).</summary>
internal readonly record struct SimEntry(SimEntryKind Kind, SimEvent? Event, SimNode? Node, SimNode? From, byte[]? Bytes, int Length);

/// <summary>Something that happens at a virtual instant.</summary>
internal abstract class SimEvent
{
    public abstract void Run(SimCluster cluster, TimeSpan now);
}
