using Rumor.Serf.Wire;

namespace Rumor.Serf;

// Immediate push of news. SerfNodeOptions.EventImmediatePush (the Serf dialect's twin of the Rumor
// dialect's EventImmediatePush): a user event or query sent here, or received here for the first
// time (the ones Serf re-broadcasts), does not wait up to GossipInterval for the next gossip round.
// SerfNodeOptions.MemberImmediatePush: neither does this node's own alive and join intent at the end
// of its join, nor the alive of a member new to this node. Right after the input that queued it
// (still under the lock) one extra gossip round goes to GossipNodes random live members: ordinary
// compound packets of the waiting broadcasts, taken from the same queue, so every send counts
// against each broadcast's retransmit limit as a scheduled round's would. On the wire nothing is
// new: a real Serf agent receives the same messages, only sooner, and deduplicates them (Lamport
// times, incarnations) as always. One round per input, however much news it carried.
public sealed partial class SerfNode
{
    private bool _immediatePushWanted;
    private bool _memberPushWanted;

    // Called under the lock when an input queued a new user event or query for re-broadcast.
    private void RequestImmediatePush()
    {
        if (_options.EventImmediatePush)
        {
            _immediatePushWanted = true;
        }
    }

    // Called under the lock when an input brought a member new to this node, or ended its join.
    private void RequestMemberPush()
    {
        if (_options.MemberImmediatePush)
        {
            _memberPushWanted = true;
        }
    }

    // Under the lock, after the input that requested it (Run). Live members only (alive or
    // suspect): a scheduled round may also reach the recently dead, an immediate one has no reason to.
    private void ImmediatePush(bool forEvent)
    {
        List<Peer> targets = RandomPeers(_options.GossipNodes, p => p.State is MemberlistState.Alive or MemberlistState.Suspect);
        if (targets.Count == 0)
        {
            return;
        }

        if (forEvent)
        {
            Counters.ImmediatePushes++;
        }
        else
        {
            Counters.MemberPushes++;
        }

        GossipTo(targets);
    }
}
