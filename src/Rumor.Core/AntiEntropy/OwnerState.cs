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
/// </summary>
internal sealed class OwnerState
{
    private static readonly VersionOrder Order = new();
    private readonly Dictionary<string, StoredEntry> _byKey = new(StringComparer.Ordinal);
    private readonly SortedSet<StoredEntry> _byVersion = new(Order);

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

    public int Count => _byKey.Count;

    public long Bytes { get; private set; }

    public IEnumerable<StoredEntry> Entries => _byVersion;

    public StoredEntry? Find(string key) => _byKey.GetValueOrDefault(key);

    /// <summary>Stores <paramref name="entry"/> unless the key already holds that version or newer; returns the entry it replaced.</summary>
    public bool TryPut(StoredEntry entry, out StoredEntry? replaced)
    {
        if (_byKey.TryGetValue(entry.Key, out replaced))
        {
            if (replaced.Version >= entry.Version)
            {
                return false;
            }

            _byVersion.Remove(replaced);
            Bytes -= Size(replaced);
        }

        _byKey[entry.Key] = entry;
        _byVersion.Add(entry);
        Bytes += Size(entry);
        return true;
    }

    public void Remove(StoredEntry entry)
    {
        if (_byKey.TryGetValue(entry.Key, out StoredEntry? current) && ReferenceEquals(current, entry))
        {
            _byKey.Remove(entry.Key);
            _byVersion.Remove(entry);
            Bytes -= Size(entry);
        }
    }

    /// <summary>Forgets everything (a reset or a new generation).</summary>
    public void Clear(ulong generation)
    {
        _byKey.Clear();
        _byVersion.Clear();
        Bytes = 0;
        Generation = generation;
        MaxVersion = 0;
        GcVersion = 0;
    }

    /// <summary>Entries with versions above <paramref name="version"/>, oldest first.</summary>
    public IEnumerable<StoredEntry> Above(ulong version) =>
        version >= MaxVersion ? [] : _byVersion.GetViewBetween(Probe(version + 1), Probe(ulong.MaxValue));

    /// <summary>How many entries have versions above <paramref name="version"/>.</summary>
    public int CountAbove(ulong version) =>
        version >= MaxVersion ? 0 : _byVersion.GetViewBetween(Probe(version + 1), Probe(ulong.MaxValue)).Count;

    private static StoredEntry Probe(ulong version) => new(string.Empty, version, false, 0, [], TimeSpan.Zero);

    private static long Size(StoredEntry entry) => entry.Key.Length + entry.Value.Length + 32;

    private sealed class VersionOrder : IComparer<StoredEntry>
    {
        public int Compare(StoredEntry? x, StoredEntry? y) => x!.Version.CompareTo(y!.Version);
    }
}
