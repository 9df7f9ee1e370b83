namespace Rumor.Serf;

/// <summary>
/// Serf's Lamport clock (serf-wire.md 4.3): <see cref="Witness"/> moves the clock past a time seen
/// from another node; senders stamp with <see cref="Time"/> then <see cref="Increment"/>. Serf
/// starts each of its three clocks at 1. Not thread-safe: the node guards it with its lock.
/// </summary>
public sealed class LamportClock
{
    /// <summary>The current time.</summary>
    public ulong Time { get; private set; } = 1;

    /// <summary>Advances the clock by one and returns the new time.</summary>
    public ulong Increment() => ++Time;

    /// <summary>If <paramref name="seen"/> is not older than the clock, moves the clock to seen + 1.</summary>
    public void Witness(ulong seen)
    {
        if (seen >= Time && seen < ulong.MaxValue)
        {
            Time = seen + 1;
        }
    }
}
