using Rumor.Core.Membership;

namespace Rumor.Core.Aggregates;

/// <summary>
/// The flow ledger of one aggregate with one peer in one epoch: what we sent it in total
/// (<see cref="Out"/>, numbered <see cref="OutSequence"/>), how much of that it has acknowledged
/// (<see cref="AckedSequence"/>), and the total it reported sending us (<see cref="In"/>, as of
/// <see cref="InSequence"/>). Because messages carry cumulative totals, a receiver absorbs
/// <c>total − In</c>: a duplicate adds nothing, a reordered older message is refused by its
/// sequence, and a lost one is made good by the next (a retransmission while unacknowledged).
/// </summary>
internal sealed class PeerFlow(NodeAddress address)
{
    public NodeAddress Address { get; } = address;

    /// <summary>The member we pushed to (null when the peer only ever pushed to us): retransmissions go only to live ones.</summary>
    public Member? Member { get; set; }

    public PushSumState Out;

    public PushSumState In;

    public uint OutSequence { get; set; }

    public uint AckedSequence { get; set; }

    public uint InSequence { get; set; }

    public TimeSpan LastSentAt { get; set; }

    public bool Unacknowledged => OutSequence > AckedSequence;
}
