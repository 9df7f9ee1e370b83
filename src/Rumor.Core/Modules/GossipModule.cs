using Rumor.Core.Membership;

namespace Rumor.Core.Modules;

/// <summary>
/// A protocol feature beside membership (replicated state, events, aggregates, heartbeats). A
/// module owns its fields, its typed timers and the message types it registers; it reaches the
/// kernel only through the <see cref="IModuleContext"/> it is built with. The kernel calls the hooks
/// below for every module in <see cref="ModuleSet"/> order (deterministic).
/// </summary>
internal abstract class GossipModule
{
    /// <summary>The node started: schedule the first rounds (random draws here are part of the seed's replay).</summary>
    public virtual void Start(TimeSpan now)
    {
    }

    /// <summary>Hook: the kernel forgot a dead or left member whose retention passed.</summary>
    public virtual void OnMemberReaped(Member member, TimeSpan now)
    {
    }

    /// <summary>Hook: a known member came back as a newer generation (its process restarted); what was kept of the older one is stale.</summary>
    public virtual void OnMemberRestarted(Member member, TimeSpan now)
    {
    }

    /// <summary>
    /// Hook: a member not in our table left at <paramref name="generation"/> (its leave outran its
    /// alive: <see cref="Membership.RecentDepartures"/>); what was kept of an older generation of it
    /// is stale, as on <see cref="OnMemberRestarted"/>.
    /// </summary>
    public virtual void OnUnknownMemberLeft(string name, ulong generation, TimeSpan now)
    {
    }

    /// <summary>Hook: the reply to a stream arrived; true when <paramref name="streamId"/> was this module's.</summary>
    public virtual bool OnStreamResponse(long streamId, ReadOnlySpan<byte> response, TimeSpan now) => false;

    /// <summary>Hook: a stream failed in the shell; true when <paramref name="streamId"/> was this module's.</summary>
    public virtual bool OnStreamFailed(long streamId, TimeSpan now) => false;
}
