namespace Rumor.Client;

// The JSON shapes of docs/HTTP-API.md, defined once: the agent writes them and RumorClient reads
// them. Durations are milliseconds (…Ms), times ISO 8601 UTC; absent (null) values are omitted.

/// <summary>The answer of <c>GET /v1/health</c>.</summary>
/// <param name="Status"><c>ok</c> while the node runs (otherwise the answer is a 503 problem).</param>
public sealed record HealthDto(string Status);

/// <summary>A member as one node sees it (<c>GET /v1/members</c>).</summary>
/// <param name="Name">The member's stable name.</param>
/// <param name="Address">Its gossip address, <c>host:port</c>.</param>
/// <param name="State">Its state in this node's view.</param>
/// <param name="Generation">Its start epoch (a restart is a new generation).</param>
/// <param name="Incarnation">Its incarnation number (only grows).</param>
/// <param name="Tags">Its metadata tags.</param>
/// <param name="StateChangedMs">How long ago its state last changed.</param>
/// <param name="IsLocal">True for the node that answered.</param>
public sealed record MemberDto(string Name, string Address, MemberState State, ulong Generation, uint Incarnation, IReadOnlyDictionary<string, string> Tags, long StateChangedMs, bool IsLocal);

/// <summary>A member with the evidence about it (<c>GET /v1/members/{name}</c>).</summary>
/// <param name="Name">The member's stable name.</param>
/// <param name="Address">Its gossip address, <c>host:port</c>.</param>
/// <param name="State">Its state in this node's view.</param>
/// <param name="Generation">Its start epoch.</param>
/// <param name="Incarnation">Its incarnation number.</param>
/// <param name="Tags">Its metadata tags.</param>
/// <param name="StateChangedMs">How long ago its state last changed.</param>
/// <param name="IsLocal">True for the node that answered.</param>
/// <param name="Verdicts">Why this node suspected it or declared it dead, oldest first.</param>
/// <param name="Probes">This node's latest probes of it.</param>
public sealed record MemberDetailDto(string Name, string Address, MemberState State, ulong Generation, uint Incarnation, IReadOnlyDictionary<string, string> Tags, long StateChangedMs, bool IsLocal, IReadOnlyList<VerdictDto> Verdicts, IReadOnlyList<ProbeDto> Probes);

/// <summary>Why a node moved a member to suspect or dead.</summary>
/// <param name="At">When.</param>
/// <param name="Kind">Suspect or dead.</param>
/// <param name="Source">Where the verdict came from.</param>
/// <param name="Generation">The member's generation at the time.</param>
/// <param name="Incarnation">The member's incarnation at the time.</param>
/// <param name="Accuser">The member that started the suspicion.</param>
/// <param name="Accusers">Every distinct member that accused it while it was suspect.</param>
/// <param name="Confirmations">The accusers after the first.</param>
/// <param name="SuspectedAt">When the suspicion began, if there was one.</param>
/// <param name="SuspicionDeadline">When the suspicion was due to expire.</param>
/// <param name="LocalHealthScore">The deciding node's own health score then (0 is healthy).</param>
/// <param name="StallGuardActive">Whether the deciding node's stall guard was on.</param>
/// <param name="Probes">The deciding node's latest probes of the member.</param>
public sealed record VerdictDto(
    DateTimeOffset At,
    VerdictKind Kind,
    VerdictSource Source,
    ulong Generation,
    uint Incarnation,
    string Accuser,
    IReadOnlyList<string> Accusers,
    int Confirmations,
    DateTimeOffset? SuspectedAt,
    DateTimeOffset? SuspicionDeadline,
    int LocalHealthScore,
    bool StallGuardActive,
    IReadOnlyList<ProbeDto> Probes);

/// <summary>One probe of a member.</summary>
/// <param name="At">When it started.</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="RoundTripMs">The round trip to the first ack; absent when it failed.</param>
/// <param name="IndirectSent">How many helpers were asked to probe indirectly.</param>
/// <param name="Nacks">How many helpers answered "target silent, my path to it works".</param>
public sealed record ProbeDto(DateTimeOffset At, ProbeOutcome Outcome, double? RoundTripMs, int IndirectSent, int Nacks);

/// <summary>The body of <c>POST /v1/join</c>.</summary>
/// <param name="Seeds">Addresses to join through: IPv4:port or [IPv6]:port.</param>
public sealed record JoinRequest(List<string>? Seeds);

/// <summary>A seed the join went through.</summary>
/// <param name="Seed">The seed's address.</param>
/// <param name="Members">How many members it told about.</param>
public sealed record JoinedDto(string Seed, int Members);

/// <summary>A seed the join could not go through.</summary>
/// <param name="Seed">The seed's address.</param>
/// <param name="Reason">Why.</param>
public sealed record JoinFailedDto(string Seed, string Reason);

/// <summary>The answer of <c>POST /v1/join</c> when at least one seed answered.</summary>
/// <param name="Joined">The seeds that answered.</param>
/// <param name="Failed">The seeds that did not.</param>
public sealed record JoinResponse(IReadOnlyList<JoinedDto> Joined, IReadOnlyList<JoinFailedDto> Failed);

/// <summary>The body of <c>POST /v1/leave</c> (optional).</summary>
/// <param name="TimeoutMs">How long to spread the leave before giving up (default 5000).</param>
/// <param name="Shutdown">True: the agent stops after leaving (what <c>rumor leave</c> asks unless <c>--stay</c>); default false.</param>
public sealed record LeaveRequest(long? TimeoutMs, bool? Shutdown = null);

/// <summary>The answer of <c>POST /v1/leave</c>.</summary>
/// <param name="Left">True when the leave was spread in time.</param>
/// <param name="Stopping">True when the agent is stopping after the leave (it was asked to).</param>
public sealed record LeaveResponse(bool Left, bool? Stopping = null);

/// <summary>The body of <c>PATCH /v1/tags</c>: tags to set and tags to delete (deletes first).</summary>
/// <param name="Set">Tags to add or change.</param>
/// <param name="Delete">Tag keys to remove.</param>
public sealed record TagsUpdateRequest(Dictionary<string, string>? Set, IReadOnlyList<string>? Delete);

/// <summary>The answer of <c>GET /v1/tags</c> and <c>PATCH /v1/tags</c>: this member's tags.</summary>
/// <param name="Tags">The tags, sorted by key.</param>
public sealed record TagsDto(IReadOnlyDictionary<string, string> Tags);

/// <summary>The answer of <c>POST /v1/members/{name}/force-leave</c>.</summary>
/// <param name="Name">The member.</param>
/// <param name="State">Its state afterwards (left when forced out).</param>
public sealed record ForceLeaveDto(string Name, MemberState State);

/// <summary>The answer of <c>GET /v1/info</c>: the agent itself.</summary>
/// <param name="Name">The member's name.</param>
/// <param name="Address">Its gossip address.</param>
/// <param name="Version">The agent's version.</param>
/// <param name="ProtocolVersion">The wire protocol version it speaks.</param>
/// <param name="Preset">Its timing preset.</param>
/// <param name="Tags">Its tags.</param>
/// <param name="Encrypted">True when gossip is encrypted.</param>
/// <param name="EventHandlers">Its event handlers, as given.</param>
/// <param name="Aggregates">Aggregates running at it.</param>
/// <param name="Members">Members it knows, alive or suspect.</param>
/// <param name="UptimeMs">Milliseconds since it started.</param>
/// <param name="Runtime">The .NET runtime and operating system.</param>
public sealed record InfoDto(
    string Name,
    string Address,
    string Version,
    int ProtocolVersion,
    string Preset,
    IReadOnlyDictionary<string, string> Tags,
    bool Encrypted,
    IReadOnlyList<string> EventHandlers,
    int Aggregates,
    int Members,
    long UptimeMs,
    string Runtime);

/// <summary>One key of one member (<c>GET /v1/kv</c>, <c>GET /v1/kv/{key}</c>).</summary>
/// <param name="Owner">The member that owns (wrote) the key.</param>
/// <param name="Key">The key.</param>
/// <param name="Value">The value when it is UTF-8 text.</param>
/// <param name="ValueBase64">The value in base64 when it is not UTF-8 text.</param>
/// <param name="Version">The owner's version of the key.</param>
/// <param name="TtlMs">The time to live it was written with, if any.</param>
public sealed record KvEntryDto(string Owner, string Key, string? Value, string? ValueBase64, ulong Version, long? TtlMs);

/// <summary>The body of <c>PUT /v1/kv/{key}</c>: exactly one of <paramref name="Value"/> and <paramref name="ValueBase64"/>.</summary>
/// <param name="Value">The value as UTF-8 text.</param>
/// <param name="ValueBase64">The value as base64 (binary).</param>
/// <param name="TtlMs">A time to live, if the key should expire.</param>
public sealed record KvPutRequest(string? Value, string? ValueBase64, long? TtlMs);

/// <summary>The answer of <c>PUT</c> and <c>DELETE /v1/kv/{key}</c>.</summary>
/// <param name="Owner">The node that wrote (the answering agent).</param>
/// <param name="Key">The key.</param>
/// <param name="Version">The key's new version.</param>
public sealed record KvWriteResponse(string Owner, string Key, ulong Version);

/// <summary>A key's change (<c>change</c> events of <c>/v1/kv/watch</c>, <c>kv</c> events of <c>/v1/stream</c>).</summary>
/// <param name="Owner">The key's owner.</param>
/// <param name="Key">The key.</param>
/// <param name="OldValue">The previous value as text (absent for a new key or a binary value).</param>
/// <param name="NewValue">The new value as text (absent for a deletion or a binary value).</param>
/// <param name="OldValueBase64">The previous value in base64 when it is binary.</param>
/// <param name="NewValueBase64">The new value in base64 when it is binary.</param>
/// <param name="Version">The key's version after the change.</param>
/// <param name="Deleted">True when the key was deleted.</param>
public sealed record KvChangeDto(string Owner, string Key, string? OldValue, string? NewValue, string? OldValueBase64, string? NewValueBase64, ulong Version, bool Deleted);

/// <summary>A member change (<c>member</c> events of <c>/v1/stream</c>).</summary>
/// <param name="Name">The member.</param>
/// <param name="Address">Its address.</param>
/// <param name="State">Its new state.</param>
/// <param name="Previous">Its state before, absent for a member not known before.</param>
/// <param name="Kind">What happened.</param>
/// <param name="Incarnation">Its incarnation.</param>
/// <param name="At">When.</param>
public sealed record MemberEventDto(string Name, string Address, MemberState State, MemberState? Previous, MemberChangeKind Kind, uint Incarnation, DateTimeOffset At);

/// <summary>Members by state.</summary>
/// <param name="Alive">Alive members.</param>
/// <param name="Suspect">Suspect members.</param>
/// <param name="Dead">Dead members.</param>
/// <param name="Left">Members that left.</param>
public sealed record MemberCountsDto(int Alive, int Suspect, int Dead, int Left);

/// <summary>The node's local health (Lifeguard): 0 is healthy.</summary>
/// <param name="Score">The score.</param>
/// <param name="Max">The highest score.</param>
public sealed record HealthScoreDto(int Score, int Max);

/// <summary>Whether every member's replicated state agrees.</summary>
/// <param name="Converged">True when every known member reports the same checksum.</param>
/// <param name="SinceMs">How long it has been converged (absent while not).</param>
/// <param name="Checksum">This node's state checksum, 16 hex digits.</param>
/// <param name="Differing">Members whose checksum differs.</param>
/// <param name="Unknown">Members whose checksum is not known yet.</param>
public sealed record ConvergenceDto(bool Converged, long? SinceMs, string Checksum, IReadOnlyList<string> Differing, IReadOnlyList<string> Unknown);

/// <summary>The node's counters since it started.</summary>
/// <param name="PacketsSent">Datagrams sent.</param>
/// <param name="PacketsReceived">Datagrams received.</param>
/// <param name="BytesSent">Bytes sent in datagrams and streams.</param>
/// <param name="BytesReceived">Bytes received in datagrams and streams.</param>
/// <param name="StreamsOpened">Streams opened.</param>
/// <param name="StreamsAccepted">Streams accepted.</param>
/// <param name="StreamFailures">Streams that failed.</param>
/// <param name="DecodeFailures">Messages that could not be decoded.</param>
/// <param name="ProbesSent">Probes sent.</param>
/// <param name="ProbesFailed">Probes that failed.</param>
/// <param name="Suspicions">Suspicions raised.</param>
/// <param name="Refutations">Suspicions of this node it refuted.</param>
/// <param name="BroadcastsQueued">Broadcasts queued.</param>
/// <param name="BroadcastsDropped">Broadcasts dropped at the queue's bound.</param>
/// <param name="StateDeltasSent">State deltas sent.</param>
/// <param name="StateEntriesApplied">State entries applied.</param>
/// <param name="EventsDropped">Events dropped at a bound.</param>
public sealed record CountersDto(
    long PacketsSent,
    long PacketsReceived,
    long BytesSent,
    long BytesReceived,
    long StreamsOpened,
    long StreamsAccepted,
    long StreamFailures,
    long DecodeFailures,
    long ProbesSent,
    long ProbesFailed,
    long Suspicions,
    long Refutations,
    long BroadcastsQueued,
    long BroadcastsDropped,
    long StateDeltasSent,
    long StateEntriesApplied,
    long EventsDropped);

/// <summary>The answer of <c>GET /v1/status</c>.</summary>
/// <param name="Name">The node's name.</param>
/// <param name="Address">Its gossip address.</param>
/// <param name="Version">The agent's version.</param>
/// <param name="Generation">The node's generation.</param>
/// <param name="Incarnation">Its incarnation.</param>
/// <param name="Preset">The configuration preset (lan, wan, local).</param>
/// <param name="UptimeMs">How long the agent has run.</param>
/// <param name="Members">Members by state.</param>
/// <param name="LocalHealth">The node's local health.</param>
/// <param name="Convergence">Whether the replicated state agrees.</param>
/// <param name="Counters">Counters since the start.</param>
/// <param name="PendingBroadcasts">Broadcasts waiting to be sent.</param>
/// <param name="Keys">Keys in the replicated state.</param>
/// <param name="ProbeRttMs">The latest probe round trips (up to 128).</param>
public sealed record StatusDto(
    string Name,
    string Address,
    string Version,
    ulong Generation,
    uint Incarnation,
    string Preset,
    long UptimeMs,
    MemberCountsDto Members,
    HealthScoreDto LocalHealth,
    ConvergenceDto Convergence,
    CountersDto Counters,
    int PendingBroadcasts,
    int Keys,
    IReadOnlyList<double> ProbeRttMs)
{
    /// <summary>Gossip packets refused by encryption and the bounds (docs/SECURITY.md); absent from older agents.</summary>
    public SecurityCountersDto? Security { get; init; }

    /// <summary>The HTTP API's own bounds at work: stream subscribers and what slow readers lost; absent from older agents.</summary>
    public ApiCountersDto? Api { get; init; }
}

/// <summary>Gossip packets refused or let through by encryption and the bounds on values (docs/SECURITY.md).</summary>
/// <param name="PacketsUnauthenticated">Packets whose AES-GCM tag no installed key verified.</param>
/// <param name="PlaintextRefused">Plaintext packets refused while incoming packets must be encrypted.</param>
/// <param name="PlaintextAccepted">Plaintext packets accepted during a migration to encryption (VerifyIncoming off).</param>
/// <param name="ReplaysRefused">Packets refused as replays (a counter seen before or older than the window).</param>
/// <param name="OutOfBoundsRefused">Messages refused because a value was past its bound (generation, incarnation, version, Lamport time).</param>
/// <param name="ReflectionsRefused">Replies or pings refused because they would go to an address the cluster does not know for the asker.</param>
public sealed record SecurityCountersDto(
    long PacketsUnauthenticated,
    long PlaintextRefused,
    long PlaintextAccepted,
    long ReplaysRefused,
    long OutOfBoundsRefused,
    long ReflectionsRefused);

/// <summary>The HTTP API's bounds at work.</summary>
/// <param name="StreamSubscribers">Clients subscribed to <c>/v1/stream</c> now.</param>
/// <param name="StreamSubscribersMax">Most subscribers allowed at once (StreamSubscribersMax).</param>
/// <param name="StreamEventsDropped">Events dropped for stream subscribers that read too slowly, since the start.</param>
public sealed record ApiCountersDto(int StreamSubscribers, int StreamSubscribersMax, long StreamEventsDropped);

/// <summary>
/// The <c>dropped</c> event of <c>GET /v1/stream</c>: this subscriber read too slowly and lost
/// <paramref name="Dropped"/> events (the oldest) before the next one.
/// </summary>
/// <param name="Dropped">How many events were dropped since the last notice.</param>
/// <param name="Option">The bound that was reached: StreamQueueMax (events) or StreamQueueMaxBytes (bytes).</param>
public sealed record StreamDroppedDto(long Dropped, string Option);
