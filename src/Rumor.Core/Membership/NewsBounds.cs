namespace Rumor.Core.Membership;

/// <summary>
/// Nothing outranks forever (issue 12). Membership news wins by (generation, incarnation), so one
/// message with a huge value would win against every later truth. Two bounds stop that, even from a
/// keyed member:
/// <list type="bullet">
/// <item>A generation is a start epoch (the transport uses Unix milliseconds at start). A generation
/// more than <see cref="GossipOptions.GenerationSkewMax"/> ahead of this node's own estimate of now
/// (its generation plus the time since it started) is refused: no process can have started in the future.</item>
/// <item>An incarnation only grows by one per refutation, so a jump of more than
/// <see cref="GossipOptions.IncarnationJumpMax"/> above what we hold for the same generation (or, for a
/// member or generation new to us, above that bound from zero) is refused; so is anything that would
/// leave less than that bound of headroom below the top, so a refutation never wraps.</item>
/// </list>
/// The node counts refusals in <see cref="Diagnostics.NodeCounters.OutOfBoundsRefused"/>.
/// </summary>
internal static class NewsBounds
{
    /// <summary>
    /// The largest generation a node accepts now: own generation + time since start + skew. Units
    /// are the generation's (milliseconds, as the transport sets it; the simulator uses ticks, whose
    /// bound is then looser, never tighter). Saturates instead of wrapping.
    /// </summary>
    public static ulong GenerationHorizon(ulong ownGeneration, TimeSpan sinceStart, TimeSpan skewMax)
    {
        ulong elapsed = (ulong)Math.Max(0, sinceStart.TotalMilliseconds);
        ulong horizon = ownGeneration + elapsed + (ulong)skewMax.TotalMilliseconds;
        return horizon < ownGeneration ? ulong.MaxValue : horizon;
    }

    /// <summary>True when news at (generation, incarnation) about <paramref name="member"/> (null: unknown) outranks too far.</summary>
    public static bool Exceeded(Member? member, ulong generation, uint incarnation, ulong horizon, uint jumpMax) =>
        generation > horizon
        || incarnation > uint.MaxValue - jumpMax
        || (member is not null && generation == member.Generation && incarnation > member.Incarnation && incarnation - member.Incarnation > jumpMax)
        || ((member is null || generation != member.Generation) && incarnation > jumpMax);
}
