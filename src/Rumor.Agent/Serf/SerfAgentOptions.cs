namespace Rumor.Agent.Serf;

/// <summary>
/// Serf mode's own node options, read from the agent's configuration (keys of the same names) and
/// given to the <see cref="Rumor.Serf.SerfNodeOptions"/> of the node (docs/CONFIGURATION.md).
/// </summary>
/// <param name="EventImmediatePush">Key <c>EventImmediatePush</c> (default true): a user event or query sent here or first received here goes out at once in one extra gossip round (<see cref="Rumor.Serf.SerfNodeOptions.EventImmediatePush"/>).</param>
/// <param name="ReconnectTimeout">Key <c>ReconnectTimeout</c> (Serf's <c>reconnect_timeout</c>, default 24 h): a member failed this long is reaped (member-reap).</param>
/// <param name="TombstoneTimeout">Key <c>TombstoneTimeout</c> (Serf's <c>tombstone_timeout</c>, default 24 h): a member that left this long ago is reaped (member-reap).</param>
/// <param name="ReapInterval">Key <c>ReapInterval</c> (Serf's ReapInterval, default 15 s): time between the reaper's passes.</param>
/// <param name="MemberImmediatePush">Key <c>MemberImmediatePush</c> (default true): this node's own join, and a member new to this node, go out at once in one extra gossip round (<see cref="Rumor.Serf.SerfNodeOptions.MemberImmediatePush"/>).</param>
public sealed record SerfAgentOptions(bool EventImmediatePush, TimeSpan ReconnectTimeout, TimeSpan TombstoneTimeout, TimeSpan ReapInterval, bool MemberImmediatePush = true)
{
    /// <summary>The defaults (Serf's for the reaper).</summary>
    public static readonly SerfAgentOptions Default = new(EventImmediatePush: true, TimeSpan.FromHours(24), TimeSpan.FromHours(24), TimeSpan.FromSeconds(15), MemberImmediatePush: true);
}
