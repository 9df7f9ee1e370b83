using System.Text.Json.Serialization;

namespace Rumor.Client;

/// <summary>
/// One event of <c>GET /v1/stream</c>: <see cref="Type"/> is the server-sent event's name and
/// exactly the matching one of <see cref="Member"/>, <see cref="UserEvent"/>, <see cref="Kv"/> and <see cref="Dropped"/> is set.
/// With <c>--json</c> the CLI prints it as <c>{"event":"member","data":{…}}</c>.
/// </summary>
public sealed record StreamEvent
{
    /// <summary>The event name of a member change.</summary>
    public const string MemberType = "member";

    /// <summary>The event name of a user event.</summary>
    public const string UserType = "user";

    /// <summary>The event name of a key change on <c>/v1/stream</c>.</summary>
    public const string KvType = "kv";

    /// <summary>The event name of the notice that a slow reader lost events (<see cref="Dropped"/>).</summary>
    public const string DroppedType = "dropped";

    /// <summary>The event name of a key change on <c>/v1/kv/watch</c>.</summary>
    public const string ChangeType = "change";

    /// <summary>The server-sent event's name: <c>member</c>, <c>user</c>, <c>kv</c> (or <c>change</c> from a watch).</summary>
    [JsonPropertyName("event")]
    public required string Type { get; init; }

    /// <summary>The event's data, whichever kind it is.</summary>
    [JsonPropertyName("data")]
    public object? Data => (object?)Member ?? (object?)UserEvent ?? (object?)Kv ?? Dropped;

    /// <summary>A member change (<c>member</c>).</summary>
    [JsonIgnore]
    public MemberEventDto? Member { get; init; }

    /// <summary>A user event (<c>user</c>).</summary>
    [JsonIgnore]
    public EventDto? UserEvent { get; init; }

    /// <summary>A key change (<c>kv</c> or <c>change</c>).</summary>
    [JsonIgnore]
    public KvChangeDto? Kv { get; init; }

    /// <summary>Events this subscriber lost because it read too slowly (<c>dropped</c>).</summary>
    [JsonIgnore]
    public StreamDroppedDto? Dropped { get; init; }
}
