using Rumor.Core.Wire.Messages;

namespace Rumor.Core.AntiEntropy;

/// <summary>One stored entry of an owner's map.</summary>
internal sealed class StoredEntry(string key, ulong version, bool isTombstone, uint ttlMilliseconds, byte[] value, TimeSpan updatedAt)
{
    public string Key { get; } = key;

    public ulong Version { get; } = version;

    public bool IsTombstone { get; } = isTombstone;

    public uint TtlMilliseconds { get; } = ttlMilliseconds;

    public byte[] Value { get; } = value;

    /// <summary>Local time at which this node wrote or received the entry (tombstone collection counts from it).</summary>
    public TimeSpan UpdatedAt { get; } = updatedAt;

    public StateEntry ToWire() => new(Key, Version, IsTombstone, TtlMilliseconds, Value);
}

/// <summary>
/// One owner's versioned map as this node holds it. Invariant: the node holds every entry of the
/// owner with a version in (0, <see cref="MaxVersion"/>] that still exists (newer writes of the same
/// key replace older ones), except tombstones collected at or below <see cref="GcVersion"/>. Entries
/// are indexed by key and by version, so "everything newer than v" is a range scan.
/// <para>
/// Every node holds one of these per owner that wrote, so a simulated cluster holds N² of them and
/// most hold one key or a handful. The entries live in one field whose shape follows the count:
/// nothing, the one <see cref="StoredEntry"/> itself (no array), an array of up to
/// <see cref="SmallMax"/> sorted by version (key lookups scan it), and past that a dictionary by key
/// and a sorted set by version, kept until cleared. Versions of one owner are distinct (each write
/// takes the next), so the version order is total in every form. The object is 64 bytes on a 64-bit
/// runtime (88 before, plus a 32-byte array for a one-key owner).
/// </para>
/// </summary>
internal sealed class OwnerState
{
    /// <summary>Entries kept in the small (array) form at most.</summary>
    public const int SmallMax = 8;

    private static readonly VersionOrder Order = new();

    // null (no entries), a StoredEntry (one), a StoredEntry[] (up to SmallMax, the first _count used, version order) or a Large.
    private object? _store;
    private int _count;

    public OwnerState(string owner, ulong generation)
    {
        Owner = owner;
        Generation = generation;
    }

    public string Owner { get; }

    public ulong Generation { get; private set; }

    public ulong MaxVersion { get; set; }

    /// <summary>The highest tombstone version this node has collected: a peer below it must be reset.</summary>
    public ulong GcVersion { get; set; }

    public int Count => _store is Large large ? large.ByKey.Count : _count;

    /// <summary>Approximate bytes held (keys, values and a fixed overhead per entry); computed on demand.</summary>
    public long Bytes
    {
        get
        {
            long bytes = 0;
            foreach (StoredEntry entry in Entries)
            {
                bytes += Size(entry);
            }

            return bytes;
        }
    }

    /// <summary>Every entry, oldest version first.</summary>
    public IEnumerable<StoredEntry> Entries => _store switch
    {
        null => [],
        StoredEntry one => [one],
        StoredEntry[] small => new ArraySegment<StoredEntry>(small, 0, _count),
        _ => ((Large)_store).ByVersion,
    };

    public StoredEntry? Find(string key)
    {
        switch (_store)
        {
            case null:
                return null;
            case StoredEntry one:
                return string.Equals(one.Key, key, StringComparison.Ordinal) ? one : null;
            case StoredEntry[] small:
                int index = SmallIndexOf(small, key);
                return index < 0 ? null : small[index];
            default:
                return ((Large)_store).ByKey.GetValueOrDefault(key);
        }
    }

    /// <summary>Stores <paramref name="entry"/> unless the key already holds that version or newer; returns the entry it replaced.</summary>
    public bool TryPut(StoredEntry entry, out StoredEntry? replaced)
    {
        if (_store is not Large)
        {
            replaced = Find(entry.Key);
            if (replaced is not null && replaced.Version >= entry.Version)
            {
                return false;
            }

            if (replaced is not null)
            {
                RemoveSmall(replaced);
            }

            if (_count < SmallMax)
            {
                InsertSmall(entry);
                return true;
            }

            ToLarge();
        }

        Large large = (Large)_store!;
        if (large.ByKey.TryGetValue(entry.Key, out replaced))
        {
            if (replaced.Version >= entry.Version)
            {
                return false;
            }

            large.ByVersion.Remove(replaced);
        }

        large.ByKey[entry.Key] = entry;
        large.ByVersion.Add(entry);
        return true;
    }

    public void Remove(StoredEntry entry)
    {
        if (_store is Large large)
        {
            if (large.ByKey.TryGetValue(entry.Key, out StoredEntry? current) && ReferenceEquals(current, entry))
            {
                large.ByKey.Remove(entry.Key);
                large.ByVersion.Remove(entry);
            }

            return;
        }

        if (ReferenceEquals(Find(entry.Key), entry))
        {
            RemoveSmall(entry);
        }
    }

    /// <summary>Forgets everything (a reset or a new generation).</summary>
    public void Clear(ulong generation)
    {
        _store = null;
        _count = 0;
        Generation = generation;
        MaxVersion = 0;
        GcVersion = 0;
    }

    /// <summary>Entries with versions above <paramref name="version"/>, oldest first.</summary>
    public IEnumerable<StoredEntry> Above(ulong version)
    {
        if (version >= MaxVersion)
        {
            return [];
        }

        switch (_store)
        {
            case null:
                return [];
            case StoredEntry one:
                return one.Version > version ? [one] : [];
            case StoredEntry[] small:
                int first = FirstSmallAbove(small, version);
                return new ArraySegment<StoredEntry>(small, first, _count - first);
            default:
                return ((Large)_store).ByVersion.GetViewBetween(Probe(version + 1), Probe(ulong.MaxValue));
        }
    }

    /// <summary>How many entries have versions above <paramref name="version"/>.</summary>
    public int CountAbove(ulong version)
    {
        if (version >= MaxVersion)
        {
            return 0;
        }

        return _store switch
        {
            null => 0,
            StoredEntry one => one.Version > version ? 1 : 0,
            StoredEntry[] small => _count - FirstSmallAbove(small, version),
            _ => ((Large)_store).ByVersion.GetViewBetween(Probe(version + 1), Probe(ulong.MaxValue)).Count,
        };
    }

    private int SmallIndexOf(StoredEntry[] small, string key)
    {
        for (int i = 0; i < _count; i++)
        {
            if (string.Equals(small[i].Key, key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private int FirstSmallAbove(StoredEntry[] small, ulong version)
    {
        int i = 0;
        while (i < _count && small[i].Version <= version)
        {
            i++;
        }

        return i;
    }

    /// <summary>Adds to the small forms (nothing, one, array); the caller checked there is room.</summary>
    private void InsertSmall(StoredEntry entry)
    {
        switch (_store)
        {
            case null:
                _store = entry;
                _count = 1;
                return;
            case StoredEntry one:
                StoredEntry[] pair = new StoredEntry[2];
                (pair[0], pair[1]) = one.Version < entry.Version ? (one, entry) : (entry, one);
                _store = pair;
                _count = 2;
                return;
        }

        StoredEntry[] small = (StoredEntry[])_store;
        if (_count == small.Length)
        {
            Array.Resize(ref small, Math.Min(SmallMax, small.Length * 2));
            _store = small;
        }

        int at = _count;
        while (at > 0 && small[at - 1].Version > entry.Version)
        {
            small[at] = small[at - 1];
            at--;
        }

        small[at] = entry;
        _count++;
    }

    /// <summary>Removes an entry held in a small form (the caller found it there).</summary>
    private void RemoveSmall(StoredEntry entry)
    {
        if (_store is StoredEntry)
        {
            _store = null;
            _count = 0;
            return;
        }

        StoredEntry[] small = (StoredEntry[])_store!;
        int index = Array.IndexOf(small, entry, 0, _count);
        Array.Copy(small, index + 1, small, index, _count - index - 1);
        small[--_count] = null!;
        if (_count == 1)
        {
            _store = small[0]; // back to the single form: no array for one entry
        }
    }

    private void ToLarge()
    {
        StoredEntry[] small = (StoredEntry[])_store!;
        Large large = new();
        for (int i = 0; i < _count; i++)
        {
            large.ByKey.Add(small[i].Key, small[i]);
            large.ByVersion.Add(small[i]);
        }

        _store = large;
        _count = 0;
    }

    private static StoredEntry Probe(ulong version) => new(string.Empty, version, false, 0, [], TimeSpan.Zero);

    private static long Size(StoredEntry entry) => entry.Key.Length + entry.Value.Length + 32;

    /// <summary>The indexed form, for owners with more than <see cref="SmallMax"/> entries.</summary>
    private sealed class Large
    {
        public Dictionary<string, StoredEntry> ByKey { get; } = new(StringComparer.Ordinal);

        public SortedSet<StoredEntry> ByVersion { get; } = new(Order);
    }

    private sealed class VersionOrder : IComparer<StoredEntry>
    {
        public int Compare(StoredEntry? x, StoredEntry? y) => x!.Version.CompareTo(y!.Version);
    }
}
