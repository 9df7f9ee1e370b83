using Rumor.Core;
using Rumor.Core.Membership;

namespace Rumor.Hosting;

/// <summary>A member as the facade returns it: a copy, safe to keep.</summary>
/// <param name="Name">Unique name.</param>
/// <param name="Address">Where it is reached.</param>
/// <param name="State">State in this node's view.</param>
/// <param name="Generation">Process generation (start epoch).</param>
/// <param name="Incarnation">Incarnation (raised by the member to refute accusations).</param>
/// <param name="Tags">Its metadata as key=value tags.</param>
/// <param name="StateChangedAgo">How long ago (node time) the state last changed.</param>
/// <param name="IsLocal">True for this node itself.</param>
public sealed record RumorMember(
    string Name,
    NodeAddress Address,
    MemberState State,
    ulong Generation,
    uint Incarnation,
    IReadOnlyDictionary<string, string> Tags,
    TimeSpan StateChangedAgo,
    bool IsLocal)
{
    internal static RumorMember From(Member member, TimeSpan now)
    {
        Dictionary<string, string> tags = new(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> tag in MemberTags.Decode(member.Metadata))
        {
            tags[tag.Key] = tag.Value;
        }

        TimeSpan ago = now - member.StateChangedAt;
        return new RumorMember(member.Name, member.Address, member.State, member.Generation, member.Incarnation, tags, ago < TimeSpan.Zero ? TimeSpan.Zero : ago, member.IsLocal);
    }
}

/// <summary>One sample of the node taken on its loop: what metrics and status report between samples.</summary>
/// <param name="Now">Node time of the sample.</param>
/// <param name="Alive">Members alive (this node included).</param>
/// <param name="Suspect">Members suspect.</param>
/// <param name="Dead">Members dead (not yet reaped).</param>
/// <param name="Left">Members left (not yet reaped).</param>
/// <param name="Incarnation">This node's incarnation.</param>
/// <param name="LocalHealthScore">Lifeguard local health score (0 healthy).</param>
/// <param name="LocalHealthMax">The highest score (AwarenessMaxMultiplier − 1).</param>
/// <param name="PendingBroadcasts">Broadcasts waiting in the queue.</param>
/// <param name="Convergence">The replicated state's convergence.</param>
/// <param name="Counters">A copy of the node's counters.</param>
/// <param name="KeyCount">Live keys held (all owners).</param>
public sealed record RumorSample(
    TimeSpan Now,
    int Alive,
    int Suspect,
    int Dead,
    int Left,
    uint Incarnation,
    int LocalHealthScore,
    int LocalHealthMax,
    int PendingBroadcasts,
    StateConvergence Convergence,
    NodeCounterValues Counters,
    int KeyCount);

/// <summary>A copy of the node's counters at one moment (the core's live counters may only be read on the loop).</summary>
public sealed record NodeCounterValues(
    long PacketsSent,
    long PacketsReceived,
    long PacketBytesSent,
    long PacketBytesReceived,
    long StreamBytesSent,
    long StreamBytesReceived,
    long StreamsOpened,
    long StreamsAccepted,
    long StreamFailures,
    long DecodeFailures,
    long ProbesSent,
    long ProbesFailed,
    long IndirectPingsSent,
    long SuspicionsRaised,
    long Refutations,
    long BroadcastsQueued,
    long BroadcastsDropped,
    long RelaysDropped,
    long MembersDropped,
    long AccusationsSuppressed,
    long LocalStalls,
    long StateDeltasSent,
    long StateEntriesApplied,
    long SecurityDrops = 0,
    long PacketsUnauthenticated = 0,
    long PlaintextRefused = 0,
    long PlaintextAccepted = 0,
    long ReplaysRefused = 0,
    long OutOfBoundsRefused = 0,
    long ReflectionsRefused = 0,
    long ViewSyncs = 0)
{
    internal static NodeCounterValues From(Core.Diagnostics.NodeCounters c) => new(
        c.PacketsSent,
        c.PacketsReceived,
        c.PacketBytesSent,
        c.PacketBytesReceived,
        c.StreamBytesSent,
        c.StreamBytesReceived,
        c.StreamsOpened,
        c.StreamsAccepted,
        c.StreamFailures,
        c.DecodeFailures,
        c.ProbesSent,
        c.ProbesFailed,
        c.IndirectPingsSent,
        c.SuspicionsRaised,
        c.Refutations,
        c.BroadcastsQueued,
        c.BroadcastsDropped,
        c.RelaysDropped,
        c.MembersDropped,
        c.AccusationsSuppressed,
        c.LocalStalls,
        c.StateDeltasSent,
        c.StateEntriesApplied,
        c.SecurityDrops,
        c.PacketsUnauthenticated,
        c.PlaintextRefused,
        c.PlaintextAccepted,
        c.ReplaysRefused,
        c.OutOfBoundsRefused,
        c.ReflectionsRefused,
        c.ViewSyncs);
}
