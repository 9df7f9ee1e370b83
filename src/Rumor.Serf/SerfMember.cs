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
}

/// <summary>A member event: what happened and the member as it is now.</summary>
public sealed record SerfMemberEvent(SerfMemberEventKind Kind, SerfMember Member);

/// <summary>A Serf query this node was asked (and selected by its filters).</summary>
public sealed record SerfQuery(string Name, byte[] Payload, string SourceNode, ulong LTime);

/// <summary>One member's response to a query this node asked.</summary>
public sealed record SerfQueryResponse(string From, byte[] Payload);
