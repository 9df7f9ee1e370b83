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
        int count = _options.ProximityGossip
            ? SampleNearMembers(chosen, fanout, m => IsGossipTarget(m, now))
            : SampleMembers(chosen, fanout, m => IsGossipTarget(m, now));
        int limit = RetransmitLimit;
        for (int i = 0; i < count && _broadcasts.Count > 0; i++)
        {
            _builder.Reset(PlainPacketBudget);
            if (_broadcasts.Fill(_builder, limit) == 0)
            {
                break;
            }

            SendPacket(_members[chosen[i]].Address, _builder.Finish());
        }
    }

    private bool IsGossipTarget(Member member, TimeSpan now) => member.State switch
    {
        MemberState.Alive or MemberState.Suspect => true,
        MemberState.Dead => now - member.StateChangedAt <= _options.GossipToTheDeadTime,
        _ => false,
    };
}
