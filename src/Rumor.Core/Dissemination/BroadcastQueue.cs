using Rumor.Core.Wire;

namespace Rumor.Core.Dissemination;

/// <summary>
/// The transmit-limited broadcast queue of rumor mongering (memberlist's TransmitLimitedQueue).
/// Each queued message is piggybacked on outgoing packets until it has been sent
/// <c>limit = RetransmitMultiplier × ceil(log10(N + 1))</c> times, which damps old news: the
/// fewest-sent messages go first (newest first among equals), so fresh rumors spread fastest. A
/// message about a member replaces any older queued message about the same member (only the newest
/// news matters). Bounded: when full, the most-sent message is dropped and counted.
/// </summary>
internal sealed class BroadcastQueue
{
    private readonly SortedSet<Item> _items = new(ItemOrder.Instance);
    private readonly Dictionary<string, Item> _byKey = new(StringComparer.Ordinal);
    private readonly List<Item> _picked = [];
    private readonly int _capacity;
    private long _nextId;

    public BroadcastQueue(int capacity) => _capacity = capacity;

    public int Count => _items.Count;

    public long Dropped { get; private set; }

    /// <summary>Set when a leave announcement has been sent as often as the limit asks, or was dropped.</summary>
    public bool LeaveDone { get; private set; }

    /// <summary>Queues a message (type byte + payload). <paramref name="key"/> names the member it is about.</summary>
    public void Enqueue(string? key, byte[] message, bool isLeave = false)
    {
        if (key is not null && _byKey.Remove(key, out Item? older))
        {
            _items.Remove(older);
            if (older.IsLeave && !isLeave)
            {
                LeaveDone = true;
            }
        }

        Item item = new(key, message, ++_nextId, isLeave);
        _items.Add(item);
        if (key is not null)
        {
            _byKey[key] = item;
        }

        while (_items.Count > _capacity)
        {
            Item victim = _items.Max!;
            Remove(victim);
            Dropped++;
        }
    }

    /// <summary>
    /// Adds as many queued messages as fit into <paramref name="builder"/>, fewest-sent first; counts
    /// a transmission for each and retires those that reach <paramref name="transmitLimit"/>.
    /// </summary>
    public int Fill(PacketBuilder builder, int transmitLimit)
    {
        if (_items.Count == 0)
        {
            return 0;
        }

        _picked.Clear();
        foreach (Item item in _items)
        {
            int room = builder.RemainingForMessage;
            if (room < 2)
            {
                break;
            }

            if (item.Message.Length <= room && builder.TryAddEncoded(item.Message))
            {
                _picked.Add(item);
            }
        }

        foreach (Item item in _picked)
        {
            _items.Remove(item);
            item.Transmits++;
            if (item.Transmits >= transmitLimit)
            {
                if (item.Key is not null)
                {
                    _byKey.Remove(item.Key);
                }

                if (item.IsLeave)
                {
                    LeaveDone = true;
                }
            }
            else
            {
                _items.Add(item);
            }
        }

        return _picked.Count;
    }

    /// <summary>Forgets every queued message.</summary>
    public void Clear()
    {
        foreach (Item item in _items)
        {
            if (item.IsLeave)
            {
                LeaveDone = true;
            }
        }

        _items.Clear();
        _byKey.Clear();
    }

    private void Remove(Item item)
    {
        _items.Remove(item);
        if (item.Key is not null && _byKey.TryGetValue(item.Key, out Item? current) && ReferenceEquals(current, item))
        {
            _byKey.Remove(item.Key);
        }

        if (item.IsLeave)
        {
            LeaveDone = true;
        }
    }

    private sealed class Item(string? key, byte[] message, long id, bool isLeave)
    {
        public string? Key { get; } = key;

        public byte[] Message { get; } = message;

        public long Id { get; } = id;

        public bool IsLeave { get; } = isLeave;

        public int Transmits { get; set; }
    }

    private sealed class ItemOrder : IComparer<Item>
    {
        public static readonly ItemOrder Instance = new();

        public int Compare(Item? x, Item? y)
        {
            int c = x!.Transmits.CompareTo(y!.Transmits);
            return c != 0 ? c : y.Id.CompareTo(x.Id);
        }
    }
}
