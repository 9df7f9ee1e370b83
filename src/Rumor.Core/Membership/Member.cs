using Rumor.Core.FailureDetection;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Membership;

/// <summary>
/// One member as this node sees it: a live view that the node updates in place (read it only from
/// the node's thread; take a <see cref="MemberSnapshot"/> to keep a copy). Identity is the name;
/// (generation, incarnation) orders news about it: a higher generation is a newer process, a higher
/// incarnation is a newer statement by the same process.
/// <para>
/// Layout: every node holds one of these per member, so a simulated cluster of N nodes holds N²
/// and the record is kept small (64 bytes on a 64-bit runtime, header included, against 128 before). The name is the
/// node's interned instance; an IPv4 address is kept as its value and port (an IPv6 address, rare,
/// goes to the rare part); the state is a byte. What most members never have (metadata, protocol
/// versions other than <see cref="ProtocolVersions.Current"/>, a running suspicion, an IPv6
/// address) lives in one <see cref="MemberRare"/> object created on first use and dropped when it
/// holds nothing again. The probe history, which every probed member gets, is a chain in the node's
/// pool (<see cref="ProbeHistoryStore"/>): here only its head. The member's position in the node's
/// list is not kept here either: the node's name index has it (<see cref="MemberIndex.PositionOf"/>).
/// </para>
/// </summary>
public sealed class Member
{
    private const byte LocalFlag = 1;
    private const byte IPv6Flag = 2;

    private MemberRare? _rare;
    private ulong _generation;
    private long _stateChangedTicks;
    private uint _ipv4;
    private uint _incarnation;
    private ushort _port;
    private MemberState _state;
    private byte _flags;

    internal Member(string name, NodeAddress address, bool isLocal)
    {
        Name = name;
        Address = address;
        _flags |= isLocal ? LocalFlag : (byte)0;
    }

    /// <summary>The member's unique name.</summary>
    public string Name { get; }

    /// <summary>Where it is reached.</summary>
    public NodeAddress Address
    {
        get => (_flags & IPv6Flag) != 0 ? _rare!.IPv6Address : new NodeAddress(_ipv4, _port);
        internal set
        {
            if (value.TryGetIPv4(out uint ipv4))
            {
                _ipv4 = ipv4;
                _port = value.Port;
                _flags &= unchecked((byte)~IPv6Flag);
                if (_rare is not null)
                {
                    _rare.IPv6Address = default;
                    DropRareIfEmpty();
                }
            }
            else
            {
                Rare().IPv6Address = value;
                _flags |= IPv6Flag;
            }
        }
    }

    /// <summary>True for the node's own entry.</summary>
    public bool IsLocal => (_flags & LocalFlag) != 0;

    /// <summary>The member's incarnation (only it raises it, to refute accusations).</summary>
    public uint Incarnation { get => _incarnation; internal set => _incarnation = value; }

    /// <summary>The member's process generation (start epoch).</summary>
    public ulong Generation { get => _generation; internal set => _generation = value; }

    /// <summary>State in this node's view.</summary>
    public MemberState State { get => _state; internal set => _state = value; }

    /// <summary>Advertised protocol versions.</summary>
    public ProtocolVersions Versions
    {
        get => _rare?.Versions ?? ProtocolVersions.Current;
        internal set
        {
            if (value == ProtocolVersions.Current)
            {
                if (_rare is not null)
                {
                    _rare.Versions = null;
                    DropRareIfEmpty();
                }
            }
            else
            {
                Rare().Versions = value;
            }
        }
    }

    /// <summary>Opaque metadata (never mutated in place: replaced as a whole).</summary>
    public byte[] Metadata
    {
        get => _rare?.Metadata ?? [];
        internal set
        {
            if (value.Length == 0)
            {
                if (_rare is not null)
                {
                    _rare.Metadata = null;
                    DropRareIfEmpty();
                }
            }
            else
            {
                Rare().Metadata = value;
            }
        }
    }

    /// <summary>When (node time) the state last changed.</summary>
    public TimeSpan StateChangedAt { get => new(_stateChangedTicks); internal set => _stateChangedTicks = value.Ticks; }

    /// <summary>The running suspicion while the member is suspect.</summary>
    internal Suspicion? Suspicion
    {
        get => _rare?.Suspicion;
        set
        {
            if (value is not null)
            {
                Rare().Suspicion = value;
            }
            else if (_rare is not null)
            {
                _rare.Suspicion = null;
                DropRareIfEmpty();
            }
        }
    }

    /// <summary>Where our last probes of this member sit in the node's <see cref="ProbeHistoryStore"/> (empty until the first probe, and when ProbeHistoryMax is 0).</summary>
    internal ProbeChain Probes;

    /// <summary>True while alive or suspect.</summary>
    public bool IsActive => State is MemberState.Alive or MemberState.Suspect;

    /// <summary>Copies the current state.</summary>
    public MemberSnapshot ToSnapshot() => new(Name, Address, Incarnation, Generation, State, Versions, Metadata);

    /// <summary>Compares news at (generation, incarnation) with what we hold: negative older, 0 same, positive newer.</summary>
    internal int CompareVersion(ulong generation, uint incarnation)
    {
        int c = generation.CompareTo(Generation);
        return c != 0 ? c : incarnation.CompareTo(Incarnation);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} {Address} {State} inc={Incarnation} gen={Generation}";

    private MemberRare Rare() => _rare ??= new MemberRare();

    private void DropRareIfEmpty()
    {
        if (_rare is { Metadata: null, Versions: null, Suspicion: null } && (_flags & IPv6Flag) == 0)
        {
            _rare = null;
        }
    }
}

/// <summary>The parts of a <see cref="Member"/> that most members never have: one object, only for those that do.</summary>
internal sealed class MemberRare
{
    public byte[]? Metadata { get; set; }

    public ProtocolVersions? Versions { get; set; }

    public Suspicion? Suspicion { get; set; }

    public NodeAddress IPv6Address { get; set; }
}
