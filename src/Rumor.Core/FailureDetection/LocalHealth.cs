namespace Rumor.Core.FailureDetection;

/// <summary>
/// Lifeguard's local health multiplier (Dadgar et al., 2018; memberlist's awareness.go): a
/// saturating score in [0, max − 1] that measures how much this node should distrust its own
/// view. It rises when our probes fail without the helpers' nacks that a healthy network would
/// have brought back (so the fault is more likely on our side), and when we must refute a
/// suspicion about ourselves (others could not hear us); it falls by one with every successful
/// probe. The node multiplies its probe interval and probe timeout by <c>score + 1</c>, so a slow
/// or overloaded node probes less often and waits longer before it accuses anyone.
/// Invariant: 0 ≤ <see cref="Score"/> &lt; max; with max = 1 the score stays 0 (the feature is off).
/// </summary>
internal sealed class LocalHealth(int max)
{
    /// <summary>The current score, 0 (healthy) to max − 1.</summary>
    public int Score { get; private set; }

    /// <summary>The saturation bound (the score never reaches it).</summary>
    public int Max => max;

    /// <summary>Adds <paramref name="delta"/> (positive: worse) and clamps; returns the change actually applied.</summary>
    public int ApplyDelta(int delta)
    {
        int before = Score;
        Score = Math.Clamp(before + delta, 0, max - 1);
        return Score - before;
    }

    /// <summary><paramref name="timeout"/> × (score + 1).</summary>
    public TimeSpan Scale(TimeSpan timeout) => timeout * (Score + 1);
}
