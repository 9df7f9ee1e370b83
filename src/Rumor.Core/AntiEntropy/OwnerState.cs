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
/// most hold a handful of keys. Up to <see cref="SmallMax"/> entries live in one array sorted by
/// version (key lookups scan it); past that the owner switches to a dictionary by key and a sorted
/// set by version, and stays there until cleared. Versions of one owner are distinct (each write
/// takes the next), so the version order is total in both forms.
/// </para>
/// </summary>
internal sealed class OwnerState
{
    /// <summary>Entries kept in the small (array) form at most.</summary>
    public const int SmallMax = 8;

    private static readonly VersionOrder Order = new();
    private StoredEntry[] _small = [];
    private int _smallCount;
    private Dictionary<string, StoredEntry>? _byKey;
    private SortedSet<StoredEntry>? _byVersion;

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

    public int Count => _byKey?.Count ?? _smallCount;

    public long Bytes { get; private set; }

    /// <summary>Every entry, oldest version first.</summary>
    public IEnumerable<StoredEntry> Entries => _byVersion is { } set ? set : new ArraySegment<StoredEntry>(_small, 0, _smallCount);

    public StoredEntry? Find(string key)
    {
        if (_byKey is { } byKey)
        {
            return byKey.GetValueOrDefault(key);
        }

        int index = SmallIndexOf(key);
        return index < 0 ? null : _small[index];
    }

    /// <summary>Stores <paramref name="entry"/> unless the key already holds that version or newer; returns the entry it replaced.</summary>
    public bool TryPut(StoredEntry entry, out StoredEntry? replaced)
    {
        if (_byKey is null)
        {
            int index = SmallIndexOf(entry.Key);
            replaced = index < 0 ? null : _small[index];
            if (replaced is not null && replaced.Version >= entry.Version)
            {
                return false;
            }

            if (index >= 0)
            {
                RemoveSmallAt(index);
                Bytes -= Size(replaced!);
            }

            if (_smallCount < SmallMax)
            {
                InsertSmall(entry);
                Bytes += Size(entry);
                return true;
            }

            ToLarge();
        }

        if (_byKey!.TryGetValue(entry.Key, out replaced))
        {
            if (replaced.Version >= entry.Version)
            {
                return false;
            }

            _byVersion!.Remove(replaced);
            Bytes -= Size(replaced);
        }

        _byKey[entry.Key] = entry;
        _byVersion!.Add(entry);
        Bytes += Size(entry);
        return true;
    }

    public void Remove(StoredEntry entry)
    {
        if (_byKey is null)
        {
            int index = SmallIndexOf(entry.Key);
            if (index >= 0 && ReferenceEquals(_small[index], entry))
            {
                RemoveSmallAt(index);
                Bytes -= Size(entry);
            }

            return;
        }

        if (_byKey.TryGetValue(entry.Key, out StoredEntry? current) && ReferenceEquals(current, entry))
        {
            _byKey.Remove(entry.Key);
            _byVersion!.Remove(entry);
            Bytes -= Size(entry);
        }
    }

    /// <summary>Forgets everything (a reset or a new generation).</summary>
    public void Clear(ulong generation)
    {
        _small = [];
        _smallCount = 0;
        _byKey = null;
        _byVersion = null;
        Bytes = 0;
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

        if (_byVersion is { } set)
        {
            return set.GetViewBetween(Probe(version + 1), Probe(ulong.MaxValue));
        }

        int first = FirstSmallAbove(version);
        return new ArraySegment<StoredEntry>(_small, first, _smallCount - first);
    }

    /// <summary>How many entries have versions above <paramref name="version"/>.</summary>
    public int CountAbove(ulong version)
    {
        if (version >= MaxVersion)
        {
            return 0;
        }

        return _byVersion is { } set
            ? set.GetViewBetween(Probe(version + 1), Probe(ulong.MaxValue)).Count
            : _smallCount - FirstSmallAbove(version);
    }

    private int SmallIndexOf(string key)
    {
        for (int i = 0; i < _smallCount; i++)
        {
            if (string.Equals(_small[i].Key, key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private int FirstSmallAbove(ulong version)
    {
        int i = 0;
        while (i < _smallCount && _small[i].Version <= version)
        {
            i++;
        }

        return i;
    }

    private void InsertSmall(StoredEntry entry)
    {
        if (_smallCount == _small.Length)
        {
            Array.Resize(ref _small, Math.Min(SmallMax, Math.Max(1, _small.Length * 2)));
        }

        int at = _smallCount;
        while (at > 0 && _small[at - 1].Version > entry.Version)
        {
            _small[at] = _small[at - 1];
            at--;
        }

        _small[at] = entry;
        _smallCount++;
    }

    private void RemoveSmallAt(int index)
    {
        Array.Copy(_small, index + 1, _small, index, _smallCount - index - 1);
        _small[--_smallCount] = null!;
    }

    private void ToLarge()
    {
        _byKey = new Dictionary<string, StoredEntry>(StringComparer.Ordinal);
        _byVersion = new SortedSet<StoredEntry>(Order);
        for (int i = 0; i < _smallCount; i++)
        {
            _byKey.Add(_small[i].Key, _small[i]);
            _byVersion.Add(_small[i]);
        }

        _small = [];
        _smallCount = 0;
    }

    private static StoredEntry Probe(ulong version) => new(string.Empty, version, false, 0, [], TimeSpan.Zero);

    private static long Size(StoredEntry entry) => entry.Key.Length + entry.Value.Length + 32;

    private sealed class VersionOrder : IComparer<StoredEntry>
    {
        public int Compare(StoredEntry? x, StoredEntry? y) => x!.Version.CompareTo(y!.Version);
    }
}
