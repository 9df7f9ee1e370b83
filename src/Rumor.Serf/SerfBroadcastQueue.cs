namespace Rumor.Serf;

/// <summary>
/// memberlist's TransmitLimitedQueue: each broadcast goes out at most
/// <c>RetransmitMult × ceil(log10(N + 1))</c> times; the least-sent go first (newest first among
/// equals); a new broadcast with the same key (memberlist's messages about one node) replaces the
/// queued one. Serf's messages have no key and are never replaced. Bounded: past
/// <see cref="Capacity"/> the most-sent entries are dropped and counted.
/// </summary>
internal sealed class SerfBroadcastQueue
{
    public const int Capacity = 4096;

    private readonly List<Entry> _entries = [];
    private long _order;

    public int Count => _entries.Count;

    public long Dropped { get; private set; }

    /// <summary>Queues a message; <paramref name="finished"/> completes when the broadcast leaves the queue (sent its last time, replaced or dropped).</summary>
    public void Enqueue(string? key, byte[] message, TaskCompletionSource? finished = null)
    {
        if (key is not null)
        {
            int existing = _entries.FindIndex(e => e.Key == key);
            if (existing >= 0)
            {
                _entries[existing].Finished?.TrySetResult();
                _entries.RemoveAt(existing);
            }
        }

        _entries.Add(new Entry(key, message, ++_order, finished));
        if (_entries.Count > Capacity)
        {
            Entry worst = _entries.MaxBy(e => (e.Transmits, -e.Order))!;
            worst.Finished?.TrySetResult();
            _entries.Remove(worst);
            Dropped++;
        }
    }

    /// <summary>Takes broadcasts that fit in <paramref name="budget"/> bytes, each costing <paramref name="overheadPerMessage"/> more.</summary>
    public List<byte[]> Take(int budget, int overheadPerMessage, int memberCount, int retransmitMult, int maxMessages)
    {
        List<byte[]> taken = [];
        if (_entries.Count == 0)
        {
            return taken;
        }

        int limit = retransmitMult * (int)Math.Ceiling(Math.Log10(memberCount + 1));
        limit = Math.Max(limit, 1);
        int used = 0;
        foreach (Entry entry in _entries.OrderBy(e => e.Transmits).ThenByDescending(e => e.Order).ToList())
        {
            if (taken.Count >= maxMessages)
            {
                break;
            }

            int cost = entry.Message.Length + overheadPerMessage;
            if (used + cost > budget)
            {
                continue;
            }

            used += cost;
            taken.Add(entry.Message);
            entry.Transmits++;
            if (entry.Transmits >= limit)
            {
                entry.Finished?.TrySetResult();
                _entries.Remove(entry);
            }
        }

        return taken;
    }

    public void Clear()
    {
        foreach (Entry entry in _entries)
        {
            entry.Finished?.TrySetResult();
        }

        _entries.Clear();
    }

    private sealed class Entry(string? key, byte[] message, long order, TaskCompletionSource? finished)
    {
        public string? Key { get; } = key;

        public byte[] Message { get; } = message;

        public long Order { get; } = order;

        public TaskCompletionSource? Finished { get; } = finished;

        public int Transmits { get; set; }
    }
}
