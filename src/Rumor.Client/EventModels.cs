namespace Rumor.Client;

/// <summary>The body of <c>POST /v1/events</c>: a name and at most one of <paramref name="Payload"/> and <paramref name="PayloadBase64"/>.</summary>
/// <param name="Name">The event's name.</param>
/// <param name="Payload">The payload as UTF-8 text.</param>
/// <param name="PayloadBase64">The payload as base64 (binary).</param>
/// <param name="Coalesce">True to let a newer event of the same name replace an unsent older one.</param>
public sealed record EventSendRequest(string? Name, string? Payload, string? PayloadBase64, bool? Coalesce);

/// <summary>The answer of <c>POST /v1/events</c>.</summary>
/// <param name="Id">The event's id, <c>origin/generation/sequence</c>.</param>
/// <param name="Name">Its name.</param>
/// <param name="LamportTime">Its Lamport time.</param>
public sealed record EventSentDto(string Id, string Name, ulong LamportTime);

/// <summary>A user event (<c>GET /v1/events</c>, <c>user</c> events of <c>/v1/stream</c>).</summary>
/// <param name="Id">Its id, <c>origin/generation/sequence</c>.</param>
/// <param name="Name">Its name.</param>
/// <param name="Payload">The payload as text, when it is UTF-8.</param>
/// <param name="PayloadBase64">The payload in base64, when it is not.</param>
/// <param name="Origin">The member that sent it.</param>
/// <param name="LamportTime">Its Lamport time.</param>
/// <param name="ReceivedAt">When this node received it.</param>
public sealed record EventDto(string Id, string Name, string? Payload, string? PayloadBase64, string Origin, ulong LamportTime, DateTimeOffset ReceivedAt);

/// <summary>The body of <c>POST /v1/query</c>.</summary>
/// <param name="Name">The query's name.</param>
/// <param name="Payload">The payload as UTF-8 text.</param>
/// <param name="PayloadBase64">The payload as base64 (binary).</param>
/// <param name="Filter">Only members whose tags match every entry answer.</param>
/// <param name="TimeoutMs">How long to wait for answers (default 2000; with --protocol serf, Serf's GossipInterval × 16 × ⌈log10(N + 1)⌉).</param>
/// <param name="RelayFactor">Serf mode only: each member also relays its answer through this many others (Serf's -relay-factor, 0 to 5).</param>
/// <param name="Nodes">Serf mode only: only these members answer (Serf's -node).</param>
public sealed record QueryPostRequest(string? Name, string? Payload, string? PayloadBase64, Dictionary<string, string>? Filter, long? TimeoutMs, int? RelayFactor = null, IReadOnlyList<string>? Nodes = null);

/// <summary>One member's answer to a query.</summary>
/// <param name="From">The member.</param>
/// <param name="Payload">Its answer as text, when UTF-8.</param>
/// <param name="PayloadBase64">Its answer in base64, when not.</param>
public sealed record QueryAnswerDto(string From, string? Payload, string? PayloadBase64);

/// <summary>The answer of <c>POST /v1/query</c>.</summary>
/// <param name="Id">The query's id, <c>asker/id</c>.</param>
/// <param name="Name">Its name.</param>
/// <param name="Expected">The members expected to answer.</param>
/// <param name="Responses">The answers received.</param>
/// <param name="Missing">Expected members that did not answer in time.</param>
/// <param name="Done">True when every expected member answered.</param>
/// <param name="Acks">Serf mode only: the members that acknowledged the query (Serf's acks; a member without a handler for it acks without answering).</param>
public sealed record QueryResultDto(string Id, string Name, IReadOnlyList<string> Expected, IReadOnlyList<QueryAnswerDto> Responses, IReadOnlyList<string> Missing, bool Done, IReadOnlyList<string>? Acks = null);

/// <summary>A cluster-wide aggregate as this node estimates it (<c>GET /v1/aggregates/{key}</c>); an estimate that is not a finite number yet is absent.</summary>
/// <param name="Key">The aggregate's key.</param>
/// <param name="Sum">The sum over the members.</param>
/// <param name="Count">The number of members.</param>
/// <param name="ValueCount">The number of members with a value.</param>
/// <param name="Average">The average value.</param>
/// <param name="Min">The smallest value.</param>
/// <param name="Max">The largest value.</param>
/// <param name="ErrorBound">The estimate's error bound.</param>
/// <param name="Converged">True when the estimate has settled.</param>
/// <param name="Epoch">The aggregation epoch.</param>
/// <param name="Initiator">The member that started the epoch.</param>
/// <param name="Rounds">Gossip rounds in this epoch.</param>
/// <param name="Previous">The last epoch's settled estimate, if any.</param>
/// <param name="Function">The quantity it was started for: average, sum, count, min or max.</param>
/// <param name="Value">The estimate of <paramref name="Function"/> (absent while unknown).</param>
/// <param name="RemainingMs">Milliseconds until it ends by itself on every member (absent: it runs until stopped).</param>
/// <param name="Input">What this member feeds in: number, missing or notANumber.</param>
/// <param name="Note">A sentence about inputs that are missing or not numbers, when there are any.</param>
public sealed record AggregateDto(
    string Key,
    double? Sum,
    double? Count,
    double? ValueCount,
    double? Average,
    double? Min,
    double? Max,
    double ErrorBound,
    bool Converged,
    uint Epoch,
    string Initiator,
    int Rounds,
    AggregateDto? Previous,
    string? Function = null,
    double? Value = null,
    long? RemainingMs = null,
    string? Input = null,
    string? Note = null);

/// <summary>The body of <c>POST /v1/aggregates</c>.</summary>
/// <param name="Key">The numeric key to aggregate (each member's own value of it).</param>
/// <param name="Function">average (default), sum, count, min or max.</param>
/// <param name="LifetimeMs">How long it runs before it ends by itself on every member (default 600000, at most 86400000).</param>
public sealed record AggregateStartRequest(string? Key, string? Function, long? LifetimeMs);

/// <summary>The answer of <c>DELETE /v1/aggregates/{key}</c>.</summary>
/// <param name="Key">The aggregate's key.</param>
/// <param name="Stopped">True: it ended here and the end is spreading to the other members.</param>
public sealed record AggregateStoppedDto(string Key, bool Stopped);
