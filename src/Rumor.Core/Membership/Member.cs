using Rumor.Core.FailureDetection;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Membership;

/// <summary>
/// One member as this node sees it: a live view that the node updates in place (read it only from
/// the node's thread; take a <see cref="MemberSnapshot"/> to keep a copy). Identity is the name;
/// (generation, incarnation) orders news about it: a higher generation is a newer process, a higher
/// incarnation is a newer statement by the same process.
/// </summary>
public sealed class Member
{
    internal Member(string name, NodeAddress address, bool isLocal)
    {
        Name = name;
        Address = address;
        IsLocal = isLocal;
    }

    /// <summary>The member's unique name.</summary>
    public string Name { get; }

    /// <summary>Where it is reached.</summary>
    public NodeAddress Address { get; internal set; }

    /// <summary>True for the node's own entry.</summary>
    public bool IsLocal { get; }

    /// <summary>The member's incarnation (only it raises it, to refute accusations).</summary>
    public uint Incarnation { get; internal set; }

    /// <summary>The member's process generation (start epoch).</summary>
    public ulong Generation { get; internal set; }

    /// <summary>State in this node's view.</summary>
    public MemberState State { get; internal set; }

    /// <summary>Advertised protocol versions.</summary>
    public ProtocolVersions Versions { get; internal set; }

    /// <summary>Opaque metadata (never mutated in place: replaced as a whole).</summary>
    public byte[] Metadata { get; internal set; } = [];

    /// <summary>When (node time) the state last changed.</summary>
    public TimeSpan StateChangedAt { get; internal set; }

    /// <summary>The running suspicion while the member is suspect.</summary>
    internal Suspicion? Suspicion { get; set; }

    /// <summary>Our last probes of this member (created at the first probe; null when ProbeHistoryMax is 0).</summary>
    internal ProbeHistory? ProbeHistory { get; set; }

    /// <summary>Position in the member list (kept up to date for O(1) removal).</summary>
    internal int ListIndex { get; set; }

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
}
