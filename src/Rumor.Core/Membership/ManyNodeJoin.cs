namespace Rumor.Core.Membership;

/// <summary>
/// How many nodes started at once join each other: node 1 through node 0, node i ≥ 2 through node 0
/// and node i/2, <see cref="Parallelism"/> joins in flight, the next started when one is answered.
/// <c>rumor cluster</c> (<c>InProcessCluster</c>) joins this way, and the simulator's
/// <c>bench scenario</c>, which predicts it, uses the same rule from here so the two cannot drift
/// apart. Node 0 alone takes every join (a stream each), so the second seed spreads the load.
/// </summary>
public static class ManyNodeJoin
{
    /// <summary>Joins in flight at once (node 0 accepts at most StreamsMax streams at a time).</summary>
    public const int Parallelism = 16;

    /// <summary>The seeds node <paramref name="index"/> (≥ 1) joins through; <paramref name="addressOf"/> gives node k's address.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is below 1 (node 0 joins no one).</exception>
    public static NodeAddress[] Seeds(int index, Func<int, NodeAddress> addressOf)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1);
        ArgumentNullException.ThrowIfNull(addressOf);
        return index == 1 ? [addressOf(0)] : [addressOf(0), addressOf(index / 2)];
    }
}
