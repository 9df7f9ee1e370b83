namespace Rumor.Simulation.Experiments;

/// <summary>Summary of a set of measurements.</summary>
public sealed record SpreadStatistics(double Mean, double P50, double P99, double Min, double Max, int Count)
{
    /// <summary>Summarises <paramref name="values"/> (nearest-rank percentiles).</summary>
    public static SpreadStatistics Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
        {
            return new SpreadStatistics(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0);
        }

        double[] sorted = values.Order().ToArray();
        return new SpreadStatistics(sorted.Average(), Rank(sorted, 0.50), Rank(sorted, 0.99), sorted[0], sorted[^1], sorted.Length);
    }

    private static double Rank(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
