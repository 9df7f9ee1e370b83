using Rumor.Core.FailureDetection;

namespace Rumor.Core;

/// <summary>
/// How this node judges itself before it judges others. Two guards:
/// <list type="bullet">
/// <item>Lifeguard's local health (<see cref="LocalHealth"/>): a score raised by failed probes that
/// the helpers' nacks do not explain and by refutations of suspicions about us, lowered by
/// successful probes; our probe interval and timeout are multiplied by score + 1.</item>
/// <item>The stall guard (Cassandra's local-pause guard, generalised): when this process itself
/// stalled (the shell reports a GC pause, thread-pool starvation or a late loop through
/// <see cref="OnLocalStall"/>, or the node sees its own timers fire more than StallThreshold late),
/// every probe that fails within StallGuard of the stall's end raises no accusation: its missing
/// ack is as likely sitting unread in our own receive queue. The failure is still counted and
/// still raises the health score.</item>
/// </list>
/// Invariant: neither guard ever makes the node accuse more; both only delay or withhold accusations.
/// </summary>
public sealed partial class GossipNode
{
    private readonly LocalHealth _health;
    private TimeSpan? _lastStallAt;

    /// <summary>Lifeguard local health score: 0 (healthy) to AwarenessMaxMultiplier − 1. Probe interval and timeout are multiplied by score + 1.</summary>
    public int LocalHealthScore => _health.Score;

    /// <summary>When this node last stalled (reported or self-detected), or null.</summary>
    public TimeSpan? LastStallAt => _lastStallAt;

    /// <summary>True while the stall guard withholds our accusations (a stall ended less than StallGuard ago).</summary>
    public bool IsStallGuardActive => StallGuardActive(_now);

    /// <summary>
    /// The shell noticed that this process stalled for <paramref name="stall"/> (timers fired late,
    /// a long garbage-collection pause, thread-pool starvation), ending about <paramref name="now"/>.
    /// For StallGuard after it, failed probes raise no suspicion (counted as suppressed).
    /// </summary>
    public void OnLocalStall(TimeSpan stall, string cause, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(cause);
        if (!Enter(now))
        {
            return;
        }

        RecordStall(stall, cause, now);
    }

    /// <summary>A timer firing more than StallThreshold after it was due means we were not running.</summary>
    private void DetectLateTimers(TimeSpan now)
    {
        TimeSpan threshold = _options.StallThreshold;
        TimeSpan due = IdleGossipRoundsFireLate ? NextWakeDue : _timerSet.NextDue;
        // A stall the shell reported at this same instant already explains the lateness: count it once.
        if (threshold > TimeSpan.Zero && due != TimeSpan.MaxValue && now - due > threshold && _lastStallAt != now)
        {
            RecordStall(now - due, "timers fired late", now);
        }
    }

    private void RecordStall(TimeSpan stall, string cause, TimeSpan now)
    {
        Counters.LocalStalls++;
        if (_lastStallAt is not { } last || now > last)
        {
            _lastStallAt = now;
        }

        Emit(new LocalStallDetected(now, stall, cause));
    }

    private bool StallGuardActive(TimeSpan now) =>
        _options.StallGuard > TimeSpan.Zero && _lastStallAt is { } at && now - at < _options.StallGuard;
}
