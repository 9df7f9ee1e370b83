using Rumor.Core.Membership;
using Rumor.Core.Modules;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core;

/// <summary>
/// Full-state anti-entropy over streams (memberlist's push-pull). The initiator sends every member
/// it knows; the receiver merges and replies with its own table; the initiator merges that. Used to
/// join through seeds, every PushPullInterval (scaled up above 32 members) with a random member,
/// every SeedContactEveryRounds-th round with a seed so that partitioned halves find each other
/// again, and now and then with a dead member (Serf's reconnect), so that healing does not depend
/// on the seeds alone. Remote dead verdicts are merged as suspicions: we never condemn a member on
/// hearsay without giving it a chance to refute.
/// </summary>
public sealed partial class GossipNode
{
    private readonly Dictionary<long, PendingStream> _pendingStreams = [];
    private readonly List<StateSection> _noSections = [];
    private long _nextStreamId;
    private long _pushPullRounds;
    private int _seedCursor;

    /// <summary>The seeds this node contacts to join and to heal partitions.</summary>
    public IReadOnlyList<NodeAddress> Seeds => _seeds;

    /// <summary>Joins through the configured seeds (<see cref="GossipOptions.Seeds"/>).</summary>
    public void Join(TimeSpan now) => Join(_seeds.ToArray(), now);

    /// <summary>
    /// Joins through <paramref name="seeds"/>: a join push-pull with each (our own address and duplicates skipped).
    /// Each reports <see cref="JoinSucceeded"/> or <see cref="JoinFailed"/>. The seeds are remembered
    /// for periodic seed contact.
    /// </summary>
    public void Join(IReadOnlyList<NodeAddress> seeds, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        if (!Enter(now))
        {
            return;
        }

        HashSet<NodeAddress> contacted = [];
        foreach (NodeAddress seed in seeds)
        {
            AddSeed(seed);
            if (seed != _self.Address && contacted.Add(seed))
            {
                OpenPushPull(seed, join: true, now);
            }
        }
    }

    private void AddSeed(NodeAddress seed)
    {
        if (!_seeds.Contains(seed))
        {
            _seeds.Add(seed);
        }
    }

    private void PushPullRound(TimeSpan now)
    {
        _timers.Schedule(now + ScaledPushPullInterval(), new KernelTimer(KernelTimerKind.PushPullRound));
        if (_leaving)
        {
            return;
        }

        _pushPullRounds++;
        int m = _options.SeedContactEveryRounds;
        if (m > 0 && _pushPullRounds % m == 0 && TryNextSeed(out NodeAddress seed))
        {
            OpenPushPull(seed, join: false, now, checksumOnly: ChecksumFirst);
        }
        else
        {
            Span<int> chosen = stackalloc int[1];
            if (SampleMembers(chosen, 1, static member => member.State == MemberState.Alive) == 1)
            {
                OpenPushPull(_members[chosen[0]].Address, join: false, now, checksumOnly: ChecksumFirst);
            }
        }

        // Serf-style reconnect: with probability dead / active, try one member we think is dead.
        int dead = 0;
        foreach (Member member in _members)
        {
            dead += member.State == MemberState.Dead ? 1 : 0;
        }

        if (dead > 0 && _random.NextDouble() < (double)dead / Math.Max(1, ActiveMemberCount))
        {
            Span<int> chosen = stackalloc int[1];
            if (SampleMembers(chosen, 1, static member => member.State == MemberState.Dead) == 1)
            {
                OpenPushPull(_members[chosen[0]].Address, join: false, now, checksumOnly: ChecksumFirst);
            }
        }
    }

    /// <summary>memberlist's pushPullScale: the interval grows with log2(N) above 32 members, so that the cluster-wide rate of full-state syncs stays flat.</summary>
    private TimeSpan ScaledPushPullInterval()
    {
        const int threshold = 32;
        int n = ActiveMemberCount;
        if (n <= threshold)
        {
            return _options.PushPullInterval;
        }

        double multiplier = Math.Ceiling(Math.Log2(n) - Math.Log2(threshold)) + 1.0;
        return _options.PushPullInterval * multiplier;
    }

    private bool TryNextSeed(out NodeAddress seed)
    {
        for (int i = 0; i < _seeds.Count; i++)
        {
            seed = _seeds[_seedCursor++ % _seeds.Count];
            if (seed != _self.Address)
            {
                return true;
            }
        }

        seed = default;
        return false;
    }

    private void OpenPushPull(NodeAddress to, bool join, TimeSpan now, int keyIndex = 0, bool checksumOnly = false)
    {
        long streamId = ++_nextStreamId;
        using PooledBytes request = checksumOnly ? PooledBytes.Of(EncodeChecksumOnly(OurMembershipChecksum())) : EncodePushPull(join);
        if (request.Length > _options.StreamMaxBytes)
        {
            Counters.StreamFailures++;
            if (join)
            {
                Emit(new JoinFailed(now, to, $"our state is {request.Length} bytes, above StreamMaxBytes ({_options.StreamMaxBytes})"));
            }

            return;
        }

        _pendingStreams[streamId] = new PendingStream(to, join, keyIndex, checksumOnly);
        Counters.PushPullChecksumsSent += checksumOnly ? 1 : 0;
        _timers.Schedule(now + _options.StreamTimeout, new KernelTimer(KernelTimerKind.StreamDeadline, streamId));
        Counters.StreamsOpened++;
        Counters.StreamBytesSent += request.Length;
        HostOpenStream(streamId, to, request.Span, keyIndex);
    }

    /// <summary>
    /// Our full state as a push-pull stream, compressed when that pays: encoded straight from the
    /// member list (no copy of it) into pooled arrays, which the caller disposes once the host has
    /// the bytes (at N = 2,000 the join's push-pull arrays were a third of its allocation, each on
    /// the large-object heap).
    /// </summary>
    private PooledBytes EncodePushPull(bool join)
    {
        return CompressStream(PacketBuilder.EncodeSinglePooled(new PushPullMessage(join, new PushPullMemberView(_members), PushPullSections())));
    }

    /// <summary>The member list read as push-pull entries, one built per read (for encoding only).</summary>
    private sealed class PushPullMemberView(List<Member> members) : IReadOnlyList<PushPullMember>
    {
        public int Count => members.Count;

        public PushPullMember this[int index]
        {
            get
            {
                Member m = members[index];
                return new PushPullMember(m.Name, m.Address, m.Incarnation, m.Generation, m.State, m.Versions, m.Metadata);
            }
        }

        public IEnumerator<PushPullMember> GetEnumerator()
        {
            for (int i = 0; i < members.Count; i++)
            {
                yield return this[i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>
    /// Whether periodic push-pulls go checksum first: <see cref="GossipOptions.PushPullChecksumFirst"/>,
    /// in SWIM mode only. In φ mode the full exchanges carry other members' suspicions as hearsay,
    /// and those confirmations are what shorten φ's suspicions: with checksums first, "dead in every
    /// view" after a crash took 38 s instead of 9.9 s (bench phi --nodes 40 --seeds 5), so φ mode
    /// keeps full exchanges.
    /// </summary>
    private bool ChecksumFirst => _options.PushPullChecksumFirst && _options.FailureDetector == FailureDetectorKind.Swim;

    /// <summary>Our membership checksum (with the keyring version when encrypted): equal views give equal checksums.</summary>
    private ulong OurMembershipChecksum() => MembershipChecksum.WithKeyring(_viewSum, _security.Keyring?.Version ?? 0);

    /// <summary>A checksum-first push-pull request, or the answer to one: no members, only our checksum.</summary>
    private static byte[] EncodeChecksumOnly(ulong checksum) =>
        PacketBuilder.EncodeSingle(new PushPullMessage(false, [], [MembershipChecksum.Encode(checksum)]));

    /// <summary>
    /// Another member opened a stream to us and sent <paramref name="request"/>. The node replies
    /// during this call (through <see cref="IGossipHost.ReplyStream"/>) or not at all; the shell closes
    /// the stream when the call returns.
    /// </summary>
    public void OnStreamRequest(long streamId, NodeAddress from, ReadOnlySpan<byte> request, TimeSpan now)
    {
        if (!Enter(now))
        {
            return;
        }

        Counters.StreamsAccepted++;
        Counters.StreamBytesReceived += request.Length;
        if (!_security.TryUnsealStream(request, out request))
        {
            return;
        }


        // Dispatch by header type through the one table (a Ping is the fallback probe, state
        // exchanges belong to their module); anything unclaimed is taken for a push-pull.
        IStreamRequestHandler handler = _table.StreamHandler(request) ?? this;
        handler.HandleStreamRequest(streamId, from, request, now);
    }

    private void AnswerPushPull(long streamId, NodeAddress from, ReadOnlySpan<byte> request, TimeSpan now)
    {
        if (!TryDecodePushPull(request, out PushPullMessage message))
        {
            return;
        }

        try
        {
            AnswerPushPull(streamId, from, message, now);
        }
        finally
        {
            PushPullMessage.Release(message);
        }
    }

    private void AnswerPushPull(long streamId, NodeAddress from, in PushPullMessage message, TimeSpan now)
    {

        // A checksum-first request (no members, a checksum section): answer with our checksum only.
        // The initiator opens the full exchange when the two differ.
        if (!message.Join && message.Members.Count == 0 && MembershipChecksum.TryFind(message.Sections, out ulong theirs))
        {
            ulong mine = OurMembershipChecksum();
            byte[] answer = EncodeChecksumOnly(mine);
            Counters.PushPullChecksumsAnsweredSame += mine == theirs ? 1 : 0;
            Counters.StreamBytesSent += answer.Length;
            HostReplyStream(streamId, answer);
            ReportLeaveIfDone(now);
            return;
        }

        // Reply with our state as it was before the merge: the initiator already has its own.
        using PooledBytes reply = EncodePushPull(join: false);
        MergeRemoteState(message, from, now);
        if (message.Join && _options.JoinImmediatePush)
        {
            // The joiner's alive, just queued by the merge, goes out now, not at our next round.
            Counters.JoinPushes++;
            RequestPushRound(now);
        }
        if (reply.Length <= _options.StreamMaxBytes)
        {
            Counters.StreamBytesSent += reply.Length;
            HostReplyStream(streamId, reply.Span);
        }
        else
        {
            Counters.StreamFailures++; // our table outgrew StreamMaxBytes: counted, never silent
        }

        ReportLeaveIfDone(now);
    }

    /// <summary>The reply to a stream we opened arrived.</summary>
    public void OnStreamResponse(long streamId, ReadOnlySpan<byte> response, TimeSpan now)
    {
        if (!_stopped && _started && !_security.TryUnsealStream(response, out response))
        {
            OnStreamFailed(streamId, "the reply did not authenticate (wrong key, tampered, replayed or plaintext)", now);
            return;
        }

        if (_fallback.TryResponse(streamId, response, now))
        {
            return;
        }

        if (!Enter(now) || ModuleStream(streamId, response, failed: false, now) || !_pendingStreams.Remove(streamId, out PendingStream pending))
        {
            return; // Stopped, a module's stream, or the deadline already passed.
        }

        Counters.StreamBytesReceived += response.Length;
        if (!TryDecodePushPull(response, out PushPullMessage message))
        {
            Counters.StreamFailures++;
            if (pending.Join)
            {
                Emit(new JoinFailed(now, pending.To, "the seed answered with something that is not a valid push-pull"));
            }

            ReportLeaveIfDone(now);
            return;
        }

        int remoteMembers = message.Members.Count;
        bool same;
        try
        {
            same = pending.ChecksumOnly && remoteMembers == 0 && MembershipChecksum.TryFind(message.Sections, out ulong theirs) && theirs == OurMembershipChecksum();
            if (!same)
            {
                MergeRemoteState(message, pending.To, now);
            }
        }
        finally
        {
            PushPullMessage.Release(message);
        }

        if (same)
        {
            ReportLeaveIfDone(now); // the same view on both sides: nothing to exchange this round
            return;
        }

        if (pending.Join)
        {
            if (_options.JoinImmediatePush)
            {
                // Our own alive (queued at start, older than all the merge queued) is queued again so
                // it rides first, and goes out now to members the join just taught us. Not while
                // leaving: the queued leave has the same key, and an alive must not replace it (VOPR
                // seed 1905's case, a leave told before the join was answered); the push then
                // carries the leave.
                if (!_leaving)
                {
                    QueueBroadcast(_self.Name, PacketBuilder.EncodeMessage(SelfAlive()));
                }

                Counters.JoinPushes++;
                RequestPushRound(now);
            }

            Emit(new JoinSucceeded(now, pending.To, remoteMembers));
        }
        else if (pending.ChecksumOnly && !_leaving)
        {
            // The views differ (or the member answered with its whole state, as a node without
            // checksum-first does, now merged): the full exchange, so that it learns ours too.
            Counters.PushPullChecksumsDiffering++;
            OpenPushPull(pending.To, join: false, now);
        }

        ReportLeaveIfDone(now);
    }

    /// <summary>A stream we opened failed (refused, reset, timed out in the shell).</summary>
    public void OnStreamFailed(long streamId, string reason, TimeSpan now)
    {
        if (_fallback.TryFailed(streamId, now))
        {
            return;
        }

        if (!Enter(now) || ModuleStream(streamId, default, failed: true, now) || !_pendingStreams.Remove(streamId, out PendingStream pending))
        {
            return;
        }

        Counters.StreamFailures++;
        if (pending.Join && !RetryJoinWithNextKey(pending, now))
        {
            Emit(new JoinFailed(now, pending.To, _security.ExplainJoinFailure(reason)));
        }

        ReportLeaveIfDone(now);
    }

    /// <summary>Offers a stream's outcome to each module in order; true when one claimed the id.</summary>
    private bool ModuleStream(long streamId, ReadOnlySpan<byte> response, bool failed, TimeSpan now)
    {
        foreach (GossipModule module in _modules.All)
        {
            if (failed ? module.OnStreamFailed(streamId, now) : module.OnStreamResponse(streamId, response, now))
            {
                return true;
            }
        }

        return false;
    }

    private void StreamDeadline(long streamId, TimeSpan now)
    {
        if (_pendingStreams.Remove(streamId, out PendingStream pending))
        {
            Counters.StreamFailures++;
            if (pending.Join && !RetryJoinWithNextKey(pending, now))
            {
                Emit(new JoinFailed(now, pending.To, _security.ExplainJoinFailure($"no answer within StreamTimeout ({_options.StreamTimeout.TotalSeconds:0.###} s)")));
            }

            ReportLeaveIfDone(now);
        }
    }

    private bool TryDecodePushPull(ReadOnlySpan<byte> bytes, out PushPullMessage message)
    {
        message = default;

        // A compressed stream is decompressed into a pooled buffer (the decoded message copies what
        // it keeps); one that declares more than StreamMaxBytes gets the exact, refusing buffer.
        using PooledBytes scratch = StreamScratch(bytes, out byte[]? buffer);
        DecodeError error = PacketReader.TryOpen(bytes, _options.StreamMaxBytes, buffer, out PacketReader reader);
        if (error == DecodeError.None)
        {
            if (reader.HeaderType != MessageType.PushPull || !reader.TryNext(out _, out ReadOnlySpan<byte> payload, out _))
            {
                error = DecodeError.Malformed;
            }
            else
            {
                error = PushPullMessage.TryDecode(payload, _names, pooled: true, out message);
            }
        }

        if (error != DecodeError.None)
        {
            Counters.CountDecodeError(error);
            return false;
        }

        return true;
    }

    private void MergeRemoteState(in PushPullMessage message, NodeAddress source, TimeSpan now)
    {
        // Hearsay is the source's accusation, not ours: it must not count as our own failed probe
        // (nor confirm a suspicion as if we had probed). Name the source when we know it.
        string accuser = FindNameAt(source, message) ?? "push-pull " + source;
        MergeRing(message, source);
        foreach (PushPullMember remote in message.Members)
        {
            switch (remote.State)
            {
                case MemberState.Alive:
                    ApplyAlive(new AliveMessage(remote.Name, remote.Address, remote.Incarnation, remote.Generation, remote.Versions, remote.Meta), now);
                    break;
                case MemberState.Left:
                    ApplyDead(new DeadMessage(remote.Name, remote.Incarnation, remote.Generation, remote.Name), now);
                    break;
                case MemberState.Dead:
                case MemberState.Suspect:
                    // Hearsay of a death becomes a suspicion (the member may refute), in the source's name.
                    ApplySuspect(new SuspectMessage(remote.Name, remote.Incarnation, remote.Generation, accuser), now, FailureDetection.VerdictSource.PushPull);
                    break;
            }
        }
    }

    /// <summary>The name of the member at <paramref name="address"/>, from the push-pull itself or our table.</summary>
    private string? FindNameAt(NodeAddress address, in PushPullMessage message)
    {
        foreach (PushPullMember member in message.Members)
        {
            if (member.Address == address && member.State == MemberState.Alive)
            {
                return member.Name;
            }
        }

        foreach (Member member in _members)
        {
            if (member.Address == address)
            {
                return member.Name;
            }
        }

        return null;
    }

    /// <summary>True while a join push-pull we opened awaits its answer (a leave waits for it: see <see cref="Leave"/>).</summary>
    private bool JoinPending
    {
        get
        {
            foreach (PendingStream pending in _pendingStreams.Values)
            {
                if (pending.Join)
                {
                    return true;
                }
            }

            return false;
        }
    }

    private readonly record struct PendingStream(NodeAddress To, bool Join, int KeyIndex, bool ChecksumOnly);
}
