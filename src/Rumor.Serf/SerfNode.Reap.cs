namespace Rumor.Serf;

// Serf's reaper (serf.go handleReap / reap): every ReapInterval, a member failed for longer than
// ReconnectTimeout, or left for longer than TombstoneTimeout, is forgotten (its record and cached
// coordinate removed) and a member-reap event raised. The clock of each member is the time its
// Serf status became failed or left (Serf's leaveTime); a failed member that is then said to have
// left keeps its failure time, as in Serf. A reaped member that comes back is a new member (its
// alive gossip is taken as a join).
public sealed partial class SerfNode
{
    private TimeSpan _nextReapAt;

    private void ReapTick(TimeSpan now)
    {
        if (now < _nextReapAt)
        {
            return;
        }

        _nextReapAt = now + _options.ReapInterval;
        List<Peer>? reaped = null;
        foreach (Peer peer in _peers.Values)
        {
            TimeSpan? timeout = peer.Status switch
            {
                SerfMemberStatus.Failed => _options.ReconnectTimeout,
                SerfMemberStatus.Left => _options.TombstoneTimeout,
                _ => null,
            };

            // Serf reaps only when the timeout is passed (now − leaveTime > timeout).
            if (peer != _self && timeout is { } t && peer.LeftOrFailedAt is { } since && now - since > t)
            {
                (reaped ??= []).Add(peer);
            }
        }

        foreach (Peer peer in reaped ?? [])
        {
            _peers.Remove(peer.Name);
            _coordinates.Remove(peer.Name);
            _vivaldi.Forget(peer.Name);
            Counters.MembersReaped++;
            RaiseMemberEvent(SerfMemberEventKind.Reap, peer);
        }
    }
}
