using Rumor.Core.Dissemination;
using Rumor.Core.FailureDetection;
using Rumor.Core.Membership;
using Rumor.Core.Modules;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core;

/// <summary>
/// Membership state transitions (SWIM §4.2 with memberlist's rules). News about a member is ordered
/// by (generation, incarnation):
/// <list type="bullet">
/// <item>alive(i) overrides alive(j) for i &gt; j, and suspect(j) or dead(j) for i &gt; j;</item>
/// <item>suspect(i) overrides alive(j) for i ≥ j; dead(i) overrides alive and suspect for i ≥ j;</item>
/// <item>a member accused about itself refutes with incarnation max(i, own) + 1;</item>
/// <item>a newer generation (a restarted process) overrides anything about an older one: its alive,
/// and also its dead or leave, which we may hear before (or instead of) its alive; a dead or leave
/// about ourselves at a newer generation is a name conflict and ignored.</item>
/// </list>
/// Invariant: a member's (generation, incarnation) in our table never decreases; every accepted
/// change is re-broadcast (rumor mongering) and reported as a <see cref="MemberChanged"/> event.
/// </summary>
public sealed partial class GossipNode
{
    private TimeSpan _startedAt;

    /// <summary>The largest generation this node accepts now (see <see cref="NewsBounds"/>).</summary>
    internal ulong GenerationHorizon => NewsBounds.GenerationHorizon(_self.Generation, _now - _startedAt, _options.GenerationSkewMax);

    /// <summary>True (and counted) when news about <paramref name="member"/> outranks too far (see <see cref="NewsBounds"/>).</summary>
    private bool OutOfBounds(Member? member, ulong generation, uint incarnation)
    {
        bool refused = NewsBounds.Exceeded(member, generation, incarnation, GenerationHorizon, _options.IncarnationJumpMax);
        Counters.OutOfBoundsRefused += refused ? 1 : 0;
        return refused;
    }

    private AliveMessage SelfAlive() =>
        new(_self.Name, _self.Address, _self.Incarnation, _self.Generation, _self.Versions, _self.Metadata);

    /// <summary>Replaces our metadata and announces it with a new incarnation.</summary>
    public void UpdateMetadata(byte[] metadata, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (metadata.Length > _options.MetadataMaxBytes)
        {
            throw new ArgumentException($"Metadata is {metadata.Length} bytes; MetadataMaxBytes allows {_options.MetadataMaxBytes}.", nameof(metadata));
        }

        if (!Enter(now))
        {
            return;
        }

        _self.Metadata = metadata.ToArray();
        ViewLeaving(_self);
        _self.Incarnation++;
        ViewEntering(_self);
        Emit(new LocalIncarnationChanged(now, _self.Incarnation));
        QueueBroadcast(_self.Name, PacketBuilder.EncodeMessage(SelfAlive()));
    }

    private void AddMember(Member member)
    {
        int position = _members.Count;
        if (position == _members.Capacity)
        {
            _members.Capacity = ArrayGrowth.Next(position);
        }

        _members.Add(member);
        _byName.Add(position);
        ViewEntering(member);
        if (member.IsActive)
        {
            ActiveMemberCount++;
        }

        // New members go to a random place in the probe order (memberlist does the same), so that a
        // burst of joins does not all get probed last.
        if (_members.Count > 1 && _started)
        {
            SwapMembers(position, _random.NextInt(_members.Count));
        }
    }

    private void RemoveMember(Member member)
    {
        int index = _byName.PositionOf(member.Name);
        int last = _members.Count - 1;
        SwapMembers(index, last);
        _byName.Remove(member, last);
        _members.RemoveAt(last);
        ViewLeaving(member);
        _probeHistories.Release(ref member.Probes);
        if (member.IsActive)
        {
            ActiveMemberCount--;
        }
    }

    private void SwapMembers(int i, int j)
    {
        if (i == j)
        {
            return;
        }

        (_members[i], _members[j]) = (_members[j], _members[i]);
        _byName.Swapped(_members[i], i, _members[j], j);
    }

    private void SetState(Member member, MemberState state, TimeSpan now)
    {
        bool wasActive = member.IsActive;
        ViewLeaving(member);
        member.State = state;
        ViewEntering(member);
        member.StateChangedAt = now;
        if (wasActive != member.IsActive)
        {
            ActiveMemberCount += member.IsActive ? 1 : -1;
        }

        if (state != MemberState.Suspect)
        {
            member.Suspicion = null;
        }
    }

    private void ApplyAlive(in AliveMessage alive, TimeSpan now)
    {
        Member? member = _byName.Find(alive.Name);
        if (OutOfBounds(member, alive.Generation, alive.Incarnation))
        {
            return;
        }

        if (alive.Name == _self.Name)
        {
            ApplyAliveAboutSelf(alive, now);
            return;
        }

        if (alive.Meta.Length > _options.MetadataMaxBytes)
        {
            Counters.CountDecodeError(DecodeError.Malformed);
            return;
        }

        if (member is null)
        {
            if (_members.Count >= _options.MembersMax)
            {
                Counters.MembersDropped++;
                return;
            }

            // Its leave may have reached us before its alive (RecentDepartures): then it is new to
            // us as a departed member, and we pass the leave on to whoever the alive reaches.
            bool departed = _departures.TryTakeCovering(alive.Name, alive.Generation, alive.Incarnation, now, out RecentDepartures.Departure departure);
            member = new Member(_names.InternMember(alive.Name, departed ? departure.Generation : alive.Generation, alive.Address), isLocal: false)
            {
                Incarnation = departed ? departure.Incarnation : alive.Incarnation,
                Versions = alive.Versions,
                Metadata = alive.Meta,
                State = departed ? MemberState.Left : MemberState.Alive,
                StateChangedAt = now,
            };
            AddMember(member);
            if (departed)
            {
                QueueBroadcast(member.Name, PacketBuilder.EncodeMessage(new DeadMessage(member.Name, member.Incarnation, member.Generation, member.Name), _names), priority: BroadcastClass.Departure);
                Emit(new MemberChanged(now, MemberChangeKind.Left, _names.SnapshotOf(member), null));
            }
            else
            {
                QueueBroadcast(member.Name, PacketBuilder.EncodeMessage(alive, _names));
                Emit(new MemberChanged(now, MemberChangeKind.Joined, _names.SnapshotOf(member), null));
                RequestMemberPush(now);
            }

            // A member reaped and back as a newer generation: modules may still hold its older one.
            foreach (GossipModule module in _modules.All)
            {
                module.OnMemberRestarted(member, now);
            }

            return;
        }

        int order = member.CompareVersion(alive.Generation, alive.Incarnation);
        if (order < 0 || (order == 0 && member.State != MemberState.Alive))
        {
            // Old news, or a repeat of the incarnation that was accused: only a higher one refutes.
            return;
        }

        if (order == 0 && member.Address == alive.Address && member.Metadata.AsSpan().SequenceEqual(alive.Meta))
        {
            return; // Nothing new.
        }

        if (member.Address != alive.Address && member.IsActive && alive.Generation == member.Generation)
        {
            // The same process cannot be at two addresses: someone else claims the name.
            Emit(new NameConflict(now, member.Name, member.Address, alive.Address));
            return;
        }

        MemberState previous = member.State;
        bool restarted = alive.Generation > member.Generation;
        ViewLeaving(member);
        if (restarted || member.Address != alive.Address)
        {
            member.Identity = _names.InternMember(member.Name, alive.Generation, alive.Address);
        }

        member.Incarnation = alive.Incarnation;
        ViewEntering(member);
        member.Versions = alive.Versions;
        member.Metadata = alive.Meta;
        SetState(member, MemberState.Alive, now);
        QueueBroadcast(member.Name, PacketBuilder.EncodeMessage(alive, _names));
        MemberChangeKind kind = previous switch
        {
            MemberState.Alive => MemberChangeKind.Updated,
            MemberState.Suspect => MemberChangeKind.Recovered,
            _ => MemberChangeKind.Joined,
        };
        Emit(new MemberChanged(now, kind, _names.SnapshotOf(member), previous));
        if (kind == MemberChangeKind.Joined)
        {
            RequestMemberPush(now);
        }

        if (restarted)
        {
            foreach (GossipModule module in _modules.All)
            {
                module.OnMemberRestarted(member, now);
            }
        }
    }

    private void ApplyAliveAboutSelf(in AliveMessage alive, TimeSpan now)
    {
        if (_leaving)
        {
            return;
        }

        int order = _self.CompareVersion(alive.Generation, alive.Incarnation);
        if (order < 0 || (order == 0 && alive.Address == _self.Address && alive.Meta.AsSpan().SequenceEqual(_self.Metadata)))
        {
            return; // Our own news coming back, or older.
        }

        if (alive.Generation > _self.Generation)
        {
            // A newer process claims our name: we cannot out-vote it with incarnations.
            Emit(new NameConflict(now, _self.Name, _self.Address, alive.Address));
            return;
        }

        // Someone holds a different or newer picture of us at our generation: restate ourselves.
        Refute(alive.Incarnation);
    }

    private void Refute(uint accusedIncarnation)
    {
        ViewLeaving(_self);
        _self.Incarnation = Math.Max(_self.Incarnation, accusedIncarnation) + 1;
        ViewEntering(_self);
        Counters.Refutations++;

        // Lifeguard: others could not hear us in time, which says as much about us as about them.
        _health.ApplyDelta(1);

        // Reported before anything can carry the new incarnation, so a shell persists it first.
        Emit(new LocalIncarnationChanged(_now, _self.Incarnation));
        QueueBroadcast(_self.Name, PacketBuilder.EncodeMessage(SelfAlive()));
    }

    private void ApplySuspect(in SuspectMessage suspect, TimeSpan now, VerdictSource source = VerdictSource.Gossip)
    {
        Member? member = _byName.Find(suspect.Name);
        if (member is null || OutOfBounds(member, suspect.Generation, suspect.Incarnation))
        {
            return;
        }

        int order = member.CompareVersion(suspect.Generation, suspect.Incarnation);
        if (order < 0 || suspect.Generation != member.Generation)
        {
            // Old news, or about a process generation we do not hold.
            if (source == VerdictSource.Gossip)
            {
                AnswerStaleAccusation(member, suspect.Generation);
            }

            return;
        }

        if (member.IsLocal)
        {
            if (!_leaving)
            {
                Refute(suspect.Incarnation);
            }

            return;
        }

        if (member.State == MemberState.Suspect)
        {
            // Another independent accuser confirms the suspicion (Lifeguard): the deadline shrinks.
            if (member.Suspicion is { } suspicion && suspect.Incarnation == suspicion.Incarnation && suspicion.Confirm(suspect.From))
            {
                _timers.Schedule(suspicion.Deadline, new KernelTimer(KernelTimerKind.SuspicionTimeout, suspicion.Token, member));
                QueueBroadcast(member.Name, PacketBuilder.EncodeMessage(suspect, _names));
            }

            return;
        }

        if (member.State is MemberState.Dead or MemberState.Left)
        {
            return;
        }

        MemberState previous = member.State;
        ViewLeaving(member);
        member.Incarnation = suspect.Incarnation;
        ViewEntering(member);
        SetState(member, MemberState.Suspect, now);
        StartSuspicion(member, suspect.From, now);
        RecordVerdict(VerdictKind.Suspect, source, member, suspect.From, member.Suspicion, now);
        QueueBroadcast(member.Name, PacketBuilder.EncodeMessage(suspect, _names));
        Emit(new MemberChanged(now, MemberChangeKind.Suspected, _names.SnapshotOf(member), previous));
    }

    /// <summary>
    /// A gossiped accusation of an incarnation older than the alive one we hold means its sender
    /// (and whoever it reached) missed the member's refutation: rumor mongering is probabilistic and
    /// a refutation stops spreading once its transmit budget is spent, often within a second. Such a
    /// node then keeps its suspicion for the full timeout (up to SuspicionMaxTimeoutMultiplier × the
    /// minimum, 41 s in a 50-node LAN cluster) and, unless a push-pull happens to reach it first,
    /// declares a live member dead (issue 11: seed 5 of the 10 % loss test). So we put the newer
    /// alive back into our queue, which resets its budget and spreads it again; the member itself
    /// restates its current incarnation (no new refutation: the accusation is already answered).
    /// Nothing changes in our view, and an alive that is not newer is ignored by whoever already has
    /// it, so the answer cannot echo: it lasts only while stale accusations still circulate.
    /// </summary>
    private void AnswerStaleAccusation(Member member, ulong accusedGeneration)
    {
        if (accusedGeneration != member.Generation || member.State != MemberState.Alive)
        {
            return;
        }

        if (member.IsLocal)
        {
            if (!_leaving)
            {
                QueueBroadcast(_self.Name, PacketBuilder.EncodeMessage(SelfAlive()));
            }

            return;
        }

        QueueBroadcast(member.Name, PacketBuilder.EncodeMessage(new AliveMessage(member.Name, member.Address, member.Incarnation, member.Generation, member.Versions, member.Metadata), _names));
    }

    private void StartSuspicion(Member member, string accuser, TimeSpan now)
    {
        // memberlist: k = SuspicionMult − 2 confirmations expected, none in clusters too small to give them.
        int n = ActiveMemberCount;
        int expected = _options.SuspicionMultiplier - 2;
        if (n - 2 < expected)
        {
            expected = 0;
        }

        TimeSpan min = Suspicion.MinTimeout(_options.SuspicionMultiplier, n, _options.ProbeInterval);
        TimeSpan max = min * _options.SuspicionMaxTimeoutMultiplier;
        Suspicion suspicion = new(accuser, member.Incarnation, member.Generation, expected, min, max, now, NextToken());
        member.Suspicion = suspicion;
        Counters.SuspicionsRaised += accuser == _self.Name ? 1 : 0;
        _timers.Schedule(suspicion.Deadline, new KernelTimer(KernelTimerKind.SuspicionTimeout, suspicion.Token, member));
    }

    private void SuspicionTimeout(Member member, long token, TimeSpan now)
    {
        if (member.Suspicion is not { } suspicion || suspicion.Token != token || member.State != MemberState.Suspect)
        {
            return; // Refuted, superseded, or a stale timer of a deadline that moved earlier.
        }

        if (now < suspicion.Deadline)
        {
            return;
        }

        ApplyDead(new DeadMessage(member.Name, suspicion.Incarnation, suspicion.Generation, _self.Name), now, VerdictSource.SuspicionTimeout);
    }

    private void ApplyDead(in DeadMessage dead, TimeSpan now, VerdictSource source = VerdictSource.Gossip)
    {
        Member? member = _byName.Find(dead.Name);
        if (member is null)
        {
            RememberUnknownLeave(dead, now);
            return;
        }

        if (OutOfBounds(member, dead.Generation, dead.Incarnation))
        {
            return;
        }

        int order = member.CompareVersion(dead.Generation, dead.Incarnation);
        bool newerGeneration = dead.Generation > member.Generation;
        if (order < 0 || (newerGeneration && member.IsLocal))
        {
            // Old news; or a newer process in our name, which an incarnation cannot out-vote.
            if (source == VerdictSource.Gossip && !dead.IsLeave)
            {
                AnswerStaleAccusation(member, dead.Generation);
            }

            return;
        }

        if (member.IsLocal)
        {
            if (!_leaving)
            {
                Refute(dead.Incarnation);
            }

            return;
        }

        MemberState target = dead.IsLeave ? MemberState.Left : MemberState.Dead;
        if (!newerGeneration && (member.State == MemberState.Left || (member.State == MemberState.Dead && target == MemberState.Dead)))
        {
            return; // Already there (a dead member that announces its leave may still become left).
        }

        // A departure of a newer generation than ours: the member restarted and that newer process
        // died or left before its alive reached us (VOPR seed 730: a fresh restart, then a leave 6 s
        // later under 12 % loss). Whatever we hold is about the older process, which the newer one
        // replaced, so the departure wins from every state, as a newer alive does; ignored, it
        // left us holding "dead" forever while everyone else saw "left", since a same-generation
        // leave never reaches us again and push-pull carries only that newer generation. The
        // bounds above (generation horizon, incarnation jump from zero) apply as to a newer alive.
        MemberState previous = member.State;
        Suspicion? suspicion = member.Suspicion;
        ViewLeaving(member);
        member.Incarnation = dead.Incarnation;
        if (newerGeneration)
        {
            member.Identity = _names.InternMember(member.Name, dead.Generation, member.Address);
        }

        ViewEntering(member);
        SetState(member, target, now);
        if (target == MemberState.Dead)
        {
            string accuser = source == VerdictSource.SuspicionTimeout && suspicion is not null ? suspicion.FirstAccuser : dead.From;
            RecordVerdict(VerdictKind.Dead, source, member, accuser, suspicion, now);
        }

        QueueBroadcast(member.Name, PacketBuilder.EncodeMessage(dead, _names), priority: BroadcastClass.Departure);
        Emit(new MemberChanged(now, dead.IsLeave ? MemberChangeKind.Left : MemberChangeKind.Failed, _names.SnapshotOf(member), previous));
        if (newerGeneration)
        {
            // What modules kept of the older process (its key-value map, its coordinate samples) is stale.
            foreach (GossipModule module in _modules.All)
            {
                module.OnMemberRestarted(member, now);
            }
        }
    }

    /// <summary>
    /// A leave of a member we have not heard of (its alive has not reached us yet: VOPR seed 1905):
    /// remembered, so that its alive adds it as left, and gossiped on once when it is news, since
    /// those we gossip to may know the member. A dead verdict of an unknown member is still dropped
    /// (memberlist's rule): only the member itself can say it left, and a failure is found again
    /// by whoever knows the member.
    /// </summary>
    private void RememberUnknownLeave(in DeadMessage dead, TimeSpan now)
    {
        if (!dead.IsLeave || OutOfBounds(null, dead.Generation, dead.Incarnation))
        {
            return;
        }

        if (_departures.Remember(dead.Name, dead.Generation, dead.Incarnation, now))
        {
            QueueBroadcast(dead.Name, PacketBuilder.EncodeMessage(dead, _names), priority: BroadcastClass.Departure);
            foreach (GossipModule module in _modules.All)
            {
                module.OnUnknownMemberLeft(dead.Name, dead.Generation, now);
            }
        }
    }

    /// <summary>
    /// Serf's force-leave: an operator says a failed member is gone for good. A member we see as dead
    /// or suspect becomes left here and the leave spreads (a Dead message in the member's own name, at
    /// its known incarnation and generation), so it stops being reported as failed and is reaped after
    /// DeadMemberRetention. An alive member is not touched: it would refute, and a live process
    /// should leave by itself. A restart of that member (newer generation) outranks the leave.
    /// Returns true when the member is now left.
    /// </summary>
    public bool ForceLeave(string name, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!Enter(now) || _byName.Find(name) is not { IsLocal: false } member)
        {
            return false;
        }

        if (member.State is MemberState.Dead or MemberState.Suspect)
        {
            ApplyDead(new DeadMessage(member.Name, member.Incarnation, member.Generation, member.Name), now);
        }

        return member.State == MemberState.Left;
    }

    /// <summary>
    /// Announces a graceful leave: others will see us as <see cref="MemberState.Left"/>, not dead.
    /// Keep feeding the node until <see cref="LeaveCompleted"/> (the announcement has been gossiped
    /// as often as the retransmit limit asks), then <see cref="Stop"/> it.
    /// <para>
    /// With no other member alive in our view the leave completes at once (memberlist skips the
    /// wait then), except while a join push-pull is still unanswered: the seed has our alive (or
    /// will have it once the request lands, which cannot be undone) and adds us, so the leave
    /// waits for the answer, bounded by StreamTimeout, and is then gossiped to the members the
    /// answer reveals like any leave (VOPR seed 1905). memberlist cannot meet this case: its Join
    /// returns only after the push-pull.
    /// </para>
    /// </summary>
    public void Leave(TimeSpan now)
    {
        if (!Enter(now) || _leaving)
        {
            return;
        }

        _leaving = true;
        _probe = null;
        DeadMessage leave = new(_self.Name, _self.Incarnation, _self.Generation, _self.Name);
        SetState(_self, MemberState.Left, now);
        QueueBroadcast(_self.Name, PacketBuilder.EncodeMessage(leave), isLeave: true);

        // Push the news out now rather than waiting for the next gossip round.
        GossipRound(now, reschedule: false);
        ReportLeaveIfDone(now);
    }

    private void ReportLeaveIfDone(TimeSpan now)
    {
        if (!_leaving || _leaveReported)
        {
            return;
        }

        if (_broadcasts.LeaveDone || (ActiveMemberCount == 0 && !JoinPending))
        {
            _leaveReported = true;
            Emit(new LeaveCompleted(now));
        }
    }

    /// <summary>Forgets dead and left members whose retention has passed (run when the probe order wraps).</summary>
    private void ReapMembers(TimeSpan now)
    {
        for (int i = _members.Count - 1; i >= 0; i--)
        {
            Member member = _members[i];
            if (!member.IsLocal && !member.IsActive && now - member.StateChangedAt >= _options.DeadMemberRetention)
            {
                RemoveMember(member);
                foreach (GossipModule module in _modules.All)
                {
                    module.OnMemberReaped(member, now);
                }

                Emit(new MemberChanged(now, MemberChangeKind.Reaped, _names.SnapshotOf(member), member.State));
            }
        }
    }
}
