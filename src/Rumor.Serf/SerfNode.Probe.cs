using System.Net;
using Rumor.Serf.Wire;

namespace Rumor.Serf;

// memberlist's probe (serf-wire.md 3.8): every ProbeInterval the next member in a shuffled round
// robin gets a ping; no ack within ProbeTimeout → IndirectChecks helpers ping it for us (and nack
// if they hear nothing); no ack by the end of the interval → suspect. This node also answers pings
// and helps others' indirect probes.
public sealed partial class SerfNode
{
    private readonly List<string> _probeOrder = [];
    private readonly Dictionary<uint, IndirectRelay> _relays = [];
    private int _probeIndex;
    private uint _probeSeq;
    private TimeSpan _nextProbeAt;
    private TimeSpan _nextGossipAt;
    private TimeSpan _nextPushPullAt;
    private ActiveProbe? _probe;

    private uint NextSeq() => ++_probeSeq;

    private void ProbeTick(TimeSpan now)
    {
        foreach ((uint seq, IndirectRelay relay) in _relays.Where(r => r.Value.Deadline <= now).ToList())
        {
            _relays.Remove(seq);
            if (relay.WantsNack)
            {
                SendTo(relay.ReplyTo, new NackMessage(relay.OriginalSeq).Encode());
            }
        }

        if (_probe is { } probe && !probe.Acked)
        {
            if (!probe.IndirectSent && now >= probe.StartedAt + _options.ProbeTimeout)
            {
                probe.IndirectSent = true;
                if (_peers.TryGetValue(probe.Target, out Peer? target))
                {
                    foreach (Peer helper in RandomPeers(_options.IndirectChecks, p => p.State == MemberlistState.Alive && p.Name != probe.Target))
                    {
                        IndirectPingMessage request = new(probe.Seq, target.Address.GetAddressBytes(), target.Port, target.Name, helper.ProtocolMax >= 4,
                            AdvertisedAddress.GetAddressBytes(), (ushort)EndPoint.Port, _self.Name);
                        SendTo(helper, request.Encode(), crc: false);
                    }
                }
            }

            if (now >= probe.StartedAt + _options.ProbeInterval)
            {
                _probe = null;
                // A failed probe of a member already suspect confirms the suspicion (memberlist's
                // probeNode calls suspectNode either way): a new confirmer is re-gossiped, and
                // independent confirmations shorten every holder's suspicion timeout (Lifeguard).
                if (_peers.TryGetValue(probe.Target, out Peer? target) && target.State is MemberlistState.Alive or MemberlistState.Suspect && !_leaving)
                {
                    Counters.ProbesFailed++;
                    HandleSuspect(new AccusationMessage(target.Incarnation, target.Name, _self.Name), now);
                }
            }
        }

        if (now < _nextProbeAt || _probe is { Acked: false })
        {
            return;
        }

        _nextProbeAt = now + _options.ProbeInterval;
        Peer? next = NextProbeTarget();
        if (next is null)
        {
            return;
        }

        uint seqNo = NextSeq();
        _probe = new ActiveProbe(next.Name, seqNo, now);
        byte[] ping = new PingMessage(seqNo, next.Name, AdvertisedAddress.GetAddressBytes(), (ushort)EndPoint.Port, _self.Name).Encode();
        if (next.State == MemberlistState.Suspect)
        {
            // A suspect member hears the accusation with the ping, so it can refute at once.
            byte[] suspect = new AccusationMessage(next.Incarnation, next.Name, _self.Name).Encode(MemberlistType.Suspect);
            SendTo(next, Packet.Compound([ping, suspect]), crc: true);
        }
        else
        {
            SendTo(next, ping, crc: false);
        }
    }

    private Peer? NextProbeTarget()
    {
        for (int attempts = 0; attempts < 2; attempts++)
        {
            while (_probeIndex < _probeOrder.Count)
            {
                string name = _probeOrder[_probeIndex++];
                if (_peers.TryGetValue(name, out Peer? peer) && peer != _self && peer.State is MemberlistState.Alive or MemberlistState.Suspect)
                {
                    return peer;
                }
            }

            _probeOrder.Clear();
            _probeOrder.AddRange(RandomPeers(int.MaxValue, p => p.State is MemberlistState.Alive or MemberlistState.Suspect).Select(p => p.Name));
            _probeIndex = 0;
        }

        return null;
    }

    private void HandlePing(PingMessage ping, IPEndPoint from)
    {
        if (ping.Node.Length > 0 && ping.Node != _self.Name)
        {
            return; // meant for a node that used to have this address
        }

        IPEndPoint replyTo = ToAddress(ping.SourceAddr) is { } address && ping.SourcePort != 0 ? new IPEndPoint(address, ping.SourcePort) : from;
        // Serf's ping delegate: every ack carries our coordinate, so the pinger can place us.
        SendTo(replyTo, new AckMessage(ping.SeqNo, CoordinatePayload.Encode(_vivaldi.Coordinate)).Encode());
    }

    private void HandleIndirectPing(IndirectPingMessage request, IPEndPoint from, TimeSpan now)
    {
        IPAddress? target = ToAddress(request.Target);
        if (target is null || request.Port == 0)
        {
            Counters.MalformedMessages++;
            return;
        }

        if (_relays.Count >= 1024)
        {
            return; // bounded: a flood of requests cannot grow the table
        }

        IPEndPoint replyTo = ToAddress(request.SourceAddr) is { } address && request.SourcePort != 0 ? new IPEndPoint(address, request.SourcePort) : from;
        uint seqNo = NextSeq();
        _relays[seqNo] = new IndirectRelay(replyTo, request.SeqNo, request.Nack, now + _options.ProbeTimeout);
        SendTo(new IPEndPoint(target, request.Port), new PingMessage(seqNo, request.Node, AdvertisedAddress.GetAddressBytes(), (ushort)EndPoint.Port, _self.Name).Encode());
    }

    private void HandleAck(AckMessage ack, TimeSpan now)
    {
        if (_probe is { } probe && probe.Seq == ack.SeqNo)
        {
            // memberlist tells the ping delegate only about a direct ack within the probe timeout;
            // acks relayed by indirect helpers carry no payload and say nothing about our path.
            if (!probe.Acked && !probe.IndirectSent && now - probe.StartedAt <= _options.ProbeTimeout)
            {
                ObserveRoundTrip(probe.Target, ack.Payload, now - probe.StartedAt);
            }

            probe.Acked = true;
            return;
        }

        if (_relays.Remove(ack.SeqNo, out IndirectRelay? relay))
        {
            SendTo(relay.ReplyTo, new AckMessage(relay.OriginalSeq, null).Encode());
        }
    }

    private void HandleNack(NackMessage nack)
    {
        if (_probe is { } probe && probe.Seq == nack.SeqNo)
        {
            probe.Nacks++;
        }
    }

    private sealed class ActiveProbe(string target, uint seq, TimeSpan startedAt)
    {
        public string Target { get; } = target;

        public uint Seq { get; } = seq;

        public TimeSpan StartedAt { get; } = startedAt;

        public bool Acked { get; set; }

        public bool IndirectSent { get; set; }

        public int Nacks { get; set; }
    }

    private sealed record IndirectRelay(IPEndPoint ReplyTo, uint OriginalSeq, bool WantsNack, TimeSpan Deadline);
}
