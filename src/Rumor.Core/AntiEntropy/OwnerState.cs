using Rumor.Core.Wire.Messages;

namespace Rumor.Core.AntiEntropy;

/// <summary>
/// One stored entry of an owner's map: a value type, held inline by its <see cref="OwnerState"/>
/// (no object per entry: a simulated cluster holds N² of them). Two entries of one owner are the
/// same entry when key and version agree (each write of an owner takes a new version).
/// </summary>
internal readonly struct StoredEntry(string key, ulong version, bool isTombstone, uint ttlMilliseconds, byte[] value, TimeSpan updatedAt)
{
    public string Key { get; } = key;

    public ulong Version { get; } = version;

    public bool IsTombstone { get; } = isTombstone;

    public uint TtlMilliseconds { get; } = ttlMilliseconds;

    public byte[] Value { get; } = value;

    /// <summary>Local time at which this node wrote or received the entry (tombstone collection counts from it).</summary>
    public TimeSpan UpdatedAt { get; } = updatedAt;

    /// <summary>True for the same write of the same key (the owner's versions are distinct).</summary>
    public bool SameAs(in StoredEntry other) => Version == other.Version && string.Equals(Key, other.Key, StringComparison.Ordinal);

    public StateEntry ToWire() => new(Key, Version, IsTombstone, TtlMilliseconds, Value);
}

/// <summary>
/// What every holder of one write shares: key, version, kind, time to live, value (immutable). An
/// owner with one entry holds a reference to one of these (and, for a tombstone or a value with a
/// time to live, the time it got it in a <see cref="TimedEntry"/>); a simulation's shared <see cref="Wire.NameTable"/> hands all its nodes the same instance for the
/// same write (<see cref="Wire.NameTable.InternEntry"/>), so the N copies of an owner's key across
/// a simulated cluster cost one object, not N inline entries.
/// </summary>
internal sealed class EntryBody(string key, ulong version, bool isTombstone, uint ttlMilliseconds, byte[] value)
{
    public EntryBody(in StoredEntry entry)
        : this(entry.Key, entry.Version, entry.IsTombstone, entry.TtlMilliseconds, entry.Value)
    {
    }

    public string Key { get; } = key;

    public ulong Version { get; } = version;

    public bool IsTombstone { get; } = isTombstone;

    public uint TtlMilliseconds { get; } = ttlMilliseconds;

    public byte[] Value { get; } = value;

    /// <summary>True when <paramref name="entry"/> is this write (same key, version, kind, time to live and value bytes).</summary>
    public bool Matches(in StoredEntry entry) =>
        Version == entry.Version && IsTombstone == entry.IsTombstone && TtlMilliseconds == entry.TtlMilliseconds
        && string.Equals(Key, entry.Key, StringComparison.Ordinal) && Value.AsSpan().SequenceEqual(entry.Value);

    /// <summary>True when a holder must remember when it got the write: a tombstone (collected after a grace period) or a value with a time to live.</summary>
    public bool NeedsTime => IsTombstone || TtlMilliseconds > 0;

    public StoredEntry At(TimeSpan updatedAt) => new(Key, Version, IsTombstone, TtlMilliseconds, Value, updatedAt);
}

/// <summary>An owner's one entry that needs its time (<see cref="EntryBody.NeedsTime"/>): the shared write and when this node got it.</summary>
internal sealed class TimedEntry(EntryBody body, TimeSpan updatedAt)
{
    public EntryBody Body { get; } = body;

    public TimeSpan UpdatedAt { get; } = updatedAt;
}

/// <summary>
/// One owner's versioned map as this node holds it. Invariant: the node holds every entry of the
/// owner with a version in (0, <see cref="MaxVersion"/>] that still exists (newer writes of the same
/// key replace older ones), except tombstones collected (the highest version collected, the owner's
/// GC version, is kept beside the table by <see cref="ReplicatedState"/>: few owners have one). Entries
/// are indexed by key and by version, so "everything newer than v" is a range scan.
/// <para>
/// Every node holds one of these per owner that wrote, so a simulated cluster holds N² of them and
/// most hold one key or a handful. It is a value type: a row of its <see cref="ReplicatedState"/>'s
/// table, changed in place through a reference to the row (a copy is a snapshot: never change one
/// and expect the table to see it). The shape follows the count: nothing; one entry, a reference to
/// its <see cref="EntryBody"/> (in a simulation shared by every node that holds the write; only a
/// tombstone or a value with a time to live needs the time this node got it, and then the reference
/// is to a <see cref="TimedEntry"/> that adds it: the time of any other entry is never read and
/// reads as zero); an array of
/// exactly the count, up to <see cref="SmallMax"/>, sorted by version (key lookups scan it; an
/// insert or removal copies it, at most 8 entries); and past that a dictionary by key and a sorted
/// set by version, kept until cleared. Versions of one owner are distinct (each write takes the
/// next), so the version order is total in every form. A row is 16 bytes on a 64-bit runtime: the
/// owner's name and generation are one <see cref="OwnerKey"/> that a simulation's nodes share, and
/// <see cref="MaxVersion"/> is read from the entries (24 bytes with it as a field, until session 31; 32
/// bytes with both inline, until session 29; 72 with the one entry inline too, until session 28;
/// before that a 96-byte object and an 8-byte reference to it in the owner array).
/// </para>
/// </summary>
internal struct OwnerState
{
    /// <summary>Entries kept in the small (array) form at most.</summary>
    public const int SmallMax = 8;

    private static readonly VersionOrder Order = new();

    // The entries: null (none), an EntryBody or a TimedEntry (one entry), a StoredEntry[] of exactly
    // 2..SmallMax in version order, or a Large; or a Capped holding one of the first four and a
    // MaxVersion other than their highest version (see MaxVersion).
    private object? _slot;

    // The owner's name and the generation held (shared between a simulation's nodes).
    private OwnerKey _key;

    public OwnerState(string owner, ulong generation)
        : this(new OwnerKey(owner, generation))
    {
    }

    public OwnerState(OwnerKey key)
    {
        _key = key;
    }

    public readonly string Owner => _key.Name;

    public readonly ulong Generation => _key.Generation;

    public readonly OwnerKey Key => _key;

    /// <summary>
    /// The highest version of the owner this node has (everything at or below it that still exists is
    /// held). Not a field: almost always it is the highest version among the entries (the newest write
    /// is held unless it was a tombstone since collected), so it is read from them, and only a row
    /// where it differs holds it, in a <see cref="Capped"/> around the entries (as does every
    /// <see cref="Large"/>, which puts change in place). That keeps a row at 16 bytes (N² rows in a simulation). It reads back exactly
    /// what was last set, whatever the entries did since.
    /// </summary>
    public ulong MaxVersion
    {
        readonly get => _slot is Capped capped ? capped.Max : ImplicitMax(_slot);
        set => SetForm(Many, value);
    }

    // The entries' form, without a Capped around it.
    private readonly object? Many => _slot is Capped capped ? capped.Inner : _slot;

    public readonly int Count => CountOf(Many);

    /// <summary>Approximate bytes held (keys, values and a fixed overhead per entry); computed on demand.</summary>
    public readonly long Bytes
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

    /// <summary>Every entry, oldest version first (a struct range: a foreach allocates nothing in the small forms).</summary>
    public readonly EntryRange Entries => Many switch
    {
        null => default,
        StoredEntry[] small => new EntryRange(small, 0),
        Large large => new EntryRange(large.ByVersion),
        _ => new EntryRange(One()),
    };

    /// <summary>The entry held for <paramref name="key"/>, if any.</summary>
    public readonly bool TryFind(string key, out StoredEntry entry)
    {
        switch (Many)
        {
            case null:
                entry = default;
                return false;
            case EntryBody or TimedEntry:
                entry = One();
                bool found = string.Equals(entry.Key, key, StringComparison.Ordinal);
                entry = found ? entry : default;
                return found;
            case StoredEntry[] small:
                int index = SmallIndexOf(small, key);
                entry = index < 0 ? default : small[index];
                return index >= 0;
            default:
                return ((Large)Many).ByKey.TryGetValue(key, out entry);
        }
    }

    /// <summary>
    /// Stores <paramref name="entry"/> unless the key already holds that version or newer;
    /// <paramref name="replaced"/> is the entry it replaced (Key null when none). With
    /// <paramref name="names"/>, an entry held alone takes the table's shared body for the write.
    /// MaxVersion stays as it was.
    /// </summary>
    public bool TryPut(in StoredEntry entry, out StoredEntry replaced, Wire.NameTable? names = null) => TryPut(entry, out replaced, names, MaxVersion);

    /// <summary>
    /// As <see cref="TryPut(in StoredEntry, out StoredEntry, Wire.NameTable?)"/>, and when it stores,
    /// MaxVersion becomes <paramref name="maxVersionAfter"/> in the same step (a caller that raises
    /// it anyway, after a put, saves the row a passing form with the old one: see <see cref="MaxVersion"/>).
    /// </summary>
    public bool TryPut(in StoredEntry entry, out StoredEntry replaced, Wire.NameTable? names, ulong maxVersionAfter)
    {
        object? many = Many;
        if (many is not Large)
        {
            bool had = TryFind(entry.Key, out replaced);
            if (had && replaced.Version >= entry.Version)
            {
                return false;
            }

            if (had)
            {
                many = WithoutSmall(many!, replaced);
            }

            if (CountOf(many) < SmallMax)
            {
                SetForm(WithSmall(many, entry, names), maxVersionAfter);
                return true;
            }

            many = ToLarge((StoredEntry[])many!);
        }

        Large large = (Large)many!;
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
        SetForm(large, maxVersionAfter);
        return true;
    }

    /// <summary>Removes <paramref name="entry"/> if it is still the entry held for its key (not replaced by a newer write).</summary>
    public void Remove(in StoredEntry entry)
    {
        if (Many is Large large)
        {
            if (large.ByKey.TryGetValue(entry.Key, out StoredEntry current) && current.SameAs(entry))
            {
                large.ByKey.Remove(entry.Key);
                large.ByVersion.Remove(current);
            }

            return;
        }

        if (TryFind(entry.Key, out StoredEntry held) && held.SameAs(entry))
        {
            SetMany(WithoutSmall(Many!, held));
        }
    }

    /// <summary>Forgets everything (a reset or a new generation).</summary>
    public void Clear(ulong generation) => Clear(generation == Generation ? _key : new OwnerKey(Owner, generation));

    /// <summary>Forgets everything and holds <paramref name="key"/>'s generation (the same owner's).</summary>
    public void Clear(OwnerKey key)
    {
        System.Diagnostics.Debug.Assert(string.Equals(key.Name, Owner, StringComparison.Ordinal), "a row keeps its owner");
        _slot = null; // no entries and MaxVersion 0
        _key = key;
    }

    /// <summary>Entries with versions above <paramref name="version"/>, oldest first.</summary>
    public readonly EntryRange Above(ulong version)
    {
        if (version >= MaxVersion)
        {
            return default;
        }

        return Many switch
        {
            null => default,
            EntryBody or TimedEntry => One() is { } one && one.Version > version ? new EntryRange(one) : default,
            StoredEntry[] small => new EntryRange(small, FirstSmallAbove(small, version)),
            _ => new EntryRange(((Large)Many).ByVersion.GetViewBetween(Probe(version + 1), Probe(ulong.MaxValue))),
        };
    }

    /// <summary>Removes the tombstones written or received at least <paramref name="grace"/> before <paramref name="now"/>; returns how many, and in <paramref name="highest"/> the highest version removed (0 when none).</summary>
    public int CollectTombstones(TimeSpan now, TimeSpan grace, out ulong highest)
    {
        highest = 0;
        if (Many is null)
        {
            return 0;
        }

        if (Many is EntryBody)
        {
            return 0; // one entry that is no tombstone (a tombstone is a TimedEntry)
        }

        if (Many is TimedEntry timed)
        {
            // The common case (one key) without a list or an enumerator.
            if (!timed.Body.IsTombstone || now - timed.UpdatedAt < grace)
            {
                return 0;
            }

            highest = timed.Body.Version;
            SetMany(null);
            return 1;
        }

        List<StoredEntry>? dead = null;
        foreach (StoredEntry entry in Entries)
        {
            if (entry.IsTombstone && now - entry.UpdatedAt >= grace)
            {
                (dead ??= []).Add(entry);
            }
        }

        if (dead is null)
        {
            return 0;
        }

        foreach (StoredEntry entry in dead)
        {
            Remove(entry);
            highest = Math.Max(highest, entry.Version);
        }

        return dead.Count;
    }

    /// <summary>How many entries have versions above <paramref name="version"/>.</summary>
    public readonly int CountAbove(ulong version)
    {
        if (version >= MaxVersion)
        {
            return 0;
        }

        return Many switch
        {
            null => 0,
            EntryBody or TimedEntry => One().Version > version ? 1 : 0,
            StoredEntry[] small => small.Length - FirstSmallAbove(small, version),
            _ => ((Large)Many).ByVersion.GetViewBetween(Probe(version + 1), Probe(ulong.MaxValue)).Count,
        };
    }

    private static int SmallIndexOf(StoredEntry[] small, string key)
    {
        for (int i = 0; i < small.Length; i++)
        {
            if (string.Equals(small[i].Key, key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static int FirstSmallAbove(StoredEntry[] small, ulong version)
    {
        int i = 0;
        while (i < small.Length && small[i].Version <= version)
        {
            i++;
        }

        return i;
    }

    private static int CountOf(object? many) => many switch
    {
        null => 0,
        StoredEntry[] small => small.Length,
        Large large => large.ByKey.Count,
        _ => 1,
    };

    /// <summary>A small form (nothing, one, array) with <paramref name="entry"/> added; the caller checked there is room.</summary>
    private static object WithSmall(object? many, in StoredEntry entry, Wire.NameTable? names)
    {
        if (many is null)
        {
            EntryBody body = names is not null ? names.InternEntry(entry) : new EntryBody(entry);
            return body.NeedsTime ? new TimedEntry(body, entry.UpdatedAt) : body;
        }

        StoredEntry[] old = many as StoredEntry[] ?? [OneOf(many)];
        StoredEntry[] small = new StoredEntry[old.Length + 1];
        int at = old.Length;
        while (at > 0 && old[at - 1].Version > entry.Version)
        {
            at--;
        }

        Array.Copy(old, 0, small, 0, at);
        small[at] = entry;
        Array.Copy(old, at, small, at + 1, old.Length - at);
        return small;
    }

    /// <summary>A small form without <paramref name="entry"/> (the caller found it there).</summary>
    private static object? WithoutSmall(object many, in StoredEntry entry)
    {
        if (many is EntryBody or TimedEntry)
        {
            return null;
        }

        StoredEntry[] old = (StoredEntry[])many;
        int index = 0;
        while (!old[index].SameAs(entry))
        {
            index++;
        }

        if (old.Length == 2)
        {
            return WithSmall(null, old[1 - index], names: null); // back to the single form: no array for one entry
        }

        StoredEntry[] small = new StoredEntry[old.Length - 1];
        Array.Copy(old, 0, small, 0, index);
        Array.Copy(old, index + 1, small, index, old.Length - index - 1);
        return small;
    }

    private static Large ToLarge(StoredEntry[] small)
    {
        Large large = new();
        foreach (StoredEntry entry in small)
        {
            large.ByKey.Add(entry.Key, entry);
            large.ByVersion.Add(entry);
        }

        return large;
    }

    /// <summary>The one entry of the single form (the caller checked the form).</summary>
    private readonly StoredEntry One() => OneOf(Many!);

    private static StoredEntry OneOf(object many) => many is TimedEntry timed ? timed.Body.At(timed.UpdatedAt) : ((EntryBody)many).At(TimeSpan.Zero);

    /// <summary>Changes the entries' form and keeps MaxVersion as it was.</summary>
    private void SetMany(object? many) => SetForm(many, MaxVersion);

    private void SetForm(object? many, ulong max)
    {
        System.Diagnostics.Debug.Assert(many is not Capped, "one level");
        if (_slot is Capped held && ReferenceEquals(held.Inner, many) && held.Max == max)
        {
            return;
        }

        // A Large (rare: more than SmallMax keys) is changed in place by puts, so its MaxVersion is
        // always held beside it. A new Capped each time, never one changed in place: a copy of the
        // row (a snapshot) may hold the old one.
        _slot = many is not Large && ImplicitMax(many) == max ? many : new Capped(many, max);
    }

    // The highest version among the small forms' entries (0 for none).
    private static ulong ImplicitMax(object? many) => many switch
    {
        null => 0,
        EntryBody body => body.Version,
        TimedEntry timed => timed.Body.Version,
        StoredEntry[] small => small[^1].Version,
        _ => throw new InvalidOperationException("not a small form: " + many.GetType().Name),
    };

    private static StoredEntry Probe(ulong version) => new(string.Empty, version, false, 0, [], TimeSpan.Zero);

    private static long Size(in StoredEntry entry) => entry.Key.Length + entry.Value.Length + 32;

    /// <summary>The indexed form, for owners with more than <see cref="SmallMax"/> entries.</summary>
    private sealed class Large
    {
        public Dictionary<string, StoredEntry> ByKey { get; } = new(StringComparer.Ordinal);

        public SortedSet<StoredEntry> ByVersion { get; } = new(Order);
    }

    /// <summary>A form with its MaxVersion: a Large, or a small form whose MaxVersion is not its highest entry's version (rare: after a collected tombstone, or a delta whose range ends above its entries).</summary>
    private sealed class Capped(object? inner, ulong max)
    {
        public object? Inner { get; } = inner;

        public ulong Max { get; } = max;
    }

    private sealed class VersionOrder : IComparer<StoredEntry>
    {
        public int Compare(StoredEntry x, StoredEntry y) => x.Version.CompareTo(y.Version);
    }
}

/// <summary>
/// Entries of one <see cref="OwnerState"/> in version order: the inline one, a tail of the small
/// array, or the indexed form's sorted set. A struct with a struct enumerator, so the state round's
/// scans (deltas, tombstone collection) allocate nothing for the forms most owners have; LINQ and
/// other interface users get an ordinary <see cref="IEnumerable{T}"/>. Read it before the owner
/// changes (the small array is replaced on change, the sorted set is not).
/// </summary>
internal readonly struct EntryRange : IEnumerable<StoredEntry>
{
    private readonly StoredEntry _one;
    private readonly StoredEntry[]? _array;
    private readonly IEnumerable<StoredEntry>? _other;
    private readonly int _start;

    public EntryRange(in StoredEntry one)
    {
        _one = one;
        _start = -1;
    }

    public EntryRange(StoredEntry[] array, int start)
    {
        _array = array;
        _start = start;
    }

    public EntryRange(IEnumerable<StoredEntry> other) => _other = other;

    public Enumerator GetEnumerator() => new(this);

    IEnumerator<StoredEntry> IEnumerable<StoredEntry>.GetEnumerator()
    {
        foreach (StoredEntry entry in this)
        {
            yield return entry;
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => ((IEnumerable<StoredEntry>)this).GetEnumerator();

    /// <summary>The range's enumerator (a struct: no allocation but the sorted set's own).</summary>
    public struct Enumerator
    {
        private readonly EntryRange _range;
        private readonly IEnumerator<StoredEntry>? _other;
        private int _next;
        private StoredEntry _current;

        internal Enumerator(EntryRange range)
        {
            _range = range;
            _other = range._other?.GetEnumerator();
            _next = range._start;
            _current = default;
        }

        public readonly StoredEntry Current => _current;

        public bool MoveNext()
        {
            if (_other is not null)
            {
                bool more = _other.MoveNext();
                _current = more ? _other.Current : default;
                return more;
            }

            if (_range._array is { } array)
            {
                if (_next >= array.Length)
                {
                    return false;
                }

                _current = array[_next++];
                return true;
            }

            if (_next == -1 && _range._one.Key is not null)
            {
                _current = _range._one;
                _next = 0;
                return true;
            }

            return false;
        }
    }
}
