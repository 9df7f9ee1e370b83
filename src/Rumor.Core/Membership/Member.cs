using System.Runtime.CompilerServices;
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
/// and the record is kept small (40 bytes on a 64-bit runtime, header included; 48 until session
/// 31, 64 until session 29, 128 before that). Name, generation and address are one immutable <see cref="MemberIdentity"/>
/// that a simulation's nodes share (one object per member, not per record); the state, the local
/// flag and the time of the last state change are packed in one word. What most members never
/// have (metadata, protocol versions other than <see cref="ProtocolVersions.Current"/>, a running
/// suspicion) lives in one <see cref="MemberRare"/> object created on first use and dropped when
/// it holds nothing again. The probe history, which every probed member gets, is a chain in the
/// node's pool (<see cref="ProbeHistoryStore"/>): here only its head. The member's position in the
/// node's list is not kept here either: the node's name index has it
/// (<see cref="MemberIndex.PositionOf"/>).
/// </para>
/// </summary>
public sealed class Member
{
    // _word: bits 0-55 the state change time in ticks (2^56 ticks is 228 years of node time),
    // bits 56-59 the state, bit 60 the local flag.
    private const int StateShift = 56;
    private const ulong TicksMask = (1UL << StateShift) - 1;
    private const ulong StateMask = 0xFUL << StateShift;
    private const ulong LocalBit = 1UL << 60;

    // The identity, or, while the member has a rare part, that part (which then holds the identity):
    // one reference for both keeps the record at 40 bytes (N² of them in a simulation).
    private object _identityOrRare;
    private ulong _word;
    private uint _incarnation;

    internal Member(string name, NodeAddress address, bool isLocal)
        : this(MemberIdentity.Create(name, 0, address), isLocal)
    {
    }

    internal Member(MemberIdentity identity, bool isLocal)
    {
        _identityOrRare = identity;
        _word = isLocal ? LocalBit : 0;
    }

    /// <summary>The member's unique name.</summary>
    public string Name => Identity.Name;

    private MemberRare? RareOrNull => _identityOrRare as MemberRare;

    /// <summary>Where it is reached.</summary>
    public NodeAddress Address
    {
        get => Identity.Address;
        internal set
        {
            if (value != Identity.Address)
            {
                Identity = MemberIdentity.Create(Identity.Name, Identity.Generation, value);
            }
        }
    }

    /// <summary>True for the node's own entry.</summary>
    public bool IsLocal => (_word & LocalBit) != 0;

    /// <summary>The member's incarnation (only it raises it, to refute accusations).</summary>
    public uint Incarnation { get => _incarnation; internal set => _incarnation = value; }

    /// <summary>The member's process generation (start epoch).</summary>
    public ulong Generation
    {
        get => Identity.Generation;
        internal set
        {
            if (value != Identity.Generation)
            {
                Identity = MemberIdentity.Create(Identity.Name, value, Identity.Address);
            }
        }
    }

    /// <summary>Name, generation and address in one (shared between a simulation's nodes): set to move the member to a new generation or address at once.</summary>
    internal MemberIdentity Identity
    {
        get
        {
            // One read of the field: what it holds is then checked and cast as the same object.
            object held = _identityOrRare;
            return held is MemberRare rare ? rare.Identity : Unsafe.As<MemberIdentity>(held);
        }
        set
        {
            System.Diagnostics.Debug.Assert(string.Equals(value.Name, Identity.Name, StringComparison.Ordinal), "a member keeps its name");
            if (_identityOrRare is MemberRare rare)
            {
                rare.Identity = value;
            }
            else
            {
                _identityOrRare = value;
            }
        }
    }

    /// <summary>State in this node's view.</summary>
    public MemberState State
    {
        get => (MemberState)((_word & StateMask) >> StateShift);
        internal set => _word = (_word & ~StateMask) | ((ulong)value << StateShift & StateMask);
    }

    /// <summary>Advertised protocol versions.</summary>
    public ProtocolVersions Versions
    {
        get => RareOrNull?.Versions ?? ProtocolVersions.Current;
        internal set
        {
            if (value == ProtocolVersions.Current)
            {
                if (RareOrNull is { } rare)
                {
                    rare.Versions = null;
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
        get => RareOrNull?.Metadata ?? [];
        internal set
        {
            if (value.Length == 0)
            {
                if (RareOrNull is { } rare)
                {
                    rare.Metadata = null;
                    DropRareIfEmpty();
                }
            }
            else
            {
                Rare().Metadata = value;
            }
        }
    }

    /// <summary>When (node time) the state last changed (kept to 100 ns from zero to 228 years; a negative time reads as zero).</summary>
    public TimeSpan StateChangedAt
    {
        get => new((long)(_word & TicksMask));
        internal set => _word = (_word & ~TicksMask) | (ulong)Math.Clamp(value.Ticks, 0, (long)TicksMask);
    }

    /// <summary>The running suspicion while the member is suspect.</summary>
    internal Suspicion? Suspicion
    {
        get => RareOrNull?.Suspicion;
        set
        {
            if (value is not null)
            {
                Rare().Suspicion = value;
            }
            else if (RareOrNull is { } rare)
            {
                rare.Suspicion = null;
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

    private MemberRare Rare()
    {
        object held = _identityOrRare;
        if (held is MemberRare rare)
        {
            return rare;
        }

        rare = new MemberRare(Unsafe.As<MemberIdentity>(held));
        _identityOrRare = rare;
        return rare;
    }

    private void DropRareIfEmpty()
    {
        if (_identityOrRare is MemberRare { Metadata: null, Versions: null, Suspicion: null } rare)
        {
            _identityOrRare = rare.Identity;
        }
    }
}

/// <summary>
/// The parts of a <see cref="Member"/> that most members never have: one object, only for those that
/// do. While it exists the member's reference points here and this holds the member's identity.
/// </summary>
internal sealed class MemberRare(MemberIdentity identity)
{
    public MemberIdentity Identity { get; set; } = identity;

    public byte[]? Metadata { get; set; }

    public ProtocolVersions? Versions { get; set; }

    public Suspicion? Suspicion { get; set; }
}
