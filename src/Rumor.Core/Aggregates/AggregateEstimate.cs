namespace Rumor.Core;

// The public shapes of the aggregates module's API (Aggregates/AggregatesModule.cs).

/// <summary>
/// The quantity an aggregate was started for. Every aggregate computes all of them (push-sum and
/// extremum gossip run together); the function says which one its starter asked for, and travels
/// with the aggregate's messages so every member reports the same. Wire values are fixed.
/// </summary>
public enum AggregateFunction : byte
{
    /// <summary>The average over the members with a value.</summary>
    Average = 0,

    /// <summary>The sum of the values.</summary>
    Sum = 1,

    /// <summary>The number of members taking part.</summary>
    Count = 2,

    /// <summary>The smallest value.</summary>
    Min = 3,

    /// <summary>The largest value.</summary>
    Max = 4,
}

/// <summary>What this node itself feeds into an aggregate.</summary>
public enum AggregateInputState
{
    /// <summary>Its own map holds a number for the key.</summary>
    Number,

    /// <summary>Its own map has no value for the key: it counts as a member only.</summary>
    Missing,

    /// <summary>Its own map holds text that is not a finite invariant-culture number: it counts as a member only.</summary>
    NotANumber,
}

/// <summary>
/// A node's view of one cluster aggregate. Estimates are null while unknown: <see cref="Average"/>,
/// <see cref="Min"/> and <see cref="Max"/> until a value reaches this node (forever if no node has
/// one); <see cref="Count"/>, <see cref="ValueCount"/> and <see cref="Sum"/> until the epoch's weight
/// unit does. <see cref="ErrorBound"/> is relative (0.001: within 0.1 %) and covers Average, Count,
/// ValueCount and Sum; it is derived from what the node observed (see
/// <c>GetAggregate</c>). Min and Max are exact once the extremes have spread.
/// </summary>
/// <param name="Key">The state key whose values are aggregated.</param>
/// <param name="Epoch">The epoch number; each epoch starts from the current members' current values.</param>
/// <param name="Initiator">The member that started the epoch and holds its weight unit.</param>
/// <param name="EpochStartedAt">When this node entered the epoch (its own clock).</param>
/// <param name="Rounds">Rounds this node has run in the epoch.</param>
/// <param name="Sum">Sum of the values.</param>
/// <param name="Count">Number of members taking part (with or without a value).</param>
/// <param name="ValueCount">Number of members with a value for the key.</param>
/// <param name="Average">Average over the members with a value.</param>
/// <param name="Min">Smallest value.</param>
/// <param name="Max">Largest value.</param>
/// <param name="ErrorBound">Relative error bound of Sum, Count, ValueCount and Average (+∞: not yet bounded).</param>
/// <param name="Converged">True when <paramref name="ErrorBound"/> is at most AggregateConvergenceThreshold over a full window of samples.</param>
/// <param name="Previous">The previous epoch's final estimate at this node (its own Previous is null), readable while this one converges.</param>
/// <param name="Function">The quantity the aggregate was started for.</param>
/// <param name="EndsAt">When the aggregate ends by itself (this node's clock), or null when it runs until stopped.</param>
/// <param name="Input">What this node itself feeds in: a number, nothing, or text that is not a number.</param>
public sealed record AggregateEstimate(
    string Key,
    uint Epoch,
    string Initiator,
    TimeSpan EpochStartedAt,
    int Rounds,
    double? Sum,
    double? Count,
    double? ValueCount,
    double? Average,
    double? Min,
    double? Max,
    double ErrorBound,
    bool Converged,
    AggregateEstimate? Previous,
    AggregateFunction Function = AggregateFunction.Average,
    TimeSpan? EndsAt = null,
    AggregateInputState Input = AggregateInputState.Missing)
{
    /// <summary>The value of <see cref="Function"/> (null while unknown).</summary>
    public double? Value => Function switch
    {
        AggregateFunction.Sum => Sum,
        AggregateFunction.Count => Count,
        AggregateFunction.Min => Min,
        AggregateFunction.Max => Max,
        _ => Average,
    };
}

/// <summary>Counters of the aggregate protocol at one node.</summary>
public sealed class AggregateCounters
{
    /// <summary>Pushes sent (half of the mass to a random live member).</summary>
    public long PushesSent { get; internal set; }

    /// <summary>Replies (acknowledgements carrying our own cumulative flow back) sent.</summary>
    public long RepliesSent { get; internal set; }

    /// <summary>Unacknowledged flows sent again.</summary>
    public long Retransmissions { get; internal set; }

    /// <summary>Epochs this node started (as initiator or as backup).</summary>
    public long EpochsStarted { get; internal set; }

    /// <summary>Newer epochs adopted from peers.</summary>
    public long EpochsAdopted { get; internal set; }

    /// <summary>Aggregates joined because a peer's message named them.</summary>
    public long AutoJoins { get; internal set; }

    /// <summary>Aggregates that ended here: stopped, told it ended, or past their lifetime.</summary>
    public long Ended { get; internal set; }

    /// <summary>Messages dropped: the key was stopped here, AggregatesMax was reached, or the node is leaving.</summary>
    public long MessagesDropped { get; internal set; }

    /// <summary>Messages of an older epoch (answered with ours, not absorbed).</summary>
    public long StaleEpochMessages { get; internal set; }

    /// <summary>Messages older (by sequence) than one already absorbed from the same peer.</summary>
    public long StaleSequenceMessages { get; internal set; }
}
