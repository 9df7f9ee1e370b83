namespace Rumor.Core.Aggregates;

/// <summary>
/// The mass one node holds in a push-sum aggregate (Kempe, Dobra, Gehrke 2003), four components
/// gossiped together so that one exchange serves every statistic:
/// <list type="bullet">
/// <item><see cref="Value"/>: starts as the node's input value (0 without one);</item>
/// <item><see cref="Holders"/>: starts as 1 when the node has a value, else 0;</item>
/// <item><see cref="Nodes"/>: starts as 1 at every node;</item>
/// <item><see cref="Weight"/>: starts as 1 at the epoch's initiator only, 0 elsewhere.</item>
/// </list>
/// Each round a node keeps half of its mass and sends half (<see cref="TakeHalf"/>); a receiver
/// adds what it gets (<see cref="Add"/>). Halving by 0.5 is exact in binary floating point, so the
/// cluster's total of each component is conserved exactly except for rounding in additions. Every
/// ratio of two components therefore converges, at every node, to the ratio of the cluster totals:
/// Value / Holders → the average of the values (<see cref="Average"/>: Kempe's average, with
/// Holders as the weight); Nodes / Weight → N (<see cref="Count"/>: the single-weight-unit trick
/// for counting), Holders / Weight → the number of nodes with a value (<see cref="HolderCount"/>),
/// Value / Weight → the sum (<see cref="Sum"/>). Sum and counts need the one weight unit to reach
/// a node before it has an estimate, so they settle a few rounds after the average.
/// <para>
/// A plain value type with no allocation: <c>GossipNode</c> keeps one per aggregate plus one per
/// peer and direction for its flow ledger, and the push-sum experiment keeps an array of a million.
/// </para>
/// </summary>
public struct PushSumState : IEquatable<PushSumState>
{
    /// <summary>Sum of values.</summary>
    public double Value;

    /// <summary>Mass of "has a value": the weight of the average.</summary>
    public double Holders;

    /// <summary>Mass of "is a node".</summary>
    public double Nodes;

    /// <summary>The single weight unit of the epoch.</summary>
    public double Weight;

    /// <summary>Creates a mass from its components.</summary>
    public PushSumState(double value, double holders, double nodes, double weight)
    {
        Value = value;
        Holders = holders;
        Nodes = nodes;
        Weight = weight;
    }

    /// <summary>A node's starting mass: its value (none: counts only as a node), and the weight unit if it initiated the epoch.</summary>
    public static PushSumState ForInput(double? value, bool initiator) =>
        new(value ?? 0, value.HasValue ? 1 : 0, 1, initiator ? 1 : 0);

    /// <summary>Average of the values: Value / Holders; NaN while no value has reached this node.</summary>
    public readonly double Average => Holders > 0 ? Value / Holders : double.NaN;

    /// <summary>Number of nodes: Nodes / Weight; NaN while the weight unit has not reached this node.</summary>
    public readonly double Count => Weight > 0 ? Nodes / Weight : double.NaN;

    /// <summary>Number of nodes with a value: Holders / Weight; NaN while the weight unit has not reached this node.</summary>
    public readonly double HolderCount => Weight > 0 ? Holders / Weight : double.NaN;

    /// <summary>Sum of the values: Value / Weight; NaN while the weight unit has not reached this node.</summary>
    public readonly double Sum => Weight > 0 ? Value / Weight : double.NaN;

    /// <summary>True when every component is a finite number.</summary>
    public readonly bool IsFinite =>
        double.IsFinite(Value) && double.IsFinite(Holders) && double.IsFinite(Nodes) && double.IsFinite(Weight);

    /// <summary>Keeps half of the mass and returns the other half (the share to send).</summary>
    public PushSumState TakeHalf()
    {
        PushSumState half = new(Value * 0.5, Holders * 0.5, Nodes * 0.5, Weight * 0.5);
        this = half;
        return half;
    }

    /// <summary>Adds <paramref name="other"/> to this mass.</summary>
    public void Add(in PushSumState other)
    {
        Value += other.Value;
        Holders += other.Holders;
        Nodes += other.Nodes;
        Weight += other.Weight;
    }

    /// <summary>The component-wise difference <paramref name="a"/> − <paramref name="b"/>.</summary>
    public static PushSumState Difference(in PushSumState a, in PushSumState b) =>
        new(a.Value - b.Value, a.Holders - b.Holders, a.Nodes - b.Nodes, a.Weight - b.Weight);

    /// <inheritdoc />
    public readonly bool Equals(PushSumState other) =>
        Value.Equals(other.Value) && Holders.Equals(other.Holders) && Nodes.Equals(other.Nodes) && Weight.Equals(other.Weight);

    /// <inheritdoc />
    public override readonly bool Equals(object? obj) => obj is PushSumState other && Equals(other);

    /// <inheritdoc />
    public override readonly int GetHashCode() => HashCode.Combine(Value, Holders, Nodes, Weight);

    /// <summary>Component-wise equality.</summary>
    public static bool operator ==(PushSumState left, PushSumState right) => left.Equals(right);

    /// <summary>Component-wise inequality.</summary>
    public static bool operator !=(PushSumState left, PushSumState right) => !left.Equals(right);

    /// <inheritdoc />
    public override readonly string ToString() => $"(value {Value}, holders {Holders}, nodes {Nodes}, weight {Weight})";
}
