using System.Text;
using Rumor.Core.AntiEntropy;
using Rumor.Core.Diagnostics;
using Rumor.Core.Dissemination;
using Rumor.Core.Membership;
using Rumor.Core.Modules;
using Rumor.Core.Randomness;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Events;

/// <summary>
/// User events: named payloads broadcast to every member and delivered once per member, ordered by a
/// Lamport clock.
/// <list type="bullet">
/// <item>Spread: rumor mongering through the broadcast queue (class <see cref="BroadcastClass.Events"/>),
/// relayed once by every member on first receipt, then anti-entropy: every EventSyncInterval a Bloom
/// digest of the retained events goes to one random alive member, which re-sends directly (at most
/// EventRepairMaxMessages) what the digest lacks. Rumor mongering leaves a residue of about e^-m
/// members uninformed; the digest rounds take it to zero within the retention window.</item>
/// <item>Exactly once: events are deduplicated by id (origin, generation, sequence) in the
/// <see cref="EventLog"/> for EventRetention, then by a per-origin floor.</item>
/// <item>Coalescing: see <see cref="EventLog"/> and docs/EVENTS.md. Coalescing events are held for
/// EventCoalesceWindow before delivery so that a newer one can replace them.</item>
/// </list>
/// <para>A module (docs/ARCHITECTURE.md) with its queries (EventsModule.Queries.cs): it owns the
/// UserEvent, EventDigest, Query and QueryResponse messages (Wire/Messages/) by registering their
/// handlers; its event round runs only while there is something to reconcile.</para>
/// </summary>
internal sealed partial class EventsModule : GossipModule,
    IMessageHandler<UserEventMessage>, IMessageHandler<EventDigestMessage>, IMessageHandler<QueryMessage>, IMessageHandler<QueryResponseMessage>
{
    private readonly LamportClock _lamport = new();
    private readonly List<EventLog.Entry> _supersededScratch = [];
    private readonly Dictionary<string, CoalesceStream> _coalesceStreams = new(StringComparer.Ordinal);
    private readonly IModuleContext _node;
    private readonly GossipOptions _options;
    private readonly IRandomSource _random;
    private readonly TimerQueue<EventTimer> _timers;
    private EventLog? _eventLog;
    private ulong _eventSequence;

    /// <summary>Builds the module and registers the messages it owns: UserEvent, EventDigest, Query and QueryResponse.</summary>
    public EventsModule(IModuleContext node)
    {
        _node = node;
        _options = node.Options;
        _random = node.Random;
        _timers = node.CreateTimers<EventTimer>(OnEventTimer);
        node.Handle<UserEventMessage>(this);
        node.Handle<EventDigestMessage>(this);
        node.Handle<QueryMessage>(this);
        node.Handle<QueryResponseMessage>(this);
    }

    void IMessageHandler<UserEventMessage>.Handle(NodeAddress from, in UserEventMessage message, TimeSpan now) => AcceptEvent(message, now, from);

    void IMessageHandler<EventDigestMessage>.Handle(NodeAddress from, in EventDigestMessage message, TimeSpan now) => RepairFromDigest(from, message);

    void IMessageHandler<QueryMessage>.Handle(NodeAddress from, in QueryMessage message, TimeSpan now) => AcceptQuery(message, now, from);

    void IMessageHandler<QueryResponseMessage>.Handle(NodeAddress from, in QueryResponseMessage message, TimeSpan now) => AcceptQueryResponse(message, now);

    private Member Self => _node.Self;

    private NodeCounters Counters => _node.Counters;

    /// <summary>This node's Lamport clock time.</summary>
    public ulong LamportTime => _lamport.Time;

    /// <summary>Events delivered on this node and still in its log (within EventRetention, at most EventLogMax), in Lamport order.</summary>
    public IReadOnlyList<UserEvent> RecentEvents => EventLogOrNew.Delivered();

    private EventLog EventLogOrNew => _eventLog ??= new EventLog(_options.EventLogMax);

    /// <summary>
    /// Broadcasts a user event to every member; this node delivers it too (at once, or after
    /// EventCoalesceWindow when <paramref name="coalesce"/> is set). With <paramref name="coalesce"/>,
    /// the event replaces this node's previous coalescing event of the same name if that one was sent
    /// less than EventCoalesceWindow ago: members that have not delivered the older one yet never will,
    /// and it stops spreading. Returns the event (its id and Lamport time).
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty or longer than EventNameMaxBytes, or the payload is larger than EventPayloadMaxBytes.</exception>
    public UserEvent SendEvent(string name, byte[] payload, TimeSpan now, bool coalesce = false)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(payload);
        CheckEventName(name, nameof(name));
        if (payload.Length > _options.EventPayloadMaxBytes)
        {
            throw new ArgumentException($"The event payload is {payload.Length} bytes; EventPayloadMaxBytes allows {_options.EventPayloadMaxBytes} (events travel in one datagram).", nameof(payload));
        }

        if (!_node.Enter(now))
        {
            throw new InvalidOperationException("The node is stopped.");
        }

        ulong sequence = _eventSequence + 1;
        ulong coalesceFrom = 0;
        if (coalesce)
        {
            coalesceFrom = sequence;
            if (_coalesceStreams.TryGetValue(name, out CoalesceStream? previous) && now - previous.SentAt < _options.EventCoalesceWindow)
            {
                coalesceFrom = previous.From;
            }

            _coalesceStreams[name] = new CoalesceStream(coalesceFrom, now);
        }

        UserEventMessage message = new(Self.Name, Self.Generation, sequence, _lamport.Time + 1, coalesceFrom, name, payload);
        CheckFitsDatagram(1 + message.PayloadLength, "user event", nameof(payload));
        _eventSequence = sequence;
        message = message with { LamportTime = _lamport.Tick() };
        Counters.EventsSent++;
        AcceptEvent(message, now);
        return EventLogOrNew.Find(new EventId(Self.Name, Self.Generation, sequence))!.Event;
    }

    /// <summary>Throws when a message (type byte + payload) would not fit one datagram beside the packet framing.</summary>
    private void CheckFitsDatagram(int messageBytes, string what, string parameter)
    {
        int room = _node.PacketBudgetBytes - WireLimits.OverheadBytes - WireLimits.CompoundHeaderBytes - WireLimits.CompoundEntryOverheadBytes;
        if (messageBytes > room)
        {
            throw new ArgumentException($"The {what} is {messageBytes} bytes encoded; PacketBudgetBytes ({_options.PacketBudgetBytes}, {_options.PacketBudgetBytes - _node.PacketBudgetBytes} of it for encryption) leaves room for {room} in one datagram. Shorten the name or payload.", parameter);
        }
    }

    private void CheckEventName(string name, string parameter)
    {
        int bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes == 0 || bytes > _options.EventNameMaxBytes)
        {
            throw new ArgumentException($"The name is {bytes} bytes of UTF-8; it must be 1 to EventNameMaxBytes ({_options.EventNameMaxBytes}).", parameter);
        }
    }

    // The event round runs only while there is something to reconcile or expire, so a cluster that
    // never uses events pays nothing for them (no traffic, and no draws from the random source).
    private bool _eventRoundScheduled;

    private void EnsureEventRound(TimeSpan now)
    {
        if (!_eventRoundScheduled)
        {
            _eventRoundScheduled = true;
            _timers.Schedule(now + _random.NextDuration(_options.EventSyncInterval), new EventTimer(EventTimerKind.Round));
        }
    }

    private void OnEventTimer(EventTimer timer, TimeSpan now)
    {
        switch (timer.Kind)
        {
            case EventTimerKind.Round:
                EventRound(now);
                if (EventLogOrNew.Count > 0 || _node.PendingBroadcasts(BroadcastClass.Events) > 0 || HasQueryWork)
                {
                    _timers.Schedule(now + _options.EventSyncInterval, new EventTimer(EventTimerKind.Round));
                }
                else
                {
                    _eventRoundScheduled = false;
                }

                break;
            case EventTimerKind.DeliverHeld:
                DeliverHeld(timer.Held!, now);
                break;
            case EventTimerKind.ResponseCopy:
                SendResponseCopy(timer.Copy!, now);
                break;
            case EventTimerKind.QueryTimeout:
                QueryTimeout(timer.QueryId, now);
                break;
        }
    }

    /// <summary>
    /// First receipt (or our own send): log, relay, deliver now or after the coalesce window. Copies
    /// are counted and dropped. <paramref name="from"/>, the packet's sender, is not sent it back.
    /// </summary>
    private void AcceptEvent(in UserEventMessage message, TimeSpan now, NodeAddress? from = null)
    {
        EventLog log = EventLogOrNew;
        EventId id = new(message.Origin, message.Generation, message.Sequence);
        if (log.Seen(id))
        {
            Counters.EventsDuplicate++;
            return;
        }

        bool fromSelf = string.Equals(message.Origin, Self.Name, StringComparison.Ordinal) && message.Generation == Self.Generation;
        if (!fromSelf)
        {
            if (message.LamportTime > LamportClock.TimeMax)
            {
                Counters.OutOfBoundsRefused++;
                return;
            }

            _lamport.Witness(message.LamportTime);
        }

        UserEvent userEvent = new(id, message.Name, message.Payload, message.LamportTime, message.Coalesces);
        EventLog.Entry entry = log.Add(userEvent, message.CoalesceFrom, now);
        EnsureEventRound(now);
        if (message.Coalesces && log.SupersededBy(id, message.Name) is not null)
        {
            // A newer event already replaced this one: seen, never delivered, not spread.
            entry.Superseded = true;
            Counters.EventsCoalesced++;
            return;
        }

        // The relay key makes a newer coalescing event replace an older one of the same chain (same
        // origin, generation, name and coalesce-from) still in the queue; a new chain has a new key.
        string? key = message.Coalesces ? $"\u0001event\u0001{message.Origin}\u0001{message.Generation}\u0001{message.Name}\u0001{message.CoalesceFrom}" : null;
        _node.QueueBroadcast(key, PacketBuilder.EncodeMessage(message), BroadcastClass.Events, learnedFrom: from);
        if (_options.EventImmediatePush)
        {
            // First sight of the event (sent here, or received new): out to the fanout now, not at the next round.
            _node.RequestPushRound(now);
        }

        if (message.Coalesces)
        {
            Counters.EventsCoalesced += log.Supersede(entry, _supersededScratch);
            if (_options.EventCoalesceWindow > TimeSpan.Zero)
            {
                _timers.Schedule(now + _options.EventCoalesceWindow, new EventTimer(EventTimerKind.DeliverHeld, Held: entry));
                return;
            }
        }

        Deliver(entry, now);
    }

    private void DeliverHeld(EventLog.Entry entry, TimeSpan now)
    {
        if (!entry.Delivered && !entry.Superseded)
        {
            Deliver(entry, now);
        }
    }

    private void Deliver(EventLog.Entry entry, TimeSpan now)
    {
        entry.Delivered = true;
        Counters.EventsDelivered++;
        _node.Emit(new UserEventReceived(now, entry.Event));
    }

    /// <summary>Anti-entropy round: prune, expire stale broadcasts, and send a digest of our events to one random alive member.</summary>
    private void EventRound(TimeSpan now)
    {
        EventLog log = EventLogOrNew;
        Counters.EventsForgottenEarly += log.Prune(now, _options.EventRetention);
        _node.ExpireBroadcasts(now);

        PruneCoalesceStreams(now);
        PruneQueries(now);

        Span<int> chosen = stackalloc int[1];
        if (log.Count == 0 || !_options.EventAntiEntropy || _node.SampleMembers(chosen, 1, static m => m.State == MemberState.Alive) == 0)
        {
            return;
        }

        SendEventDigest(_node.Members[chosen[0]].Address, replyWanted: true);
    }

    private void SendEventDigest(NodeAddress to, bool replyWanted)
    {
        EventLog log = EventLogOrNew;

        // Sized for BloomFalsePositiveRate, but never beyond one datagram: with more events than fit,
        // the rate rises, and the changing salt still finds every missing event in later rounds.
        // Superseded events are in the filter too (they are seen), but never re-sent.
        uint salt = (uint)_random.NextUInt64();
        int count = log.Count;
        int maxBytes = _node.PacketBudgetBytes - WireLimits.OverheadBytes - 16;
        BloomFilter filter = BloomFilter.Create(count, _options.BloomFalsePositiveRate, salt);
        if (filter.Bits.Length > maxBytes)
        {
            int hashes = Math.Clamp((int)Math.Round(maxBytes * 8.0 / Math.Max(1, count) * Math.Log(2)), 1, EventDigestMessage.MaxHashCount);
            filter = new BloomFilter(new byte[maxBytes], hashes, salt);
        }

        foreach (EventLog.Entry entry in log.InArrivalOrder)
        {
            filter.Add(entry.Event.Id.Origin, entry.Event.Id.Generation, entry.Event.Id.Sequence);
        }

        EventDigestMessage digest = new(salt, (byte)filter.HashCount, replyWanted, (uint)count, filter.Bits);
        Counters.EventDigestsSent++;
        _node.SendPacket(to, PacketBuilder.EncodeSingle(digest));
    }

    /// <summary>Re-sends, straight to the digest's sender, the retained events its filter lacks (newest first, bounded).</summary>
    private void RepairFromDigest(NodeAddress from, in EventDigestMessage digest)
    {
        BloomFilter filter = new(digest.Bits, digest.HashCount, digest.Salt);
        EventLog log = EventLogOrNew;
        int common = 0;
        foreach (EventLog.Entry entry in log.InArrivalOrder)
        {
            common += filter.MayContain(entry.Event.Id.Origin, entry.Event.Id.Generation, entry.Event.Id.Sequence) ? 1 : 0;
        }

        // The sender holds events we do not: ask for them with our own digest (once, no reply wanted).
        if (digest.ReplyWanted && digest.EventCount > common)
        {
            SendEventDigest(from, replyWanted: false);
        }

        if (log.Count == common || _options.EventRepairMaxMessages == 0)
        {
            return;
        }

        int sent = 0;
        PacketBuilder builder = _node.StartPacket();
        for (LinkedListNode<EventLog.Entry>? node = log.Last; node is not null && sent < _options.EventRepairMaxMessages; node = node.Previous)
        {
            EventLog.Entry entry = node.Value;
            EventId id = entry.Event.Id;
            if (entry.Superseded || filter.MayContain(id.Origin, id.Generation, id.Sequence))
            {
                continue;
            }

            UserEventMessage message = new(id.Origin, id.Generation, id.Sequence, entry.Event.LamportTime, entry.CoalesceFrom, entry.Event.Name, entry.Event.Payload);
            if (!builder.TryAdd(message))
            {
                _node.SendStartedPacket(from, piggyback: false);
                builder = _node.StartPacket();
                if (!builder.TryAdd(message))
                {
                    continue;
                }
            }

            sent++;
        }

        Counters.EventsRepaired += sent;
        _node.SendStartedPacket(from, piggyback: false);
    }

    private void PruneCoalesceStreams(TimeSpan now)
    {
        if (_coalesceStreams.Count == 0)
        {
            return;
        }

        List<string> stale = [];
        foreach (KeyValuePair<string, CoalesceStream> pair in _coalesceStreams)
        {
            if (now - pair.Value.SentAt >= _options.EventCoalesceWindow)
            {
                stale.Add(pair.Key);
            }
        }

        foreach (string name in stale)
        {
            _coalesceStreams.Remove(name);
        }
    }

    /// <summary>Our last coalescing event of one name: the lowest sequence its chain supersedes, and when it was sent.</summary>
    private sealed record CoalesceStream(ulong From, TimeSpan SentAt);

    private enum EventTimerKind : byte
    {
        Round,
        DeliverHeld,
        ResponseCopy,
        QueryTimeout,
    }

    /// <summary>An events timer: the anti-entropy round, a held coalescing event to deliver, a response copy to send, or one of our queries' timeout.</summary>
    private readonly record struct EventTimer(EventTimerKind Kind, EventLog.Entry? Held = null, ResponseCopy? Copy = null, ulong QueryId = 0);
}
