namespace Rumor.Simulation;

/// <summary>
/// The simulated network's behaviour. Every datagram independently suffers loss, duplication and a
/// delay of <c>Latency + Exponential(mean Jitter)</c>, plus, with <see cref="ReorderProbability"/>,
/// an extra uniform delay of up to <see cref="ReorderDelayMax"/> (which reorders it past later
/// packets). Streams (TCP) are reliable but take a round trip to connect; partitions and crashed
/// hosts swallow both. All draws come from the cluster's seeded generator.
/// </summary>
public sealed record NetworkOptions
{
    /// <summary>One-way base latency.</summary>
    public TimeSpan Latency { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Mean of the exponential jitter added to every datagram.</summary>
    public TimeSpan Jitter { get; init; } = TimeSpan.FromMilliseconds(0.5);

    /// <summary>Probability that a datagram is lost.</summary>
    public double LossProbability { get; init; }

    /// <summary>Probability that a datagram is delivered twice.</summary>
    public double DuplicateProbability { get; init; }

    /// <summary>Probability that a datagram is held back by an extra random delay.</summary>
    public double ReorderProbability { get; init; }

    /// <summary>Largest extra delay of a reordered datagram.</summary>
    public TimeSpan ReorderDelayMax { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Every problem with these options; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        List<string> problems = [];
        Probability(problems, nameof(LossProbability), LossProbability);
        Probability(problems, nameof(DuplicateProbability), DuplicateProbability);
        Probability(problems, nameof(ReorderProbability), ReorderProbability);
        if (Latency < TimeSpan.Zero || Jitter < TimeSpan.Zero || ReorderDelayMax < TimeSpan.Zero)
        {
            problems.Add("Latency, Jitter and ReorderDelayMax must not be negative.");
        }

        return problems;
    }

    private static void Probability(List<string> problems, string name, double value)
    {
        if (double.IsNaN(value) || value < 0 || value > 1)
        {
            problems.Add($"{name} is {value}; it must be between 0 and 1.");
        }
    }
}
