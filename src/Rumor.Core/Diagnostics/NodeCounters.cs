using Rumor.Core.Dissemination;
using Rumor.Core.Wire;

namespace Rumor.Core.Diagnostics;

/// <summary>
/// Monotonic counters of one node: what went in and out, what was rejected, what overflowed. Every
/// bounded structure in the core counts its overflows here, so nothing is dropped silently.
/// </summary>
public sealed class NodeCounters
{
    private readonly long[] _decodeErrors = new long[Enum.GetValues<DecodeError>().Length];
    private readonly long[] _broadcastsDroppedByClass = new long[Enum.GetValues<BroadcastClass>().Length];
    private readonly long[] _broadcastsExpiredByClass = new long[Enum.GetValues<BroadcastClass>().Length];

    /// <summary>Datagrams received.</summary>
    public long PacketsReceived { get; internal set; }

    /// <summary>Datagram bytes received.</summary>
    public long PacketBytesReceived { get; internal set; }

    /// <summary>Datagrams sent.</summary>
    public long PacketsSent { get; internal set; }

    /// <summary>Datagram bytes sent.</summary>
    public long PacketBytesSent { get; internal set; }

    /// <summary>Streams opened by us.</summary>
    public long StreamsOpened { get; internal set; }

    /// <summary>Streams accepted from others.</summary>
    public long StreamsAccepted { get; internal set; }

    /// <summary>Stream bytes sent (requests and replies).</summary>
    public long StreamBytesSent { get; internal set; }

    /// <summary>Stream bytes received.</summary>
    public long StreamBytesReceived { get; internal set; }

    /// <summary>Periodic push-pulls opened with our membership checksum only (<see cref="GossipOptions.PushPullChecksumFirst"/>).</summary>
    public long PushPullChecksumsSent { get; internal set; }

    /// <summary>Of those, the ones whose answer differed (or carried a whole state): each was followed by a full push-pull.</summary>
    public long PushPullChecksumsDiffering { get; internal set; }

    /// <summary>Checksum-first push-pulls from others that we answered with the same checksum.</summary>
    public long PushPullChecksumsAnsweredSame { get; internal set; }

    /// <summary>Direct acks whose membership checksum (<see cref="GossipOptions.ViewChecksumInAcks"/>) differed from ours.</summary>
    public long ViewChecksumsDiffering { get; internal set; }

    /// <summary>Push-pulls opened because two acks in a row agreed with each other and not with our unchanged view.</summary>
    public long ViewSyncs { get; internal set; }

    /// <summary>Streams that failed or timed out.</summary>
    public long StreamFailures { get; internal set; }

    /// <summary>Packets or stream messages rejected by the decoder (all reasons).</summary>
    public long DecodeFailures { get; internal set; }

    /// <summary>Messages of an unknown type skipped inside compound packets.</summary>
    public long UnknownMessagesSkipped { get; internal set; }

    /// <summary>Probes started.</summary>
    public long ProbesSent { get; internal set; }

    /// <summary>Probes that got no ack, direct or indirect, in time.</summary>
    public long ProbesFailed { get; internal set; }

    /// <summary>Indirect pings we sent on behalf of our own probes.</summary>
    public long IndirectPingsSent { get; internal set; }

    /// <summary>Nacks received for our indirect pings.</summary>
    public long NacksReceived { get; internal set; }

    /// <summary>Times we refuted an accusation about ourselves.</summary>
    public long Refutations { get; internal set; }

    /// <summary>Suspicions we started about others.</summary>
    public long SuspicionsRaised { get; internal set; }

    /// <summary>Broadcasts queued.</summary>
    public long BroadcastsQueued { get; internal set; }

    /// <summary>Extra gossip rounds sent at once for a join (<see cref="GossipOptions.JoinImmediatePush"/>): as the joiner when its join push-pull ended, as the seed when it answered one.</summary>
    public long JoinPushes { get; internal set; }

    /// <summary>
    /// Member pushes made (<see cref="GossipOptions.MemberImmediatePush"/>): each asks for a gossip round for a member learned of for
    /// the first time or come back, at once or at the end of the spacing. One made at once shares its round with any other extra round
    /// the same input asked for (an event's, a join's), so this can exceed the rounds sent for member news alone.
    /// </summary>
    public long MemberPushes { get; internal set; }

    /// <summary>Broadcasts dropped because the queue was full.</summary>
    public long BroadcastsDropped { get; internal set; }

    /// <summary>News about new members dropped because the member table was full.</summary>
    public long MembersDropped { get; internal set; }

    /// <summary>Indirect-ping requests refused because 1,024 relays were already pending.</summary>
    public long RelaysDropped { get; internal set; }

    /// <summary>Timers and acks for sequence numbers we no longer track (late or duplicate acks).</summary>
    public long StaleAcks { get; internal set; }

    /// <summary>Coordinates that updated ours (each after a direct probe's ack, with its measured round trip).</summary>
    public long CoordinateUpdates { get; internal set; }

    /// <summary>Coordinates refused: another dimensionality, not finite after decoding, a round trip over 10 s, or from a member we no longer know.</summary>
    public long CoordinatesRejected { get; internal set; }

    /// <summary>ProximityGossip: gossip targets drawn uniformly (the far share).</summary>
    public long ProximityUniformPicks { get; internal set; }

    /// <summary>ProximityGossip: gossip targets picked as the nearest of the candidates.</summary>
    public long ProximityNearPicks { get; internal set; }

    /// <summary>Probes saved by the stream fallback alone: datagrams to that member are failing while streams work.</summary>
    public long FallbackAcks { get; internal set; }

    /// <summary>Stream fallback pings not opened because 16 were already pending.</summary>
    public long FallbackStreamsDropped { get; internal set; }

    /// <summary>Accusations (suspect messages) we made from our own failed probes, confirmations of running suspicions included.</summary>
    public long AccusationsMade { get; internal set; }

    /// <summary>Failed probes that raised no accusation because this node had just stalled (StallGuard).</summary>
    public long AccusationsSuppressed { get; internal set; }

    /// <summary>Stalls of this node: reported by the shell or detected from late timers.</summary>
    public long LocalStalls { get; internal set; }

    /// <summary>State exchanges with members skipped in a settled node's quiet rounds (StateGossipFanout, or fewer peers, per round).</summary>
    public long StateExchangesSkipped { get; internal set; }

    /// <summary>Checksum probes sent: a settled node's full-sync rounds and seed contacts, in place of a digest.</summary>
    public long StateChecksumProbes { get; internal set; }

    /// <summary>Checksum probes received whose checksum differed from ours (each starts a push-pull exchange).</summary>
    public long StateProbeMismatches { get; internal set; }

    /// <summary>Full digests received over a stream whose checksum equalled ours: their lines were checked but not decoded, and no deltas or digest of ours went back for them.</summary>
    public long StateStreamDigestsEqual { get; internal set; }

    /// <summary>State delta messages sent in reply to digests.</summary>
    public long StateDeltasSent { get; internal set; }

    /// <summary>Replicated entries applied from peers.</summary>
    public long StateEntriesApplied { get; internal set; }

    /// <summary>Owner deltas ignored: a gap, an older generation, or a full owner table.</summary>
    public long StateDeltasIgnored { get; internal set; }

    /// <summary>Catch-ups over a stream after a delta said more was pending.</summary>
    public long StateCatchUps { get; internal set; }

    /// <summary>Tombstones collected after the grace period.</summary>
    public long TombstonesCollected { get; internal set; }

    /// <summary>Bytes saved by compression (uncompressed minus compressed), sent packets.</summary>
    public long CompressionBytesSaved { get; internal set; }

    // ---- User events, queries and broadcast classes (issue 5) ----

    /// <summary>Broadcasts retired because their expiry (a query's deadline) passed before they reached the transmit limit.</summary>
    public long BroadcastsExpired { get; internal set; }

    /// <summary>User events this node sent.</summary>
    public long EventsSent { get; internal set; }

    /// <summary>User events delivered to the application (this node's own included).</summary>
    public long EventsDelivered { get; internal set; }

    /// <summary>User event copies received again and ignored (deduplicated).</summary>
    public long EventsDuplicate { get; internal set; }

    /// <summary>Coalescing events replaced by a newer one of the same name and origin before delivery (never delivered here).</summary>
    public long EventsCoalesced { get; internal set; }

    /// <summary>Events forgotten before the retention window ended because the log was full (EventLogMax).</summary>
    public long EventsForgottenEarly { get; internal set; }

    /// <summary>Event digests sent (anti-entropy rounds).</summary>
    public long EventDigestsSent { get; internal set; }

    /// <summary>Events re-sent directly to a peer whose digest lacked them.</summary>
    public long EventsRepaired { get; internal set; }

    /// <summary>Queries this node asked.</summary>
    public long QueriesSent { get; internal set; }

    /// <summary>Queries from others that matched our tags and were reported to the application.</summary>
    public long QueriesReceived { get; internal set; }

    /// <summary>Responses this node sent to askers.</summary>
    public long QueryResponsesSent { get; internal set; }

    /// <summary>Answers of the automatic QueryResponder not sent because they exceeded QueryResponseMaxBytes or the datagram.</summary>
    public long QueryResponsesRefused { get; internal set; }

    /// <summary>Responses received for our queries and recorded.</summary>
    public long QueryResponsesReceived { get; internal set; }

    /// <summary>Responses ignored: unknown or finished query, old generation, or a second answer from the same member.</summary>
    public long QueryResponsesIgnored { get; internal set; }

    /// <summary>Others' queries forgotten before their deadline because QueriesMax were tracked (a late copy could be answered twice; counted).</summary>
    public long QueriesForgottenEarly { get; internal set; }

    // ---- Security (issue 12) ----

    /// <summary>Encrypted packets or stream messages dropped before parsing: wrong key, a changed byte, a forged envelope.</summary>
    public long PacketsUnauthenticated { get; internal set; }

    /// <summary>Plaintext packets or stream messages dropped because encryption is on and VerifyIncoming is true.</summary>
    public long PlaintextRefused { get; internal set; }

    /// <summary>Plaintext accepted while VerifyIncoming is false (migration): switch verification on when this stops growing.</summary>
    public long PlaintextAccepted { get; internal set; }

    /// <summary>Authenticated envelopes refused as replays (a counter seen before, or older than the replay window).</summary>
    public long ReplaysRefused { get; internal set; }

    /// <summary>Messages refused because a value outranks too far: a generation ahead of now, an incarnation, version or Lamport jump beyond its bound.</summary>
    public long OutOfBoundsRefused { get; internal set; }

    /// <summary>Replies not sent because the address they would go to is not the known address of a member (no reflection).</summary>
    public long ReflectionsRefused { get; internal set; }

    /// <summary>All security drops: unauthenticated + plaintext refused + replays.</summary>
    public long SecurityDrops => PacketsUnauthenticated + PlaintextRefused + ReplaysRefused;

    /// <summary>Broadcasts of one class dropped because the queue was full.</summary>
    public long BroadcastsDroppedIn(BroadcastClass priority) => _broadcastsDroppedByClass[(int)priority];

    /// <summary>Broadcasts of one class that expired before reaching the transmit limit.</summary>
    public long BroadcastsExpiredIn(BroadcastClass priority) => _broadcastsExpiredByClass[(int)priority];

    /// <summary>Rejections by reason.</summary>
    public long DecodeErrors(DecodeError reason) => _decodeErrors[(int)reason];

    internal void CountDecodeError(DecodeError reason)
    {
        _decodeErrors[(int)reason]++;
        DecodeFailures++;
    }

    internal void SyncBroadcastClasses(BroadcastQueue queue)
    {
        for (int c = 0; c < _broadcastsDroppedByClass.Length; c++)
        {
            _broadcastsDroppedByClass[c] = queue.DroppedOf((BroadcastClass)c);
            _broadcastsExpiredByClass[c] = queue.ExpiredOf((BroadcastClass)c);
        }

        BroadcastsExpired = queue.Expired;
    }
}
