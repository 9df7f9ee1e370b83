using Rumor.Serf.Wire;

namespace Rumor.Serf;

// The timer loop (issue 14). memberlist runs a ticker per duty (probe, gossip, push/pull) and Serf
// one for the reaper; a 20 ms polling loop did all of them here and woke 50 times a second, peers
// or not. Instead the loop sleeps until the earliest deadline that has work behind it:
//   - the next probe, while there is a member to probe; a probe in flight's indirect-probe time
//     (ProbeTimeout) and its end (ProbeInterval); the deadlines of indirect pings relayed for others;
//   - each suspect's suspicion deadline (Lifeguard: confirmations move it earlier);
//   - the next gossip round, while a broadcast waits and someone can be gossiped to (so a leave's
//     wait for its broadcasts is served by the gossip deadline);
//   - the next push/pull, while a member is alive; the next reaper pass, while one is failed or left.
// A duty with nothing behind it is left out ("idle"), as the Rumor kernel's NextWakeDue leaves out
// gossip with no broadcast: a lone node with no peers sleeps until an input arrives. Every input
// (packet, stream, API call, join, leave) runs through RunInput, which recomputes the wake-up after
// it and signals the loop only when the input moved it earlier (a new member to probe, a new
// broadcast, a suspicion). Before an input, an idle duty whose time passed while it slept is moved
// on by whole intervals, in phase: the polling loop moved it on at each passing tick, so a duty
// that becomes busy again runs when it would have run then, not at once.
public sealed partial class SerfNode
{
    // .NET timers wait at most int.MaxValue ms; a longer sleep is cut into pieces this long.
    private static readonly TimeSpan LongestSleep = TimeSpan.FromHours(1);

    private readonly SemaphoreSlim _wake = new(0, 1);

    // When the timer loop will wake next (under the lock; MaxValue: not before an input).
    private TimeSpan _armedWakeAt = TimeSpan.MaxValue;

    // Which periodic duties were left out of the last wake-up computation.
    private bool _probeIdle;
    private bool _gossipIdle;
    private bool _pushPullIdle;
    private bool _reapIdle;

    private async Task TickLoopAsync()
    {
        TimeSpan wakeAt = TimeSpan.Zero;
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                TimeSpan wait = wakeAt == TimeSpan.MaxValue ? LongestSleep : wakeAt - Now;
                if (wait > TimeSpan.Zero)
                {
                    // Rounded up to whole milliseconds (the timers' resolution): waking just before
                    // the deadline would only cost a second wake-up.
                    TimeSpan rounded = TimeSpan.FromMilliseconds(Math.Ceiling(Math.Min(wait.TotalMilliseconds, LongestSleep.TotalMilliseconds)));
                    await _wake.WaitAsync(rounded, _stopping.Token);
                }

                Counters.TimerWakeups++;
                wakeAt = RunInput(Tick, tick: true);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // Under the lock, after an input: the loop's next wake-up. After the loop's own tick it is
    // simply armed; after any other input the loop is signalled if the input moved it earlier (a
    // signal that arrives while the loop runs a tick costs one spare pass, which finds nothing due).
    private TimeSpan ArmWake(TimeSpan now, bool tick)
    {
        TimeSpan next = NextWakeAt(now);
        if (tick)
        {
            _armedWakeAt = next;
        }
        else if (next < _armedWakeAt)
        {
            _armedWakeAt = next;
            if (_wake.CurrentCount == 0)
            {
                _wake.Release(); // under the lock, so two inputs cannot both release
            }
        }

        return next;
    }

    // The earliest deadline with work behind it; records which periodic duties were left out.
    private TimeSpan NextWakeAt(TimeSpan now)
    {
        bool anyAlive = false;
        bool anyLive = false;
        bool anyRecentlyDead = false;
        bool anyGone = false;
        TimeSpan next = TimeSpan.MaxValue;
        foreach (Peer peer in _peers.Values)
        {
            if (peer == _self)
            {
                continue;
            }

            switch (peer.State)
            {
                case MemberlistState.Alive:
                    anyAlive = anyLive = true;
                    break;
                case MemberlistState.Suspect:
                    anyLive = true;
                    if (peer.Suspicion is { } suspicion)
                    {
                        next = Min(next, suspicion.Deadline);
                    }

                    break;
                default:
                    // Gossip also goes to the recently dead (GossipToTheDeadTime); that only expires.
                    anyRecentlyDead |= now - peer.StateChangedAt < _options.GossipToTheDeadTime;
                    break;
            }

            anyGone |= peer.Status is SerfMemberStatus.Failed or SerfMemberStatus.Left;
        }

        foreach (IndirectRelay relay in _relays.Values)
        {
            next = Min(next, relay.Deadline);
        }

        bool probing = _probe is { Acked: false };
        if (_probe is { Acked: false } probe)
        {
            next = Min(next, probe.StartedAt + _options.ProbeInterval);
            if (!probe.IndirectSent)
            {
                next = Min(next, probe.StartedAt + _options.ProbeTimeout);
            }
        }

        _probeIdle = !anyLive && !probing;
        _gossipIdle = _broadcasts.Count == 0 || !(anyLive || anyRecentlyDead);
        _pushPullIdle = !anyAlive;
        _reapIdle = !anyGone;
        next = _probeIdle ? next : Min(next, _nextProbeAt);
        next = _gossipIdle ? next : Min(next, _nextGossipAt);
        next = _pushPullIdle ? next : Min(next, _nextPushPullAt);
        next = _reapIdle ? next : Min(next, _nextReapAt);
        return next;
    }

    // Under the lock, before an input: an idle duty whose time passed is moved on in phase.
    private void CatchUpIdleSchedules(TimeSpan now)
    {
        if (_probeIdle)
        {
            _nextProbeAt = InPhase(_nextProbeAt, _options.ProbeInterval, now);
        }

        if (_gossipIdle)
        {
            _nextGossipAt = InPhase(_nextGossipAt, _options.GossipInterval, now);
        }

        if (_pushPullIdle)
        {
            // Idle means no live member, so the push/pull scale (1 up to 32 members) is 1.
            _nextPushPullAt = InPhase(_nextPushPullAt, _options.PushPullInterval, now);
        }

        if (_reapIdle)
        {
            _nextReapAt = InPhase(_nextReapAt, _options.ReapInterval, now);
        }
    }

    // The first of due, due + interval, due + 2 × interval, ... that is later than now.
    private static TimeSpan InPhase(TimeSpan due, TimeSpan interval, TimeSpan now)
    {
        if (due > now)
        {
            return due;
        }

        if (interval <= TimeSpan.Zero)
        {
            return now;
        }

        long periods = ((now - due).Ticks / interval.Ticks) + 1;
        return due + TimeSpan.FromTicks(interval.Ticks * periods);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
