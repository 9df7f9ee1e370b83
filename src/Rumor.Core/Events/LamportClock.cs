namespace Rumor.Core.Events;

/// <summary>
/// Lamport's logical clock (1978). Sending ticks it; receiving a time t sets it to max(local, t) + 1.
/// So if event a happened before event b (b's origin had seen a when it sent b), a's time is lower;
/// ordering by (time, origin, generation, sequence) extends that to a total order every member agrees on.
/// </summary>
public sealed class LamportClock
{
    /// <summary>
    /// The largest time accepted from a peer (2^62): at a million events a second the cluster reaches
    /// it after 146,000 years, so a time above it is forged or broken and is refused, never witnessed.
    /// </summary>
    public const ulong TimeMax = 1UL << 62;

    /// <summary>The current time (0 before anything happened).</summary>
    public ulong Time { get; private set; }

    /// <summary>A local event (a send): advances the clock and returns the new time, which the event carries.</summary>
    public ulong Tick() => Time == ulong.MaxValue ? Time : ++Time;

    /// <summary>A received time: the clock moves past it, max(local, received) + 1.</summary>
    public ulong Witness(ulong received)
    {
        // A hostile peer sending ulong.MaxValue must not wrap the clock to 0.
        Time = Math.Max(Time, received) == ulong.MaxValue ? ulong.MaxValue : Math.Max(Time, received) + 1;
        return Time;
    }
}
