using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rumor.Client;

// The API's enumerations, written as camelCase strings ("alive", "ownProbe"). They mirror the
// core's enums name for name (the agent maps them by name, and a test in Rumor.Agent.Tests fails
// when the core grows a value this library does not know), so the client needs no core reference.

/// <summary>A member's state in one node's view.</summary>
[JsonConverter(typeof(CamelCaseEnumConverter<MemberState>))]
public enum MemberState
{
    /// <summary>Answers probes (or nobody has had reason to doubt it).</summary>
    Alive,

    /// <summary>A probe failed; the member has until the suspicion timeout to refute.</summary>
    Suspect,

    /// <summary>The suspicion ran out unrefuted: declared failed.</summary>
    Dead,

    /// <summary>The member announced a graceful leave.</summary>
    Left,
}

/// <summary>What happened to a member (the <c>kind</c> of a <c>member</c> stream event).</summary>
[JsonConverter(typeof(CamelCaseEnumConverter<MemberChangeKind>))]
public enum MemberChangeKind
{
    /// <summary>A member not known, or known as dead or left, is alive.</summary>
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

/// <summary>The verdict a node reached about a member.</summary>
[JsonConverter(typeof(CamelCaseEnumConverter<VerdictKind>))]
public enum VerdictKind
{
    /// <summary>The member became suspect.</summary>
    Suspect,

    /// <summary>The member was declared dead.</summary>
    Dead,
}

/// <summary>Where a verdict came from.</summary>
[JsonConverter(typeof(CamelCaseEnumConverter<VerdictSource>))]
public enum VerdictSource
{
    /// <summary>The node's own probe of the member failed.</summary>
    OwnProbe,

    /// <summary>Another member's suspect or dead message arrived by gossip.</summary>
    Gossip,

    /// <summary>A full-state exchange said the member was suspect or dead.</summary>
    PushPull,

    /// <summary>The suspicion's timeout expired without a refutation.</summary>
    SuspicionTimeout,

    /// <summary>φ mode: the member's heartbeats stopped long enough for φ to pass the threshold.</summary>
    Phi,
}

/// <summary>How one probe of a member ended.</summary>
[JsonConverter(typeof(CamelCaseEnumConverter<ProbeOutcome>))]
public enum ProbeOutcome
{
    /// <summary>The target acked the direct ping.</summary>
    AckedDirect,

    /// <summary>A helper relayed the target's ack.</summary>
    AckedIndirect,

    /// <summary>Only the stream (TCP) fallback ping got through.</summary>
    AckedStream,

    /// <summary>No ack by any path before the probe deadline.</summary>
    Failed,
}

/// <summary>Writes and reads an enum as its camelCase name; an attribute on each API enum, so the source-generated metadata needs no global converter.</summary>
/// <typeparam name="TEnum">The enum.</typeparam>
public sealed class CamelCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.CamelCase, allowIntegerValues: false)
    where TEnum : struct, Enum;
