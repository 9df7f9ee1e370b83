using System.Text;
using Rumor.Core.AntiEntropy;
using Rumor.Core.Membership;

namespace Rumor.Core.Wire;

/// <summary>
/// Interns member names decoded from the wire, so that a node that keeps hearing the same names
/// allocates nothing for them: the UTF-8 bytes are transcoded on the stack and looked up with an
/// alternate (span) key. Bounded: past <see cref="Capacity"/> names are still decoded, just not
/// remembered (counted in <see cref="Overflows"/>). Safe to share between nodes of one simulation
/// (strings are immutable), never between threads.
/// <para>
/// With <see cref="InternsStateEntries"/> it also interns replicated-state keys and small values
/// (the simulator's shared table: N nodes decode the same key and value N times, which at
/// N = 1,000 cost about 90 bytes per member record). A real node leaves it off, so keys and values
/// that churn do not pile up in the table. An interned value is one array shared by every holder:
/// the core never writes into a stored value, and its readers must not either.
/// </para>
/// <para>
/// With <see cref="InternsStateEntries"/> it interns encoded membership news too
/// (<see cref="InternMessage"/>): each node of a simulation re-encodes and queues the same Alive of
/// every member during a join, about 64 bytes each, and at N = 5,000 twenty million of them can be
/// queued at once. The message table is bounded (<see cref="MessageCapacityMax"/>) and cleared when full
/// (messages already handed out stay shared; sharing just starts again), so churn cannot grow it.
/// </para>
/// <para>
/// With <see cref="InternsStateEntries"/> it interns the replicated state's writes too
/// (<see cref="InternEntry"/>): every node of a simulation holds every owner's key, and an owner
/// with one key keeps only a reference to the shared write (32 bytes a row instead of 72; a
/// tombstone or a value with a time to live adds an object of 32 bytes for the time it got it).
/// Bounded and cleared when full like the message table.
/// </para>
/// <para>
/// With <see cref="InternsStateEntries"/> it interns member identities (name, generation, address:
/// <see cref="InternMember"/>) and owner keys (owner, generation: <see cref="InternOwner"/>) too:
/// every node of a simulation holds a record of every member and a state row of every owner, and
/// these parts are the same in all N of them (session 29: the member record 64 → 48 bytes, the row
/// 32 → 24). Bounded and cleared when full like the writes.
/// </para>
/// </summary>
public sealed class NameTable
{
    /// <summary>Encoded messages longer than this are never interned.</summary>
    public const int MessageInternMaxBytes = 512;

    /// <summary>Encoded messages remembered at most (or <see cref="Capacity"/> when smaller) before the message table starts again: about 25 MB of 100-byte messages, and twenty times the distinct news of a 10,000-node join.</summary>
    public const int MessageCapacityMax = 1 << 18;

    /// <summary>Values longer than this are never interned (state values up to a name's size are the common case: ids, addresses, flags).</summary>
    public const int ValueInternMaxBytes = WireLimits.NameMaxBytes;

    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly Dictionary<byte[], byte[]>? _values;
    private readonly Dictionary<byte[], byte[]>? _messages;
    private readonly Dictionary<EntryBody, EntryBody>? _entries;
    private readonly Dictionary<MemberIdentity, MemberIdentity>? _members;
    private readonly Dictionary<OwnerKey, OwnerKey>? _owners;
    private readonly MemberSnapshot?[]? _snapshots;
    private long _entryClears;
    private long _identityClears;

    /// <summary>Creates a table that remembers at most <paramref name="capacity"/> names (and, with <paramref name="internStateEntries"/>, as many state values).</summary>
    public NameTable(int capacity = 65536, bool internStateEntries = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
        _lookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();
        InternsStateEntries = internStateEntries;
        _values = internStateEntries ? new Dictionary<byte[], byte[]>(ByteContent.Instance) : null;
        _messages = internStateEntries ? new Dictionary<byte[], byte[]>(ByteContent.Instance) : null;
        _entries = internStateEntries ? new Dictionary<EntryBody, EntryBody>(EntryContent.Instance) : null;
        _members = internStateEntries ? new Dictionary<MemberIdentity, MemberIdentity>(IdentityContent.Instance) : null;
        _owners = internStateEntries ? new Dictionary<OwnerKey, OwnerKey>(OwnerContent.Instance) : null;
        _snapshots = internStateEntries ? new MemberSnapshot?[SnapshotSlots] : null;
    }

    /// <summary>Recent member snapshots a shared table keeps, one per slot by the member's name and generation (<see cref="SnapshotOf"/>).</summary>
    internal const int SnapshotSlots = 1 << 13;

    /// <summary>How many names the table remembers at most.</summary>
    public int Capacity { get; }

    /// <summary>Whether replicated-state keys, small values and writes, encoded membership news, member identities and owner keys are interned too (see the type's remarks): a simulation's shared table.</summary>
    public bool InternsStateEntries { get; }

    /// <summary>Whether encoded membership messages are interned (<see cref="InternMessage"/>; the same switch as <see cref="InternsStateEntries"/>).</summary>
    public bool InternsMessages => _messages is not null;

    /// <summary>Encoded messages currently remembered.</summary>
    public int MessageCount => _messages?.Count ?? 0;

    /// <summary>Times the message table was full and started again.</summary>
    public long MessageClears { get; private set; }

    /// <summary>State writes currently remembered (<see cref="InternEntry"/>).</summary>
    public int EntryCount => _entries?.Count ?? 0;

    /// <summary>Times the write table was full and started again.</summary>
    public long EntryClears => _entryClears;

    /// <summary>Member identities interned (<see cref="InternMember"/>) and owner keys (<see cref="InternOwner"/>).</summary>
    public int IdentityCount => (_members?.Count ?? 0) + (_owners?.Count ?? 0);

    /// <summary>How many times the member identity or owner key table was full and started again.</summary>
    public long IdentityClears => _identityClears;

    /// <summary>Names currently remembered.</summary>
    public int Count => _names.Count;

    /// <summary>Names that could not be remembered because the table was full.</summary>
    public long Overflows { get; private set; }

    /// <summary>Returns the one string instance for these UTF-8 bytes (which must be valid UTF-8, at most 255 bytes).</summary>
    public string Intern(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > WireLimits.NameMaxBytes)
        {
            throw new ArgumentException($"A name is at most {WireLimits.NameMaxBytes} bytes; this one is {utf8.Length}.", nameof(utf8));
        }

        // As long as the bytes (UTF-8 never has fewer bytes than UTF-16 code units): the stack space
        // is zeroed at every call, and this runs for every name of every message decoded.
        Span<char> chars = stackalloc char[utf8.Length];
        int length = Encoding.UTF8.GetChars(utf8, chars);
        ReadOnlySpan<char> key = chars[..length];
        if (_lookup.TryGetValue(key, out string? existing))
        {
            return existing;
        }

        string name = new(key);
        if (_names.Count < Capacity)
        {
            _names.Add(name, name);
        }
        else
        {
            Overflows++;
        }

        return name;
    }

    /// <summary>Returns the interned instance of <paramref name="name"/>, adding it if there is room.</summary>
    public string Intern(string name)
    {
        if (_names.TryGetValue(name, out string? existing))
        {
            return existing;
        }

        if (_names.Count < Capacity)
        {
            _names.Add(name, name);
        }
        else
        {
            Overflows++;
        }

        return name;
    }

    /// <summary>A state key: interned when <see cref="InternsStateEntries"/> and it is no longer than a name, else decoded.</summary>
    public string InternKey(ReadOnlySpan<byte> utf8) =>
        InternsStateEntries && utf8.Length <= WireLimits.NameMaxBytes ? Intern(utf8) : Encoding.UTF8.GetString(utf8);

    /// <summary>A state value: the shared array for these bytes when <see cref="InternsStateEntries"/> and it is small, else a copy.</summary>
    public byte[] InternValue(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return [];
        }

        if (_values is null || bytes.Length > ValueInternMaxBytes)
        {
            return bytes.ToArray();
        }

        Dictionary<byte[], byte[]>.AlternateLookup<ReadOnlySpan<byte>> lookup = _values.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (lookup.TryGetValue(bytes, out byte[]? existing))
        {
            return existing;
        }

        byte[] value = bytes.ToArray();
        if (_values.Count < Capacity)
        {
            _values.Add(value, value);
        }
        else
        {
            Overflows++;
        }

        return value;
    }

    /// <summary>
    /// An encoded message: the shared array for these bytes when <see cref="InternsMessages"/> and it
    /// is at most <see cref="MessageInternMaxBytes"/> long, else a copy. The caller must never write
    /// into the array it gets (the broadcast queue only copies it into packets).
    /// </summary>
    public byte[] InternMessage(ReadOnlySpan<byte> bytes)
    {
        if (_messages is null || bytes.Length > MessageInternMaxBytes)
        {
            return bytes.ToArray();
        }

        Dictionary<byte[], byte[]>.AlternateLookup<ReadOnlySpan<byte>> lookup = _messages.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (lookup.TryGetValue(bytes, out byte[]? existing))
        {
            return existing;
        }

        byte[] message = bytes.ToArray();
        if (_messages.Count >= Math.Min(Capacity, MessageCapacityMax))
        {
            _messages.Clear();
            MessageClears++;
        }

        _messages.Add(message, message);
        return message;
    }

    /// <summary>
    /// The shared body of the write <paramref name="entry"/> when <see cref="InternsStateEntries"/>
    /// (the same instance for the same key, version, kind, time to live and value bytes), else a new
    /// one. Bounded at <see cref="MessageCapacityMax"/> (or <see cref="Capacity"/>) writes and cleared
    /// when full: bodies handed out stay valid, sharing starts again.
    /// </summary>
    internal EntryBody InternEntry(in StoredEntry entry) =>
        _entries is null ? new EntryBody(entry) : Share(_entries, entry, ref _entryClears);

    /// <summary>
    /// The identity of member <paramref name="name"/> at <paramref name="generation"/> and
    /// <paramref name="address"/>: shared when <see cref="InternsStateEntries"/> (every node of a
    /// simulation holds the same instance), else new. Bounded and cleared when full like the writes.
    /// </summary>
    internal MemberIdentity InternMember(string name, ulong generation, NodeAddress address) =>
        _members is null ? MemberIdentity.Create(name, generation, address) : Share(_members, new IdentityKey(name, generation, address), ref _identityClears);

    /// <summary>
    /// A copy of <paramref name="member"/>'s state for an event. With <see cref="InternsStateEntries"/>
    /// the last copy made of the same member (a slot of <see cref="SnapshotSlots"/> by name and
    /// generation) is handed out again when every field is equal: snapshots are immutable, and in a
    /// simulated join every node reports every member joining with the same snapshot, N² of them
    /// (a quarter of the join's allocation at N = 1,000). Without it, always a new copy.
    /// </summary>
    internal MemberSnapshot SnapshotOf(Member member)
    {
        if (_snapshots is null)
        {
            return member.ToSnapshot();
        }

        ref MemberSnapshot? slot = ref _snapshots[Hash(member.Name, member.Generation) & (SnapshotSlots - 1)];
        if (slot is { } last && last.Incarnation == member.Incarnation && last.State == member.State && last.Generation == member.Generation
            && last.Address == member.Address && last.Versions == member.Versions && string.Equals(last.Name, member.Name, StringComparison.Ordinal)
            && (ReferenceEquals(last.Metadata, member.Metadata) || last.Metadata.AsSpan().SequenceEqual(member.Metadata)))
        {
            return last;
        }

        slot = member.ToSnapshot();
        return slot;
    }

    /// <summary>The key of owner <paramref name="name"/>'s rows at <paramref name="generation"/>: shared when <see cref="InternsStateEntries"/>, else new.</summary>
    internal OwnerKey InternOwner(string name, ulong generation) =>
        _owners is null ? new OwnerKey(name, generation) : Share(_owners, (name, generation), ref _identityClears);

    /// <summary>
    /// The instance in <paramref name="table"/> equal to <paramref name="key"/>, added (made by the
    /// table's comparer) if missing; a full table (<see cref="MessageCapacityMax"/> or
    /// <see cref="Capacity"/>) is cleared first: instances handed out stay valid, sharing starts again.
    /// </summary>
    private T Share<TKey, T>(Dictionary<T, T> table, TKey key, ref long clears)
        where T : class
        where TKey : struct
    {
        Dictionary<T, T>.AlternateLookup<TKey> lookup = table.GetAlternateLookup<TKey>();
        if (lookup.TryGetValue(key, out T? existing))
        {
            return existing;
        }

        T created = ((IAlternateEqualityComparer<TKey, T>)table.Comparer).Create(key);
        if (table.Count >= Math.Min(Capacity, MessageCapacityMax))
        {
            table.Clear();
            clears++;
        }

        table.Add(created, created);
        return created;
    }

    private readonly record struct IdentityKey(string Name, ulong Generation, NodeAddress Address);

    /// <summary>A member identity by content; FNV-1a over name and generation (a per-process hash seed would not change results, only speed).</summary>
    private sealed class IdentityContent : IEqualityComparer<MemberIdentity>, IAlternateEqualityComparer<IdentityKey, MemberIdentity>
    {
        public static readonly IdentityContent Instance = new();

        public bool Equals(MemberIdentity? x, MemberIdentity? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.Matches(y.Name, y.Generation, y.Address));

        public int GetHashCode(MemberIdentity obj) => Hash(obj.Name, obj.Generation);

        public bool Equals(IdentityKey alternate, MemberIdentity other) => other.Matches(alternate.Name, alternate.Generation, alternate.Address);

        public int GetHashCode(IdentityKey alternate) => Hash(alternate.Name, alternate.Generation);

        public MemberIdentity Create(IdentityKey alternate) => MemberIdentity.Create(alternate.Name, alternate.Generation, alternate.Address);
    }

    /// <summary>An owner key by content; FNV-1a over name and generation.</summary>
    private sealed class OwnerContent : IEqualityComparer<OwnerKey>, IAlternateEqualityComparer<(string Name, ulong Generation), OwnerKey>
    {
        public static readonly OwnerContent Instance = new();

        public bool Equals(OwnerKey? x, OwnerKey? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.Generation == y.Generation && string.Equals(x.Name, y.Name, StringComparison.Ordinal));

        public int GetHashCode(OwnerKey obj) => Hash(obj.Name, obj.Generation);

        public bool Equals((string Name, ulong Generation) alternate, OwnerKey other) => other.Generation == alternate.Generation && string.Equals(other.Name, alternate.Name, StringComparison.Ordinal);

        public int GetHashCode((string Name, ulong Generation) alternate) => Hash(alternate.Name, alternate.Generation);

        public OwnerKey Create((string Name, ulong Generation) alternate) => new(alternate.Name, alternate.Generation);
    }

    private static int Hash(string name, ulong generation)
    {
        ulong h = StableHash.Fnv1a(generation, StableHash.Fnv1a(name));
        return (int)(h ^ (h >> 32));
    }

    /// <summary>A write's identity by content (<see cref="EntryBody.Matches"/>); FNV-1a over key, version and value length, so nothing depends on a per-process hash seed.</summary>
    private sealed class EntryContent : IEqualityComparer<EntryBody>, IAlternateEqualityComparer<StoredEntry, EntryBody>
    {
        public static readonly EntryContent Instance = new();

        public bool Equals(EntryBody? x, EntryBody? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.Matches(y.At(TimeSpan.Zero)));

        public int GetHashCode(EntryBody obj) => Hash(obj.Key, obj.Version, obj.Value.Length);

        public bool Equals(StoredEntry alternate, EntryBody other) => other.Matches(alternate);

        public int GetHashCode(StoredEntry alternate) => Hash(alternate.Key, alternate.Version, alternate.Value.Length);

        public EntryBody Create(StoredEntry alternate) => new(alternate);

        private static int Hash(string key, ulong version, int valueLength)
        {
            ulong h = StableHash.Fnv1a(key);
            h = StableHash.Fnv1a(version, h);
            h = StableHash.Fnv1a((ulong)valueLength, h);
            return (int)(h ^ (h >> 32));
        }
    }

    /// <summary>Equality by content, with a span lookup; FNV-1a so nothing depends on a per-process hash seed.</summary>
    private sealed class ByteContent : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly ByteContent Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => Hash(obj);

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate) => Hash(alternate);

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

        private static int Hash(ReadOnlySpan<byte> bytes)
        {
            uint h = 2166136261;
            foreach (byte b in bytes)
            {
                h = (h ^ b) * 16777619;
            }

            return (int)h;
        }
    }
}
