using Rumor.Serf;

namespace Rumor.Agent.Serf;

/// <summary>
/// Serf's event coalescing periods (Serf's agent sets all four: 3 s, 1 s, 3 s, 1 s). Member events
/// are coalesced when both member periods are positive; user events sent with the coalesce flag
/// when both user periods are positive. A batch is flushed when its coalesce period has run since
/// its first event, or when no event came for the quiescent period, whichever is first.
/// </summary>
/// <param name="CoalescePeriod">Longest a member event waits in a batch (key <c>CoalescePeriod</c>, default 3 s; 0 turns member coalescing off).</param>
/// <param name="QuiescentPeriod">A member batch is flushed after this long without a new member event (<c>QuiescentPeriod</c>, default 1 s).</param>
/// <param name="UserCoalescePeriod">Longest a coalescable user event waits (<c>UserCoalescePeriod</c>, default 3 s; 0 turns user coalescing off).</param>
/// <param name="UserQuiescentPeriod">A user batch is flushed after this long without a new coalescable user event (<c>UserQuiescentPeriod</c>, default 1 s).</param>
public sealed record SerfCoalesceOptions(TimeSpan CoalescePeriod, TimeSpan QuiescentPeriod, TimeSpan UserCoalescePeriod, TimeSpan UserQuiescentPeriod)
{
    /// <summary>Serf agent's values.</summary>
    public static readonly SerfCoalesceOptions Default = new(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1));

    /// <summary>True when member events are coalesced.</summary>
    public bool CoalescesMembers => CoalescePeriod > TimeSpan.Zero && QuiescentPeriod > TimeSpan.Zero;

    /// <summary>True when user events with the coalesce flag are coalesced.</summary>
    public bool CoalescesUserEvents => UserCoalescePeriod > TimeSpan.Zero && UserQuiescentPeriod > TimeSpan.Zero;
}

/// <summary>An event on its way to the Serf-mode event handlers.</summary>
public abstract record SerfHandlerEvent
{
    /// <summary>SERF_EVENT: member-join, member-leave, member-failed, member-update, member-reap, user or query.</summary>
    public abstract string EventName { get; }

    /// <summary>The user event's or query's name (the part a <c>user:NAME</c> or <c>query:NAME</c> filter matches); null for member events.</summary>
    public virtual string? Name => null;
}

/// <summary>One member event for one or more members (Serf's <c>MemberEvent</c>; coalescing groups members by event).</summary>
public sealed record SerfMembersEvent(string Kind, IReadOnlyList<SerfMember> Members) : SerfHandlerEvent
{
    /// <inheritdoc/>
    public override string EventName => Kind;

    /// <summary>Serf's name of a member event kind.</summary>
    public static string KindName(SerfMemberEventKind kind) => kind switch
    {
        SerfMemberEventKind.Join => "member-join",
        SerfMemberEventKind.Leave => "member-leave",
        SerfMemberEventKind.Failed => "member-failed",
        SerfMemberEventKind.Update => "member-update",
        SerfMemberEventKind.Reap => "member-reap",
        _ => "member-" + kind.ToString().ToLowerInvariant(),
    };
}

/// <summary>A user event.</summary>
public sealed record SerfUserHandlerEvent(SerfUserEvent Event) : SerfHandlerEvent
{
    /// <inheritdoc/>
    public override string EventName => "user";

    /// <inheritdoc/>
    public override string? Name => Event.Name;
}

/// <summary>A query for the handlers to answer.</summary>
public sealed record SerfQueryHandlerEvent(SerfQuery Query) : SerfHandlerEvent
{
    /// <inheritdoc/>
    public override string EventName => "query";

    /// <inheritdoc/>
    public override string? Name => Query.Name;
}

/// <summary>Serf's <c>coalescer</c>: which events it takes, how it keeps them, what it flushes.</summary>
public interface ISerfCoalescer
{
    /// <summary>True when this coalescer keeps the event; others pass straight through.</summary>
    bool Handles(SerfHandlerEvent e);

    /// <summary>Keeps the event.</summary>
    void Coalesce(SerfHandlerEvent e);

    /// <summary>The events of the batch, and starts a new one.</summary>
    IReadOnlyList<SerfHandlerEvent> Flush();
}

/// <summary>
/// Serf's <c>memberEventCoalescer</c>: the latest event per member name; a flush groups members by
/// event and skips a member whose last flushed event was the same (member-update excepted). Unlike
/// Serf 0.9.4, the kept events are cleared by a flush, so an old member-update is not sent again
/// with every later batch.
/// </summary>
public sealed class SerfMemberCoalescer : ISerfCoalescer
{
    private readonly Dictionary<string, string> _lastEvents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Kind, SerfMember Member)> _latest = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    /// <summary>Members whose last flushed event is remembered, at most (older names are forgotten first).</summary>
    public const int RememberedMax = 10_000;

    /// <inheritdoc/>
    public bool Handles(SerfHandlerEvent e) => e is SerfMembersEvent;

    /// <inheritdoc/>
    public void Coalesce(SerfHandlerEvent e)
    {
        SerfMembersEvent members = (SerfMembersEvent)e;
        foreach (SerfMember member in members.Members)
        {
            _latest[member.Name] = (members.Kind, member);
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<SerfHandlerEvent> Flush()
    {
        Dictionary<string, List<SerfMember>> byKind = new(StringComparer.Ordinal);
        List<string> kinds = [];
        foreach ((string name, (string kind, SerfMember member)) in _latest)
        {
            if (_lastEvents.TryGetValue(name, out string? previous) && previous == kind && kind != "member-update")
            {
                continue;
            }

            if (!_lastEvents.ContainsKey(name))
            {
                _order.Add(name);
            }

            _lastEvents[name] = kind;
            if (!byKind.TryGetValue(kind, out List<SerfMember>? list))
            {
                byKind[kind] = list = [];
                kinds.Add(kind);
            }

            list.Add(member);
        }

        _latest.Clear();
        while (_order.Count > RememberedMax)
        {
            _lastEvents.Remove(_order[0]);
            _order.RemoveAt(0);
        }

        return [.. kinds.Select(k => new SerfMembersEvent(k, byKind[k]))];
    }
}

/// <summary>
/// Serf's <c>userEventCoalescer</c>: user events sent with the coalesce flag, per name only those
/// of the highest Lamport time seen in the batch (all of them when several share it).
/// </summary>
public sealed class SerfUserCoalescer : ISerfCoalescer
{
    private readonly Dictionary<string, (ulong LTime, List<SerfHandlerEvent> Events)> _events = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    /// <inheritdoc/>
    public bool Handles(SerfHandlerEvent e) => e is SerfUserHandlerEvent { Event.Coalesce: true };

    /// <inheritdoc/>
    public void Coalesce(SerfHandlerEvent e)
    {
        SerfUserEvent user = ((SerfUserHandlerEvent)e).Event;
        if (!_events.TryGetValue(user.Name, out (ulong LTime, List<SerfHandlerEvent> Events) latest))
        {
            _order.Add(user.Name);
            _events[user.Name] = (user.LTime, [e]);
        }
        else if (latest.LTime < user.LTime)
        {
            _events[user.Name] = (user.LTime, [e]);
        }
        else if (latest.LTime == user.LTime)
        {
            latest.Events.Add(e);
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<SerfHandlerEvent> Flush()
    {
        List<SerfHandlerEvent> flushed = [.. _order.SelectMany(name => _events[name].Events)];
        _events.Clear();
        _order.Clear();
        return flushed;
    }
}
