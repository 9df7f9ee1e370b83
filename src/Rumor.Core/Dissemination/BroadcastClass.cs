namespace Rumor.Core.Dissemination;

/// <summary>
/// Priority classes of the broadcast queue, most urgent first. A packet is filled from the most
/// urgent class down, but lower classes that are waiting keep a share of every packet, so a storm
/// of membership news cannot starve user events forever (see <see cref="BroadcastQueue"/>).
/// </summary>
public enum BroadcastClass
{
    /// <summary>Leave and dead announcements: a member is gone, everyone should stop probing it.</summary>
    Departure = 0,

    /// <summary>Alive and suspect news (joins, refutations, accusations).</summary>
    Membership = 1,

    /// <summary>Replicated-state hints (checksum announcements).</summary>
    StateHints = 2,

    /// <summary>User events and queries.</summary>
    Events = 3,
}
