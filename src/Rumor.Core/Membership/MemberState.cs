namespace Rumor.Core.Membership;

/// <summary>
/// A member's state as one node sees it. The numeric values are on the wire (push-pull) and match
/// memberlist's, so the later memberlist dialect maps them one to one.
/// </summary>
public enum MemberState : byte
{
    /// <summary>Answers probes (or nobody has had reason to doubt it).</summary>
    Alive = 0,

    /// <summary>A probe failed; the member has until the suspicion timeout to refute.</summary>
    Suspect = 1,

    /// <summary>The suspicion ran out unrefuted: declared failed.</summary>
    Dead = 2,

    /// <summary>The member announced a graceful leave.</summary>
    Left = 3,
}
