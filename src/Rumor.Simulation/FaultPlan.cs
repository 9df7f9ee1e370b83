using Rumor.Core.Randomness;

namespace Rumor.Simulation;

/// <summary>One scheduled fault.</summary>
public sealed record Fault(TimeSpan At, TimeSpan Duration, FaultKind Kind, int[] Nodes, double Loss)
{
    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        FaultKind.Partition => $"{At.TotalSeconds:0.0}s +{Duration.TotalSeconds:0.0}s partition isolating {Nodes.Length} nodes",
        FaultKind.Crash => $"{At.TotalSeconds:0.0}s +{Duration.TotalSeconds:0.0}s crash of node {Nodes[0]} then restart",
        _ => $"{At.TotalSeconds:0.0}s +{Duration.TotalSeconds:0.0}s packet loss {Loss:P0}",
    };
}

/// <summary>Kinds of faults a plan injects.</summary>
public enum FaultKind
{
    /// <summary>A group of nodes is cut off from the rest, then the cut heals.</summary>
    Partition,

    /// <summary>A node crashes, then restarts with the same name and address.</summary>
    Crash,

    /// <summary>The whole network loses packets for a while.</summary>
    Loss,
}

/// <summary>
/// Faults first, then heal, then demand convergence (as FoundationDB and TigerBeetle test): a plan is
/// a list of faults drawn from one seed, all of them over by <see cref="HealedBy"/>. Overlapping
/// partitions are not generated (one partition at a time), crashes never hit the first seed.
/// </summary>
public sealed class FaultPlan
{
    private FaultPlan(IReadOnlyList<Fault> faults, TimeSpan healedBy)
    {
        Faults = faults;
        HealedBy = healedBy;
    }

    /// <summary>The faults, in time order.</summary>
    public IReadOnlyList<Fault> Faults { get; }

    /// <summary>When the last fault is over.</summary>
    public TimeSpan HealedBy { get; }

    /// <summary>Draws <paramref name="faultCount"/> faults over <paramref name="window"/> for a cluster of <paramref name="nodeCount"/>.</summary>
    public static FaultPlan Generate(ulong seed, int nodeCount, int faultCount, TimeSpan window)
    {
        Xoshiro256StarStar random = new(seed);
        List<Fault> faults = [];
        TimeSpan partitionFreeAt = TimeSpan.Zero;
        for (int i = 0; i < faultCount; i++)
        {
            TimeSpan at = random.NextDuration(window);
            TimeSpan duration = TimeSpan.FromSeconds(5 + random.NextInt(55));
            FaultKind kind = (FaultKind)random.NextInt(3);
            if (kind == FaultKind.Partition && at < partitionFreeAt)
            {
                kind = FaultKind.Crash;
            }

            switch (kind)
            {
                case FaultKind.Partition:
                    int size = 1 + random.NextInt(Math.Max(1, nodeCount / 2));
                    faults.Add(new Fault(at, duration, kind, Pick(random, nodeCount, size), 0));
                    partitionFreeAt = at + duration;
                    break;
                case FaultKind.Crash:
                    faults.Add(new Fault(at, duration, kind, [1 + random.NextInt(Math.Max(1, nodeCount - 1))], 0));
                    break;
                default:
                    faults.Add(new Fault(at, duration, kind, [], 0.05 + (0.25 * random.NextDouble())));
                    break;
            }
        }

        faults.Sort((a, b) => a.At.CompareTo(b.At));
        TimeSpan healedBy = faults.Count == 0 ? TimeSpan.Zero : faults.Max(f => f.At + f.Duration);
        return new FaultPlan(faults, healedBy);
    }

    /// <summary>Schedules the plan on <paramref name="cluster"/>, relative to its current time.</summary>
    public void Apply(SimCluster cluster)
    {
        TimeSpan origin = cluster.Now;
        NetworkOptions baseline = cluster.Network.Options;
        int lossActive = 0;
        foreach (Fault fault in Faults)
        {
            TimeSpan start = origin + fault.At;
            TimeSpan end = start + fault.Duration;
            switch (fault.Kind)
            {
                case FaultKind.Partition:
                    cluster.At(start, c => c.Network.Partition([fault.Nodes.Select(i => c.Nodes[i]).ToArray()]));
                    cluster.At(end, c => c.Network.Heal());
                    break;
                case FaultKind.Crash:
                    SimNode node = cluster.Nodes[fault.Nodes[0]];
                    cluster.At(start, c =>
                    {
                        if (node.IsUp)
                        {
                            c.Crash(node);
                        }
                    });
                    cluster.At(end, c =>
                    {
                        if (!node.IsUp && !node.HasLeft)
                        {
                            c.Restart(node);
                        }
                    });
                    break;
                default:
                    cluster.At(start, c =>
                    {
                        lossActive++;
                        c.Network.Options = baseline with { LossProbability = fault.Loss };
                    });
                    cluster.At(end, c =>
                    {
                        if (--lossActive == 0)
                        {
                            c.Network.Options = baseline;
                        }
                    });
                    break;
            }
        }
    }

    /// <inheritdoc />
    public override string ToString() => string.Join(Environment.NewLine, Faults);

    private static int[] Pick(IRandomSource random, int nodeCount, int size)
    {
        List<int> all = Enumerable.Range(0, nodeCount).ToList();
        random.Shuffle(all);
        return all.Take(size).OrderBy(i => i).ToArray();
    }
}
