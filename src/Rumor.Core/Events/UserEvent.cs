namespace Rumor.Core.Events;

/// <summary>The identity of a user event: its origin, the origin's generation (so a restart does not collide) and a sequence from 1.</summary>
public readonly record struct EventId(string Origin, ulong Generation, ulong Sequence)
{
    /// <inheritdoc />
    public override string ToString() => $"{Origin}/{Generation}/{Sequence}";
}

/// <summary>A user event as the application sees it.</summary>
/// <param name="Id">Unique identity.</param>
/// <param name="Name">The event's name (what kind of event).</param>
/// <param name="Payload">Opaque bytes.</param>
/// <param name="LamportTime">The origin's Lamport time when it sent the event.</param>
/// <param name="Coalescing">True when sent with coalescing (a newer event of the same name and origin may replace it).</param>
public sealed record UserEvent(EventId Id, string Name, byte[] Payload, ulong LamportTime, bool Coalescing)
{
    /// <summary>The total order every member agrees on: Lamport time, then origin, generation and sequence.</summary>
    public static IComparer<UserEvent> LamportOrder { get; } = Comparer<UserEvent>.Create(static (a, b) =>
    {
        int c = a.LamportTime.CompareTo(b.LamportTime);
        if (c == 0)
        {
            c = string.CompareOrdinal(a.Id.Origin, b.Id.Origin);
        }

        if (c == 0)
        {
            c = a.Id.Generation.CompareTo(b.Id.Generation);
        }

        return c != 0 ? c : a.Id.Sequence.CompareTo(b.Id.Sequence);
    });
}

/// <summary>A user event was delivered on this node (once per event and node; the sender's own events included).</summary>
public sealed record UserEventReceived(TimeSpan At, UserEvent Event) : GossipEvent(At)
{
    /// <summary>The member that sent the event.</summary>
    public string Origin => Event.Id.Origin;
}

/// <summary>A query as a responder sees it.</summary>
/// <param name="Asker">The member that asked.</param>
/// <param name="AskerGeneration">The asker's generation (part of the query's identity).</param>
/// <param name="Id">The asker's local query id.</param>
/// <param name="Name">The query's name.</param>
/// <param name="Payload">Opaque bytes.</param>
/// <param name="Filter">Tag filter; this node matched it.</param>
/// <param name="LamportTime">The asker's Lamport time when it asked.</param>
/// <param name="Deadline">This node's own deadline for answering: receipt time plus the timeout the query carried.</param>
public sealed record QueryRequest(string Asker, ulong AskerGeneration, ulong Id, string Name, byte[] Payload, IReadOnlyDictionary<string, string> Filter, ulong LamportTime, TimeSpan Deadline);

/// <summary>A query arrived that this node matches; answer it with GossipNode.RespondToQuery before its deadline (or set GossipNode.QueryResponder).</summary>
public sealed record QueryReceived(TimeSpan At, QueryRequest Request) : GossipEvent(At);

/// <summary>One member's answer to our query.</summary>
public sealed record QueryAnswer(string From, byte[] Payload, TimeSpan At);

/// <summary>The state of one of our queries.</summary>
/// <param name="Id">The local query id.</param>
/// <param name="Name">The query's name.</param>
/// <param name="Expected">Members alive and matching the filter when the query was sent (ordinal order).</param>
/// <param name="Responses">Answers in arrival order (from expected members and any others that matched).</param>
/// <param name="Missing">Expected members that have not answered (ordinal order).</param>
/// <param name="Done">True once every expected member answered or the deadline passed.</param>
/// <param name="Deadline">When the asker stops collecting.</param>
public sealed record QueryResult(ulong Id, string Name, IReadOnlyList<string> Expected, IReadOnlyList<QueryAnswer> Responses, IReadOnlyList<string> Missing, bool Done, TimeSpan Deadline);

/// <summary>One of our queries finished: every expected member answered, or the deadline passed (see <see cref="QueryResult.Missing"/>).</summary>
public sealed record QueryCompleted(TimeSpan At, QueryResult Result) : GossipEvent(At);
