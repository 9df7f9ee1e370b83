using System.Net;
using Rumor.Core.FailureDetection;
using Rumor.Serf.Wire;

namespace Rumor.Serf;

// memberlist's state rules (serf-wire.md 3.9): alive / suspect / dead with incarnations, refutation,
// Lifeguard suspicion; and Serf's member status derived from them (4.4).
public sealed partial class SerfNode
{
    private long _suspicionTokens;

    private static IPAddress? ToAddress(byte[]? bytes) => bytes is { Length: 4 or 16 } ? new IPAddress(bytes) : null;

    private static string? Key(string node) => "ml:" + node;

    private void HandleAlive(NodeRecord alive, TimeSpan now)
    {
        if (alive.Vsn is { Length: >= 3 } v && (v[0] == 0 || v[1] == 0 || v[0] > v[1]))
        {
            return;
        }

        IPAddress? address = ToAddress(alive.Addr);
        if (address is null || alive.Name.Length == 0)
        {
            Counters.MalformedMessages++;
            return;
        }

        if (alive.Name == _self.Name)
        {
            bool same = alive.Incarnation == _self.Incarnation && (alive.Meta ?? []).AsSpan().SequenceEqual(_self.Meta) && (alive.Vsn ?? []).AsSpan().SequenceEqual(_self.Vsn);
            if (alive.Incarnation < _self.Incarnation || same)
            {
                return;
            }

            Refute(alive.Incarnation);
            return;
        }

        bool isNew = !_peers.TryGetValue(alive.Name, out Peer? peer);
        if (peer is null)
        {
            if (_peers.Count >= _options.MembersMax)
            {
                Counters.MembersRefused++;
                return;
            }

            peer = new Peer(alive.Name, address, alive.Port);
            _peers[alive.Name] = peer;
        }
        else if (!peer.Address.Equals(address) || peer.Port != alive.Port)
        {
            // A name on a new address: memberlist refuses it unless the old one left.
            if (peer.State != MemberlistState.Left)
            {
                return;
            }

            peer.Address = address;
            peer.Port = alive.Port;
        }

        if (!isNew && alive.Incarnation <= peer.Incarnation)
        {
            return;
        }

        peer.Suspicion = null;
        _broadcasts.Enqueue(Key(peer.Name), alive.EncodeAlive());
        if (isNew)
        {
            RequestMemberPush();
        }

        bool wasAlive = peer.State is MemberlistState.Alive or MemberlistState.Suspect;
        bool metaChanged = !(peer.Meta ?? []).AsSpan().SequenceEqual(alive.Meta ?? []);
        peer.Incarnation = alive.Incarnation;
        peer.Meta = alive.Meta;
        peer.Vsn = alive.Vsn is { Length: 6 } ? alive.Vsn : peer.Vsn;
        if (peer.State != MemberlistState.Alive)
        {
            peer.State = MemberlistState.Alive;
            peer.StateChangedAt = now;
        }

        if (metaChanged || isNew)
        {
            peer.Tags = SerfTags.TryDecode(alive.Meta ?? [], out Dictionary<string, string> tags) ? tags : new Dictionary<string, string>(StringComparer.Ordinal);
        }

        if (!wasAlive)
        {
            SerfJoined(peer);
        }
        else if (metaChanged)
        {
            RaiseMemberEvent(SerfMemberEventKind.Update, peer);
        }
    }

    private void Refute(uint accused)
    {
        uint incarnation = Math.Max(_self.Incarnation + 1, accused + 1);
        _self.Incarnation = incarnation;
        _broadcasts.Enqueue(Key(_self.Name), _self.ToRecord().EncodeAlive());
        Counters.Refutations++;
    }

    private void HandleSuspect(AccusationMessage suspect, TimeSpan now)
    {
        if (!_peers.TryGetValue(suspect.Node, out Peer? peer) || suspect.Incarnation < peer.Incarnation)
        {
            return;
        }

        if (peer.Suspicion is { } existing && peer.State == MemberlistState.Suspect)
        {
            if (existing.Confirm(suspect.From))
            {
                _broadcasts.Enqueue(Key(peer.Name), suspect.Encode(MemberlistType.Suspect));
            }

            return;
        }

        if (peer.State != MemberlistState.Alive)
        {
            return;
        }

        if (peer == _self)
        {
            if (!_leaving)
            {
                Refute(suspect.Incarnation);
            }

            return;
        }

        _broadcasts.Enqueue(Key(peer.Name), suspect.Encode(MemberlistType.Suspect));
        peer.Incarnation = suspect.Incarnation;
        peer.State = MemberlistState.Suspect;
        peer.StateChangedAt = now;
        int n = _peers.Values.Count(p => p.State is MemberlistState.Alive or MemberlistState.Suspect);
        int k = _options.SuspicionMult - 2;
        if (n - 2 < k)
        {
            k = 0;
        }

        TimeSpan min = Suspicion.MinTimeout(_options.SuspicionMult, n, _options.ProbeInterval);
        TimeSpan max = min * _options.SuspicionMaxTimeoutMult;
        peer.Suspicion = new Suspicion(suspect.From, suspect.Incarnation, 0, k, min, max, now, ++_suspicionTokens);
    }

    private void SuspicionTick(TimeSpan now)
    {
        foreach (Peer peer in _peers.Values.Where(p => p.State == MemberlistState.Suspect && p.Suspicion is { } s && s.Deadline <= now).ToList())
        {
            AccusationMessage dead = new(peer.Incarnation, peer.Name, _self.Name);
            HandleDead(dead, now);
        }
    }

    private void HandleDead(AccusationMessage dead, TimeSpan now)
    {
        if (!_peers.TryGetValue(dead.Node, out Peer? peer) || dead.Incarnation < peer.Incarnation
            || peer.State is MemberlistState.Dead or MemberlistState.Left)
        {
            return;
        }

        if (peer == _self && !_leaving)
        {
            Refute(dead.Incarnation);
            return;
        }

        _broadcasts.Enqueue(Key(peer.Name), dead.Encode(MemberlistType.Dead), peer == _self ? _leaveBroadcast : null);
        peer.Incarnation = dead.Incarnation;
        peer.Suspicion = null;
        peer.State = dead.From == dead.Node ? MemberlistState.Left : MemberlistState.Dead;
        peer.StateChangedAt = now;
        if (peer != _self)
        {
            SerfLeftOrFailed(peer);
        }
    }
}
