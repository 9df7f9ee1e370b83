using Rumor.Core;

namespace Rumor.Simulation.Experiments;

/// <summary>
/// The mean-field (deterministic, N → ∞) recurrences of synchronous spreading, for the theory
/// curve drawn beside measured spreads. With i the informed fraction, u = 1 − i, f the fanout:
/// <list type="bullet">
/// <item>push: i' = 1 − (1 − i)·e^(−f·i) (an uninformed node escapes f·i·N pushes of probability 1/N each);</item>
/// <item>pull: u' = u·u^f (an uninformed node stays so when all f peers it asks are uninformed);</item>
/// <item>push-pull: u' = u·u^f·e^(−f·i) (both of the above).</item>
/// </list>
/// It starts at i = 1/N. The rounds until "everyone" are those until u·N falls below one half
/// (the expected number of uninformed nodes rounds to zero); this tracks the Monte-Carlo ideal's
/// mean within a round or so, the Monte-Carlo being the exact reference.
/// </summary>
public static class MeanFieldSpread
{
    /// <summary>The informed fraction after each round (index 0 = 1/N), for at most <paramref name="rounds"/> rounds or until everyone.</summary>
    public static double[] Curve(int nodes, GossipStrategy strategy, int fanout, int rounds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nodes, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(fanout, 1);
        List<double> curve = [1.0 / nodes];
        double i = 1.0 / nodes;
        for (int r = 0; r < rounds && (1 - i) * nodes >= 0.5; r++)
        {
            double u = 1 - i;
            double next = strategy switch
            {
                GossipStrategy.Push => u * Math.Exp(-fanout * i),
                GossipStrategy.Pull => u * Math.Pow(u, fanout),
                _ => u * Math.Pow(u, fanout) * Math.Exp(-fanout * i),
            };
            i = 1 - next;
            curve.Add(i);
        }

        return [.. curve];
    }

    /// <summary>Rounds until the expected number of uninformed nodes falls below one half (or <paramref name="bound"/>).</summary>
    public static int RoundsToEveryone(int nodes, GossipStrategy strategy, int fanout, int bound = 1000) =>
        Curve(nodes, strategy, fanout, bound).Length - 1;
}
