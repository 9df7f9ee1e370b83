using Rumor.Core.Membership;

namespace Rumor.Core;

/// <summary>
/// Rumor mongering (push): every GossipInterval, send queued broadcasts to GossipFanout random
/// members. Targets are alive or suspect members, plus members dead for less than
/// GossipToTheDeadTime, so that a wrongly accused member hears the accusation and refutes it.
/// Nothing is sent when the queue is empty: an idle cluster costs only probes and push-pulls.
/// </summary>
public sealed partial class GossipNode
{
    private void GossipRound(TimeSpan now, bool reschedule = true)
    {
        if (reschedule)
        {
            _timers.Schedule(now + _options.GossipInterval, new KernelTimer(KernelTimerKind.GossipRound));
        }

        if (_broadcasts.Count == 0)
        {
            return;
        }

        int fanout = _options.GossipFanout;
        Span<int> chosen = stackalloc int[fanout];
        _gossipTargetNow = now;
        Func<Member, bool> filter = _gossipTargetFilter ??= m => IsGossipTarget(m, _gossipTargetNow);
        int count = _options.ProximityGossip
            ? SampleNearMembers(chosen, fanout, filter)
            : SampleMembers(chosen, fanout, filter);
        int limit = RetransmitLimit;
        for (int i = 0; i < count && _broadcasts.Count > 0; i++)
        {
            // Nothing for this member (what waits was learned from it): the next may still get some.
            NodeAddress to = _members[chosen[i]].Address;
            if (_broadcasts.Fill(StartBuilding(), limit, to) > 0)
            {
                SendBuilt(to);
            }
            else
            {
                ReleaseBuilder();
            }
        }
    }

    private bool _pushRoundScheduled;

    /// <summary>
    /// Asks for one extra gossip round (GossipFanout packets of whatever broadcasts wait) as soon as
    /// the current input is handled, instead of the next scheduled round: a timer due now, so all
    /// that one input queued (every new event of a compound packet) goes out in that one round, and
    /// a burst of requests within one input costs one round. The scheduled rounds are unchanged;
    /// the broadcasts' retransmit limits still bound how often each is sent.
    /// </summary>
    internal void RequestPushRound(TimeSpan now)
    {
        if (!_pushRoundScheduled)
        {
            _pushRoundScheduled = true;
            _timers.Schedule(now, new KernelTimer(KernelTimerKind.PushRound));
        }
    }

    private TimeSpan _lastMemberPush = TimeSpan.MinValue;
    private bool _memberPushScheduled;

    /// <summary>
    /// A member this node learned of for the first time, or saw come back (<see cref="GossipOptions.MemberImmediatePush"/>):
    /// one extra gossip round now, or, when the last such round was less than a quarter of
    /// GossipInterval ago, one at that quarter's end. So in a mass join, where nearly every packet
    /// brings a new member, a node adds at most four rounds per GossipInterval to its own.
    /// </summary>
    private void RequestMemberPush(TimeSpan now)
    {
        if (!_options.MemberImmediatePush || _memberPushScheduled)
        {
            return;
        }

        TimeSpan spacing = _options.GossipInterval / 4;
        if (_lastMemberPush == TimeSpan.MinValue || now - _lastMemberPush >= spacing)
        {
            _lastMemberPush = now;
            Counters.MemberPushes++;
            RequestPushRound(now);
            return;
        }

        _memberPushScheduled = true;
        _timers.Schedule(_lastMemberPush + spacing, new KernelTimer(KernelTimerKind.MemberPushRound));
    }

    private void MemberPushRound(TimeSpan now)
    {
        _memberPushScheduled = false;
        _lastMemberPush = now;
        Counters.MemberPushes++;
        GossipRound(now, reschedule: false);
    }

    private bool IsGossipTarget(Member member, TimeSpan now) => member.State switch
    {
        MemberState.Alive or MemberState.Suspect => true,
        MemberState.Dead => now - member.StateChangedAt <= _options.GossipToTheDeadTime,
        _ => false,
    };
}
