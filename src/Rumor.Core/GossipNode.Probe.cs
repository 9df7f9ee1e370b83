using Rumor.Core.Membership;
using Rumor.Core.Randomness;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core;

/// <summary>
/// SWIM failure detection. Each probe round picks the next member in a shuffled round-robin order
/// (every member is probed once per pass, so detection time is bounded, unlike uniform random
/// choice), sends a ping and waits <c>ProbeTimeout</c>; without an ack it asks k = IndirectChecks
/// other members to ping the target for it, and waits until the end of the probe interval; still
/// nothing, and the target becomes suspect. Helpers forward the target's ack, or a nack if it stays
/// silent (Lifeguard), so the prober learns whether its own path is the problem.
/// </summary>
public sealed partial class GossipNode
{
    private readonly Dictionary<uint, Relay> _relays = [];
    private ProbeState? _probe;
    private int _probeIndex;
    private uint _sequence;

    /// <summary>Round-trip time of the last successful direct probe (diagnostics).</summary>
    public TimeSpan LastProbeRoundTrip { get; private set; }

    private void ProbeRound(TimeSpan now)
    {
        _timers.Schedule(now + _options.ProbeInterval, TimerKind.ProbeRound);

        // The previous probe's deadline is due at this same instant; settle it before starting anew.
        if (_probe is { } previous)
        {
            ProbeDeadline(previous.Sequence, now);
        }

        if (_leaving)
        {
            return;
        }

        Member? target = NextProbeTarget(now);
        if (target is null)
        {
            return;
        }

        uint sequence = ++_sequence;
        _probe = new ProbeState(sequence, target, now);
        Counters.ProbesSent++;
        SendWithPiggyback(target.Address, new PingMessage(sequence, target.Name, _self.Name, _self.Address));
        _timers.Schedule(now + _options.ProbeTimeout, TimerKind.ProbeAckTimeout, sequence);
        _timers.Schedule(now + _options.ProbeInterval, TimerKind.ProbeDeadline, sequence);
    }

    /// <summary>The next member to probe in shuffled round-robin order; reshuffles (and reaps) when a pass ends.</summary>
    private Member? NextProbeTarget(TimeSpan now)
    {
        bool wrapped = false;
        for (int checkedCount = 0; checkedCount <= _members.Count; checkedCount++)
        {
            if (_probeIndex >= _members.Count)
            {
                if (wrapped)
                {
                    return null;
                }

                wrapped = true;
                ReapMembers(now);
                ShuffleMembers();
                _probeIndex = 0;
                if (_members.Count == 0)
                {
                    return null;
                }
            }

            Member candidate = _members[_probeIndex++];
            if (!candidate.IsLocal && candidate.IsActive)
            {
                return candidate;
            }
        }

        return null;
    }

    private void ShuffleMembers()
    {
        _random.Shuffle(_members);
        for (int i = 0; i < _members.Count; i++)
        {
            _members[i].ListIndex = i;
        }
    }

    private void ProbeAckTimeout(long sequence, TimeSpan now)
    {
        if (_probe is not { } probe || probe.Sequence != sequence || probe.Acked)
        {
            return;
        }

        // Ask k random active members (not us, not the target) to probe for us.
        int k = _options.IndirectChecks;
        Span<int> chosen = stackalloc int[Math.Max(1, k)];
        int count = SampleMembers(chosen, k, m => m.State == MemberState.Alive && !ReferenceEquals(m, probe.Target));
        IndirectPingMessage request = new((uint)sequence, probe.Target.Name, probe.Target.Address, WantNack: true);
        for (int i = 0; i < count; i++)
        {
            Counters.IndirectPingsSent++;
            SendWithPiggyback(_members[chosen[i]].Address, request);
        }

        probe.IndirectSent = count;
    }

    private void ProbeDeadline(long sequence, TimeSpan now)
    {
        if (_probe is not { } probe || probe.Sequence != sequence)
        {
            return;
        }

        _probe = null;
        if (probe.Acked)
        {
            return;
        }

        Counters.ProbesFailed++;
        Member target = probe.Target;
        if (!target.IsActive || _leaving)
        {
            return;
        }

        // Also when the target is already suspect: our failed probe is an independent confirmation
        // (Lifeguard), which shortens the suspicion; a repeat by the same accuser changes nothing.
        ApplySuspect(new SuspectMessage(target.Name, target.Incarnation, target.Generation, _self.Name), now);
    }

    private void HandlePing(NodeAddress from, in PingMessage ping)
    {
        // A ping for a member that used to live at our address is not ours to answer.
        if (ping.TargetName.Length != 0 && ping.TargetName != _self.Name)
        {
            return;
        }

        SendWithPiggyback(from, new AckMessage(ping.Sequence));
    }

    private void HandleIndirectPing(NodeAddress from, in IndirectPingMessage request, TimeSpan now)
    {
        // Bound: a flood of indirect-ping requests must not grow our relay table without limit.
        const int relaysMax = 1024;
        if (_relays.Count >= relaysMax)
        {
            Counters.RelaysDropped++;
            return;
        }

        uint sequence = ++_sequence;
        _relays[sequence] = new Relay(from, request.Sequence, request.WantNack);
        SendWithPiggyback(request.TargetAddress, new PingMessage(sequence, request.TargetName, _self.Name, _self.Address));
        _timers.Schedule(now + _options.ProbeTimeout, TimerKind.RelayTimeout, sequence);
    }

    private void HandleAck(in AckMessage ack, TimeSpan now)
    {
        if (_probe is { } probe && probe.Sequence == ack.Sequence)
        {
            if (!probe.Acked)
            {
                probe.Acked = true;
                if (probe.IndirectSent == 0)
                {
                    LastProbeRoundTrip = now - probe.StartedAt;
                }
            }

            return;
        }

        if (_relays.Remove(ack.Sequence, out Relay relay))
        {
            // Forward the target's ack to whoever asked us to probe it.
            SendWithPiggyback(relay.Requester, new AckMessage(relay.RequesterSequence));
            return;
        }

        Counters.StaleAcks++;
    }

    private void HandleNack(in NackMessage nack)
    {
        if (_probe is { } probe && probe.Sequence == nack.Sequence)
        {
            probe.Nacks++;
        }

        Counters.NacksReceived++;
    }

    private void RelayTimeout(long sequence)
    {
        if (_relays.Remove((uint)sequence, out Relay relay) && relay.WantNack)
        {
            SendWithPiggyback(relay.Requester, new NackMessage(relay.RequesterSequence));
        }
    }

    /// <summary>
    /// Picks up to <paramref name="count"/> distinct member indices satisfying <paramref name="filter"/>
    /// (never ourselves), by random draws with a bounded number of tries, as memberlist's
    /// kRandomNodes does: cheap for large tables, and deterministic under a seed.
    /// </summary>
    private int SampleMembers(Span<int> chosen, int count, Func<Member, bool> filter)
    {
        int found = 0;
        int n = _members.Count;
        if (n <= 1 || count <= 0)
        {
            return 0;
        }

        for (int tries = 0; tries < 3 * n && found < count; tries++)
        {
            int index = _random.NextInt(n);
            Member candidate = _members[index];
            if (candidate.IsLocal || !filter(candidate) || chosen[..found].Contains(index))
            {
                continue;
            }

            chosen[found++] = index;
        }

        return found;
    }

    private sealed class ProbeState(uint sequence, Member target, TimeSpan startedAt)
    {
        public uint Sequence { get; } = sequence;

        public Member Target { get; } = target;

        public TimeSpan StartedAt { get; } = startedAt;

        public bool Acked { get; set; }

        public int IndirectSent { get; set; }

        public int Nacks { get; set; }
    }

    private readonly record struct Relay(NodeAddress Requester, uint RequesterSequence, bool WantNack);
}
