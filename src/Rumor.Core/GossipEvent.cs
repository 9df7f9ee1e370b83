using Rumor.Core.Membership;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core;

/// <summary>An immutable copy of a member's state at one moment (events carry these).</summary>
public sealed record MemberSnapshot(string Name, NodeAddress Address, uint Incarnation, ulong Generation, MemberState State, ProtocolVersions Versions, byte[] Metadata);

/// <summary>What changed about a member.</summary>
public enum MemberChangeKind
{
    /// <summary>A member we did not know, or knew as dead or left, is alive.</summary>
    Joined,

    /// <summary>An alive member changed its address or metadata.</summary>
    Updated,

    /// <summary>A member became suspect.</summary>
    Suspected,

    /// <summary>A suspect member refuted the suspicion.</summary>
    Recovered,

    /// <summary>A member was declared dead.</summary>
    Failed,

    /// <summary>A member left gracefully.</summary>
    Left,

    /// <summary>A dead or left member was forgotten after the retention time.</summary>
    Reaped,
}

/// <summary>Base of everything a node reports to its shell.</summary>
public abstract record GossipEvent(TimeSpan At);

/// <summary>A member's state changed in this node's view.</summary>
public sealed record MemberChanged(TimeSpan At, MemberChangeKind Kind, MemberSnapshot Member, MemberState? Previous) : GossipEvent(At);

/// <summary>A join through a seed finished: we exchanged full state with it.</summary>
public sealed record JoinSucceeded(TimeSpan At, NodeAddress Seed, int MembersLearned) : GossipEvent(At);

/// <summary>A join through a seed failed (unreachable, timed out, or it answered garbage).</summary>
public sealed record JoinFailed(TimeSpan At, NodeAddress Seed, string Reason) : GossipEvent(At);

/// <summary>Our leave announcement has been sent as often as the retransmit limit asks (or nobody is left to tell).</summary>
public sealed record LeaveCompleted(TimeSpan At) : GossipEvent(At);

/// <summary>Another process claims our name, or a member's name at a second address.</summary>
public sealed record NameConflict(TimeSpan At, string Name, NodeAddress Known, NodeAddress Other) : GossipEvent(At);

/// <summary>
/// Our own incarnation rose (a refutation or a metadata change). A shell that persists identity
/// writes it down now: the event is reported before any packet carrying the new incarnation is sent.
/// </summary>
public sealed record LocalIncarnationChanged(TimeSpan At, uint Incarnation) : GossipEvent(At);

/// <summary>This node itself stalled (late timers, a long pause): its own accusations are held back for StallGuard.</summary>
public sealed record LocalStallDetected(TimeSpan At, TimeSpan Stall, string Cause) : GossipEvent(At);
