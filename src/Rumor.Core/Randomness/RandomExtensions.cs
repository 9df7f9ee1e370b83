namespace Rumor.Core.Randomness;

/// <summary>Helpers over <see cref="IRandomSource"/> that keep every draw deterministic.</summary>
public static class RandomExtensions
{
    /// <summary>Fisher–Yates shuffle in place.</summary>
    public static void Shuffle<T>(this IRandomSource random, IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>A uniform duration in [0, max).</summary>
    public static TimeSpan NextDuration(this IRandomSource random, TimeSpan max) =>
        max <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks((long)(random.NextDouble() * max.Ticks));
}
