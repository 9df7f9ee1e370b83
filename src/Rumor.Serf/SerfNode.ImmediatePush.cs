using Rumor.Serf.Wire;

namespace Rumor.Serf;

// Immediate push of new user events and queries (SerfNodeOptions.EventImmediatePush), the Serf
// dialect's twin of the Rumor dialect's EventImmediatePush: a user event or query sent here, or
// received here for the first time (the ones Serf re-broadcasts), does not wait up to
// GossipInterval for the next gossip round. Right after the input that queued it (still under the
// lock) one extra gossip round goes to GossipNodes random live members: ordinary compound packets
// of the waiting broadcasts, taken from the same queue, so every send counts against each
// broadcast's retransmit limit as a scheduled round's would. On the wire nothing is new: a real
// Serf agent receives the same messages, only sooner, and deduplicates them by Lamport time as
// always. One round per input, however many new events it carried.
public sealed partial class SerfNode
{
    private bool _immediatePushWanted;

    // Called under the lock when an input queued a new user event or query for re-broadcast.
    private void RequestImmediatePush()
    {
        if (_options.EventImmediatePush)
        {
            _immediatePushWanted = true;
        }
    }

    // Under the lock, after the input that requested it (Run). Live members only (alive or
    // suspect): a scheduled round may also reach the recently dead, an immediate one has no reason to.
    private void ImmediatePush()
    {
        List<Peer> targets = RandomPeers(_options.GossipNodes, p => p.State is MemberlistState.Alive or MemberlistState.Suspect);
        if (targets.Count == 0)
        {
            return;
        }

        Counters.ImmediatePushes++;
        GossipTo(targets);
    }
}
