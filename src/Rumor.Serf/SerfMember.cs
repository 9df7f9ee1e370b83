using System.Net;
using Rumor.Serf.Wire;

namespace Rumor.Serf;

/// <summary>A member's status as Serf reports it (<c>serf members</c>); memberlist's suspect is invisible at this level.</summary>
public enum SerfMemberStatus
{
    Alive,
    Leaving,
    Left,
    Failed,
}

/// <summary>A snapshot of one member of the Serf cluster as this node sees it.</summary>
public sealed record SerfMember(string Name, IPAddress Address, int Port, IReadOnlyDictionary<string, string> Tags, SerfMemberStatus Status,
    MemberlistState MemberlistState, uint Incarnation, ulong StatusLTime, byte[] Vsn);

/// <summary>A user event received (or sent) by this node.</summary>
public sealed record SerfUserEvent(ulong LTime, string Name, byte[] Payload, bool Coalesce);

/// <summary>Why a member changed, as Serf's member events name it.</summary>
public enum SerfMemberEventKind
{
    Join,
    Update,
    Leave,
    Failed,

    /// <summary>A failed or left member forgotten after ReconnectTimeout or TombstoneTimeout (Serf's member-reap).</summary>
    Reap,
}

/// <summary>A member event: what happened and the member as it is now.</summary>
public sealed record SerfMemberEvent(SerfMemberEventKind Kind, SerfMember Member);

/// <summary>A Serf query this node was asked (and selected by its filters).</summary>
public sealed record SerfQuery(string Name, byte[] Payload, string SourceNode, ulong LTime)
{
    private int _responded;

    /// <summary>When the asker stops listening: received + the query's timeout, as Serf's <c>Query.Deadline</c>.</summary>
    public DateTimeOffset Deadline { get; init; } = DateTimeOffset.MaxValue;

    /// <summary>Sends the response (set by the node that received the query).</summary>
    internal Action<byte[]>? Responder { get; init; }

    /// <summary>
    /// Answers the query as Serf's <c>Query.Respond</c> does: once, before <see cref="Deadline"/>,
    /// at most <see cref="SerfNode.QueryResponseSizeLimit"/> bytes. Returns null when the response
    /// was sent, else why not (Serf's messages: too large, past the deadline, already sent).
    /// </summary>
    public string? Respond(byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (payload.Length > SerfNode.QueryResponseSizeLimit)
        {
            return $"response exceeds limit of {SerfNode.QueryResponseSizeLimit} bytes";
        }

        if (DateTimeOffset.UtcNow > Deadline)
        {
            return "response is past the deadline";
        }

        if (Responder is not { } responder)
        {
            return "this query was not received by a node (nothing to respond to)";
        }

        if (Interlocked.Exchange(ref _responded, 1) != 0)
        {
            return "response already sent";
        }

        responder(payload);
        return null;
    }
}

/// <summary>One member's response to a query this node asked.</summary>
public sealed record SerfQueryResponse(string From, byte[] Payload);
