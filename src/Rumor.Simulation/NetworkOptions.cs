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

    /// <summary>
    /// A latency topology (null: every link has <see cref="Latency"/>): the group of each node, by
    /// node index (a node past the end of the list is in group 0). With <see cref="GroupLatency"/>
    /// the one-way base latency of a datagram or stream leg from a node in group g to a node in
    /// group h is <c>GroupLatency[g][h]</c> instead of <see cref="Latency"/>; jitter, loss and
    /// reordering apply as before.
    /// </summary>
    public IReadOnlyList<int>? LatencyGroups { get; init; }

    /// <summary>One-way base latency between groups (a square matrix indexed by <see cref="LatencyGroups"/>' group numbers); used only with <see cref="LatencyGroups"/>.</summary>
    public IReadOnlyList<IReadOnlyList<TimeSpan>>? GroupLatency { get; init; }

    /// <summary>The one-way base latency from node index <paramref name="from"/> to node index <paramref name="to"/>.</summary>
    public TimeSpan LinkLatency(int from, int to)
    {
        if (LatencyGroups is not { } groups || GroupLatency is not { } matrix)
        {
            return Latency;
        }

        int g = from >= 0 && from < groups.Count ? groups[from] : 0;
        int h = to >= 0 && to < groups.Count ? groups[to] : 0;
        return matrix[g][h];
    }

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

        if ((LatencyGroups is null) != (GroupLatency is null))
        {
            problems.Add("LatencyGroups and GroupLatency go together: give both or neither.");
        }
        else if (LatencyGroups is { } groups && GroupLatency is { } matrix)
        {
            if (matrix.Count == 0 || matrix.Any(row => row is null || row.Count != matrix.Count))
            {
                problems.Add("GroupLatency must be a square matrix with one row and one column per group.");
            }
            else if (matrix.Any(row => row.Any(latency => latency < TimeSpan.Zero)))
            {
                problems.Add("GroupLatency must not hold a negative latency.");
            }

            if (groups.Any(g => g < 0 || g >= matrix.Count))
            {
                problems.Add($"LatencyGroups holds a group outside 0..{matrix.Count - 1} (GroupLatency has {matrix.Count} groups).");
            }
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
