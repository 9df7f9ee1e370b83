namespace Rumor.Core.Events;

/// <summary>
/// The events a node knows, for deduplication, delayed (coalescing) delivery, anti-entropy digests
/// and the application's recent-events view.
/// <para>
/// Every event received is kept, in arrival order, until it is older than the retention window or
/// the log holds more than its capacity (the oldest go first; early ones are counted). When an event
/// leaves the log, its sequence raises a per-(origin, generation) floor: a later copy at or below the
/// floor is recognised as already seen. Within the window, an event is delivered at most once; past
/// it, a copy of an event we never had and whose sequence is below a floor is treated as old news.
/// </para>
/// <para>
/// Coalescing: a coalescing event E of (origin, name) carries the lowest sequence it supersedes
/// (coalesce-from). Events of the same origin, generation and name with sequences in
/// [coalesce-from, E.sequence) are superseded: if not yet delivered, they never will be here (they
/// stay in the log as seen, and leave the anti-entropy digest).
/// </para>
/// </summary>
internal sealed class EventLog
{
    private readonly Dictionary<EventId, Entry> _byId = [];
    private readonly LinkedList<Entry> _arrival = new();
    private readonly Dictionary<(string Origin, ulong Generation), Floor> _floors = [];
    private readonly int _capacity;
    private readonly int _floorsMax;

    public EventLog(int capacity)
    {
        _capacity = capacity;
        _floorsMax = Math.Max(64, 4 * capacity);
    }

    public int Count => _byId.Count;

    /// <summary>Entries in arrival order (oldest first).</summary>
    public IEnumerable<Entry> InArrivalOrder => _arrival;

    /// <summary>The newest entry's node (walk <c>Previous</c> for older ones).</summary>
    public LinkedListNode<Entry>? Last => _arrival.Last;

    public bool Contains(EventId id) => _byId.ContainsKey(id);

    public Entry? Find(EventId id) => _byId.GetValueOrDefault(id);

    /// <summary>True when the event was seen: in the log, or at or below its origin's floor.</summary>
    public bool Seen(EventId id) =>
        _byId.ContainsKey(id) || (_floors.TryGetValue((id.Origin, id.Generation), out Floor? floor) && id.Sequence <= floor.Sequence);

    /// <summary>Adds a new event (the caller checked <see cref="Seen"/>) and returns its entry.</summary>
    public Entry Add(UserEvent userEvent, ulong coalesceFrom, TimeSpan now)
    {
        Entry entry = new(userEvent, coalesceFrom, now);
        entry.Node = _arrival.AddLast(entry);
        _byId[userEvent.Id] = entry;
        return entry;
    }

    /// <summary>The known coalescing event that supersedes a coalescing event of (origin, generation, name, sequence), if any.</summary>
    public Entry? SupersededBy(EventId id, string name)
    {
        foreach (Entry other in _arrival)
        {
            if (other.CoalesceFrom != 0 && other.Event.Id.Sequence > id.Sequence && other.CoalesceFrom <= id.Sequence
                && SameStream(other, id, name))
            {
                return other;
            }
        }

        return null;
    }

    /// <summary>Marks as superseded every undelivered coalescing event that <paramref name="newer"/> replaces; returns how many.</summary>
    public int Supersede(Entry newer, List<Entry> superseded)
    {
        superseded.Clear();
        EventId id = newer.Event.Id;
        foreach (Entry older in _arrival)
        {
            if (!older.Delivered && !older.Superseded && older.CoalesceFrom != 0 && older.Event.Id.Sequence < id.Sequence
                && older.Event.Id.Sequence >= newer.CoalesceFrom && SameStream(older, id, newer.Event.Name))
            {
                older.Superseded = true;
                superseded.Add(older);
            }
        }

        return superseded.Count;
    }

    /// <summary>Forgets entries older than <paramref name="retention"/> and beyond capacity; returns how many went early (capacity).</summary>
    public int Prune(TimeSpan now, TimeSpan retention, Action<Entry>? onForget = null)
    {
        int early = 0;
        while (_arrival.First is { } first && (now - first.Value.ReceivedAt > retention || _byId.Count > _capacity))
        {
            Entry entry = first.Value;
            if (now - entry.ReceivedAt <= retention)
            {
                early++;
            }

            _arrival.RemoveFirst();
            _byId.Remove(entry.Event.Id);
            RaiseFloor(entry.Event.Id, now);
            onForget?.Invoke(entry);
        }

        return early;
    }

    /// <summary>Delivered events in Lamport order (the application's recent-events view).</summary>
    public IReadOnlyList<UserEvent> Delivered()
    {
        List<UserEvent> events = [];
        foreach (Entry entry in _arrival)
        {
            if (entry.Delivered)
            {
                events.Add(entry.Event);
            }
        }

        events.Sort(UserEvent.LamportOrder);
        return events;
    }

    private static bool SameStream(Entry entry, EventId id, string name) =>
        entry.Event.Id.Generation == id.Generation
        && string.Equals(entry.Event.Id.Origin, id.Origin, StringComparison.Ordinal)
        && string.Equals(entry.Event.Name, name, StringComparison.Ordinal);

    private void RaiseFloor(EventId id, TimeSpan now)
    {
        (string, ulong) key = (id.Origin, id.Generation);
        if (_floors.TryGetValue(key, out Floor? floor))
        {
            floor.Sequence = Math.Max(floor.Sequence, id.Sequence);
            floor.Touched = now;
            return;
        }

        if (_floors.Count >= _floorsMax)
        {
            // Forget the floor touched longest ago (deterministic: ties broken by origin, then generation).
            KeyValuePair<(string Origin, ulong Generation), Floor>? oldest = null;
            foreach (KeyValuePair<(string Origin, ulong Generation), Floor> pair in _floors)
            {
                if (oldest is null || pair.Value.Touched < oldest.Value.Value.Touched
                    || (pair.Value.Touched == oldest.Value.Value.Touched && CompareKeys(pair.Key, oldest.Value.Key) < 0))
                {
                    oldest = pair;
                }
            }

            _floors.Remove(oldest!.Value.Key);
        }

        _floors[key] = new Floor { Sequence = id.Sequence, Touched = now };
    }

    private static int CompareKeys((string Origin, ulong Generation) a, (string Origin, ulong Generation) b)
    {
        int c = string.CompareOrdinal(a.Origin, b.Origin);
        return c != 0 ? c : a.Generation.CompareTo(b.Generation);
    }

    /// <summary>One known event.</summary>
    internal sealed class Entry(UserEvent userEvent, ulong coalesceFrom, TimeSpan receivedAt)
    {
        public UserEvent Event { get; } = userEvent;

        /// <summary>0 for an ordinary event; else the lowest sequence this coalescing event supersedes.</summary>
        public ulong CoalesceFrom { get; } = coalesceFrom;

        public TimeSpan ReceivedAt { get; } = receivedAt;

        public bool Delivered { get; set; }

        public bool Superseded { get; set; }

        public LinkedListNode<Entry>? Node { get; set; }
    }

    private sealed class Floor
    {
        public ulong Sequence { get; set; }

        public TimeSpan Touched { get; set; }
    }
}
