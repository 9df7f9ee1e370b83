using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Rumor.Serf.Wire;

namespace Rumor.Serf;

// Serf's layer (serf-wire.md 4): join and leave intents ordered by the member clock, user events
// deduplicated by the event clock's 512-slot ring, member status derived from memberlist's news.
public sealed partial class SerfNode
{
    /// <summary>Serf's event ring size (and how far back an event may be and still count as new).</summary>
    public const int EventBufferSize = 512;

    /// <summary>Serf agent's default limit on len(Name) + len(Payload) of a user event.</summary>
    public const int UserEventSizeLimit = 512;

    private const int RecentIntentsMax = 1024;

    private readonly LamportClock _memberClock = new();
    private readonly LamportClock _eventClock = new();
    private readonly LamportClock _queryClock = new();
    private readonly RingSlot?[] _eventRing = new RingSlot?[EventBufferSize];
    private readonly Dictionary<string, (ulong LTime, bool Leave)> _recentIntents = new(StringComparer.Ordinal);
    private ulong _eventMinTime;
    private bool _leaving;
    private TaskCompletionSource? _leaveBroadcast;

    private bool HandleSerfMessage(ReadOnlyMemory<byte> userMessage, TimeSpan now)
    {
        if (userMessage.IsEmpty)
        {
            return false;
        }

        ReadOnlyMemory<byte> body = userMessage[1..];
        switch ((SerfType)userMessage.Span[0])
        {
            case SerfType.Join:
                if (!IntentMessage.TryDecode(body, out IntentMessage join))
                {
                    return false;
                }

                if (HandleJoinIntent(join))
                {
                    _broadcasts.Enqueue(null, [(byte)MemberlistType.User, .. userMessage.Span]);
                }

                return true;
            case SerfType.Leave:
                if (!IntentMessage.TryDecode(body, out IntentMessage leave))
                {
                    return false;
                }

                if (HandleLeaveIntent(leave))
                {
                    _broadcasts.Enqueue(null, [(byte)MemberlistType.User, .. userMessage.Span]);
                }

                return true;
            case SerfType.UserEvent:
                if (!UserEventMessage.TryDecode(body, out UserEventMessage userEvent))
                {
                    return false;
                }

                if (HandleUserEvent(userEvent))
                {
                    _broadcasts.Enqueue(null, [(byte)MemberlistType.User, .. userMessage.Span]);
                    RequestImmediatePush();
                }

                return true;
            case SerfType.Query:
                if (!QueryMessage.TryDecode(body, out QueryMessage query))
                {
                    return false;
                }

                if (HandleQuery(query, now))
                {
                    _broadcasts.Enqueue(null, [(byte)MemberlistType.User, .. userMessage.Span]);
                    RequestImmediatePush();
                }

                return true;
            case SerfType.QueryResponse:
                if (!QueryResponseMessage.TryDecode(body, out QueryResponseMessage response))
                {
                    return false;
                }

                HandleQueryResponse(response);
                return true;
            case SerfType.Relay:
                if (!RelayMessage.TryDecode(body, out IPEndPoint destination, out ReadOnlyMemory<byte> relayed))
                {
                    return false;
                }

                // Serf forwards whatever follows the header; only query responses are ever relayed,
                // so only they are forwarded here (no open relay for other message types).
                if (relayed.Span[0] == (byte)SerfType.QueryResponse && destination.AddressFamily == EndPoint.AddressFamily)
                {
                    Counters.QueryResponsesRelayed++;
                    SendTo(destination, [(byte)MemberlistType.User, .. relayed.Span]);
                }

                return true;
            default:
                Counters.UnknownMessages++;
                return true;
        }
    }

    // Serf's handleNodeJoinIntent; true when it was news (then re-broadcast).
    private bool HandleJoinIntent(IntentMessage intent)
    {
        _memberClock.Witness(intent.LTime);
        if (!_peers.TryGetValue(intent.Node, out Peer? peer))
        {
            return UpsertIntent(intent.Node, intent.LTime, leave: false);
        }

        if (intent.LTime <= peer.StatusLTime)
        {
            return false;
        }

        peer.StatusLTime = intent.LTime;
        if (peer.Status == SerfMemberStatus.Leaving)
        {
            peer.Status = SerfMemberStatus.Alive;
        }

        return true;
    }

    // Serf's handleNodeLeaveIntent.
    private bool HandleLeaveIntent(IntentMessage intent)
    {
        _memberClock.Witness(intent.LTime);
        if (!_peers.TryGetValue(intent.Node, out Peer? peer))
        {
            return UpsertIntent(intent.Node, intent.LTime, leave: true);
        }

        if (intent.LTime <= peer.StatusLTime)
        {
            return false;
        }

        if (peer == _self && !_leaving)
        {
            // Someone says we are leaving and we are not: refute with a join intent at the current time.
            BroadcastJoinIntent();
            return false;
        }

        switch (peer.Status)
        {
            case SerfMemberStatus.Alive:
                peer.Status = SerfMemberStatus.Leaving;
                peer.StatusLTime = intent.LTime;
                return true;
            case SerfMemberStatus.Failed:
                peer.Status = SerfMemberStatus.Left;
                peer.StatusLTime = intent.LTime;
                RaiseMemberEvent(SerfMemberEventKind.Leave, peer);
                return true;
            default:
                return false;
        }
    }

    private bool UpsertIntent(string node, ulong lTime, bool leave)
    {
        if (_recentIntents.TryGetValue(node, out (ulong LTime, bool Leave) existing) && existing.LTime >= lTime)
        {
            return false;
        }

        if (_recentIntents.Count >= RecentIntentsMax && !_recentIntents.ContainsKey(node))
        {
            return false;
        }

        _recentIntents[node] = (lTime, leave);
        return true;
    }

    // memberlist told us of a join: Serf's handleNodeJoin.
    private void SerfJoined(Peer peer)
    {
        peer.Status = SerfMemberStatus.Alive;
        peer.LeftOrFailedAt = null;
        if (_recentIntents.Remove(peer.Name, out (ulong LTime, bool Leave) intent) && intent.LTime > peer.StatusLTime)
        {
            peer.StatusLTime = intent.LTime;
            if (intent.Leave)
            {
                peer.Status = SerfMemberStatus.Leaving;
            }
        }

        RaiseMemberEvent(SerfMemberEventKind.Join, peer);
    }

    // memberlist told us a member is dead or left: Serf's handleNodeLeave.
    private void SerfLeftOrFailed(Peer peer)
    {
        if (peer.Status == SerfMemberStatus.Leaving)
        {
            peer.Status = SerfMemberStatus.Left;
            peer.LeftOrFailedAt = Now;
            RaiseMemberEvent(SerfMemberEventKind.Leave, peer);
        }
        else if (peer.Status == SerfMemberStatus.Alive)
        {
            peer.Status = SerfMemberStatus.Failed;
            peer.LeftOrFailedAt = Now;
            RaiseMemberEvent(SerfMemberEventKind.Failed, peer);
        }
    }

    private void BroadcastJoinIntent()
    {
        IntentMessage intent = new(_memberClock.Time, _self.Name);
        _memberClock.Witness(intent.LTime);
        HandleJoinIntent(intent);
        _broadcasts.Enqueue(null, intent.EncodeJoin());
    }

    // Serf's handleUserEvent; true when the event was new (then delivered and re-broadcast).
    private bool HandleUserEvent(UserEventMessage message)
    {
        _eventClock.Witness(message.LTime);
        if (message.LTime < _eventMinTime)
        {
            return false;
        }

        ulong current = _eventClock.Time;
        if (current > EventBufferSize && message.LTime < current - EventBufferSize)
        {
            return false; // too old to tell whether it was seen
        }

        int index = (int)(message.LTime % EventBufferSize);
        RingSlot? slot = _eventRing[index];
        byte[] payload = message.Payload ?? [];
        if (slot is not null && slot.LTime == message.LTime)
        {
            if (slot.Events.Any(e => e.Name == message.Name && (e.Payload ?? []).AsSpan().SequenceEqual(payload)))
            {
                return false;
            }
        }
        else
        {
            slot = new RingSlot(message.LTime, []);
        }

        if (slot.Events.Count >= 64)
        {
            return false; // bounded: Serf keeps every event of a slot, we keep the first 64
        }

        _eventRing[index] = slot with { Events = [.. slot.Events, new RingEvent(message.Name, message.Payload)] };
        SerfUserEvent e = new(message.LTime, message.Name, payload, message.CC);
        Raise(() => UserEventReceived?.Invoke(e));
        return true;
    }

    /// <summary>Serf's limit on a query response's payload (QueryResponseSizeLimit).</summary>
    public const int QueryResponseSizeLimit = 1024;

    private const int SeenQueriesMax = 4096;
    private readonly HashSet<(ulong LTime, uint Id)> _seenQueries = [];
    private readonly Queue<(ulong LTime, uint Id)> _seenQueryOrder = new();

    /// <summary>
    /// Answers Serf queries addressed to this node (after its filters): return the response payload
    /// (at most <see cref="QueryResponseSizeLimit"/> bytes), or null for no response. Called on a
    /// thread-pool thread, not under the node's lock; names starting with <c>_serf_</c> are Serf's
    /// internal queries and never reach it. A query it returns null for is raised as
    /// <see cref="QueryReceived"/>.
    /// </summary>
    public Func<SerfQuery, byte[]?>? QueryHandler { get; set; }

    /// <summary>
    /// A query addressed to this node (after its filters) that <see cref="QueryHandler"/> did not
    /// answer, as Serf's agent hands queries to its event handlers: answer it (once, before its
    /// <see cref="SerfQuery.Deadline"/>) with <see cref="SerfQuery.Respond"/>. Raised on the node's
    /// thread: handlers must not block. Names starting with <c>_serf_</c> never reach it.
    /// </summary>
    public event Action<SerfQuery>? QueryReceived;

    // Serf's handleQuery: witness, dedupe by (LTime, ID), re-broadcast when new (unless the
    // no-broadcast flag), then, if the filters select this node, ack (when asked) and respond by
    // UDP straight to the asker. True when the query should be re-broadcast.
    private bool HandleQuery(QueryMessage query, TimeSpan now)
    {
        _ = now;
        _queryClock.Witness(query.LTime);
        if (!_seenQueries.Add((query.LTime, query.Id)))
        {
            return false;
        }

        _seenQueryOrder.Enqueue((query.LTime, query.Id));
        if (_seenQueryOrder.Count > SeenQueriesMax)
        {
            _seenQueries.Remove(_seenQueryOrder.Dequeue());
        }

        bool rebroadcast = (query.Flags & 2) == 0;
        if (_leaving || !SelectsThisNode(query.Filters) || ToAddress(query.Addr) is not { } address || query.Port == 0)
        {
            return rebroadcast;
        }

        IPEndPoint asker = new(address, query.Port);
        if ((query.Flags & 1) != 0)
        {
            Respond(asker, query, new QueryResponseMessage(query.LTime, query.Id, _self.Name, 1, null).Encode());
        }

        if (query.Name.StartsWith("_serf_", StringComparison.Ordinal))
        {
            // Serf's internal queries are answered by the node itself (the key queries and
            // _serf_conflict); _serf_ping needs only the ack.
            if (AnswerInternalQuery(query) is { } answer)
            {
                Respond(asker, query, new QueryResponseMessage(query.LTime, query.Id, _self.Name, 0, answer).Encode());
            }

            return rebroadcast;
        }

        SerfQuery request = new(query.Name, query.Payload ?? [], query.SourceNode, query.LTime)
        {
            Deadline = DateTimeOffset.UtcNow + TimeSpan.FromTicks(Math.Clamp(query.TimeoutNanoseconds / 100, 0, TimeSpan.FromMinutes(10).Ticks)),
            Responder = payload => SendQueryResponse(query, asker, payload),
        };
        Raise(() =>
        {
            if (QueryHandler?.Invoke(request) is { } payload)
            {
                if (request.Respond(payload) is not null)
                {
                    Counters.QueryResponsesTooLarge += payload.Length > QueryResponseSizeLimit ? 1 : 0;
                }

                return;
            }

            QueryReceived?.Invoke(request);
        });
        return rebroadcast;
    }

    // Serf's respondWithMessageAndResponse after the checks: straight to the asker by UDP, then
    // through RelayFactor others. Not under the lock (the relay takes it).
    private void SendQueryResponse(QueryMessage query, IPEndPoint asker, byte[] payload)
    {
        byte[] response = new QueryResponseMessage(query.LTime, query.Id, _options.Name, 0, payload).Encode();
        try
        {
            _udp.SendTo(_options.Keyring is { } keyring ? keyring.Encrypt(response, []) : response, asker);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or ArgumentException)
        {
            Counters.SendFailures++;
        }

        if (query.RelayFactor > 0)
        {
            Run(() => RelayResponse(query.RelayFactor, asker, query.SourceNode, response));
        }
    }

    // A response or ack straight to the asker, then relayed through RelayFactor others.
    private void Respond(IPEndPoint asker, QueryMessage query, byte[] response)
    {
        SendTo(asker, response);
        RelayResponse(query.RelayFactor, asker, query.SourceNode, response);
    }

    // Serf's relayResponse: only when there are at least relayFactor other members; a copy wrapped
    // in a relay header goes to up to relayFactor random alive members (memberlist PMax ≥ 5, not
    // this node), each of which sends it on to the asker. Under the lock.
    private void RelayResponse(byte relayFactor, IPEndPoint asker, string askerName, byte[] response)
    {
        if (relayFactor == 0 || _peers.Count < relayFactor + 1)
        {
            return;
        }

        byte[] relay = RelayMessage.Encode(asker, askerName, response);
        if (relay.Length - 1 > QueryResponseSizeLimit)
        {
            Counters.QueryResponsesTooLarge++;
            return;
        }

        foreach (Peer peer in RandomPeers(relayFactor, p => p.Status == SerfMemberStatus.Alive && p.ProtocolMax >= 5))
        {
            Counters.QueryRelaysSent++;
            SendTo(new IPEndPoint(peer.Address, peer.Port), relay);
        }
    }

    // Serf's shouldProcessQuery: every filter must select this node. Filter 0: node names; 1: a tag
    // matching a regular expression (Go's RE2; .NET's engine agrees on the common subset).
    private bool SelectsThisNode(IReadOnlyList<byte[]?> filters) => Selects(filters, _self.Name, _self.Tags);

    private static bool Selects(IReadOnlyList<byte[]?> filters, string name, IReadOnlyDictionary<string, string> tags)
    {
        foreach (byte[]? filter in filters)
        {
            if (filter is not { Length: > 0 })
            {
                return false;
            }

            ReadOnlyMemory<byte> body = filter.AsMemory(1);
            switch (filter[0])
            {
                case 0:
                    if (!GoMsgpack.TryDecode(body, out object? names, out _, out _) || names is not List<object?> list
                        || !list.Any(n => n is byte[] b && Encoding.UTF8.GetString(b) == name))
                    {
                        return false;
                    }

                    break;
                case 1:
                    if (!GoMsgpack.TryDecodeMap(body, out GoMap tagFilter, out _))
                    {
                        return false;
                    }

                    try
                    {
                        string value = tags.GetValueOrDefault(tagFilter.String("Tag")) ?? "";
                        if (!Regex.IsMatch(value, tagFilter.String("Expr"), RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100)))
                        {
                            return false;
                        }
                    }
                    catch (Exception e) when (e is FormatException or ArgumentException or RegexMatchTimeoutException)
                    {
                        return false;
                    }

                    break;
                default:
                    return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Sends a user event to the cluster (Serf's <c>UserEvent</c>): stamped with the event clock,
    /// delivered locally, then gossiped. <paramref name="coalesce"/> lets handlers batch it.
    /// </summary>
    public void SendUserEvent(string name, byte[] payload, bool coalesce = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (System.Text.Encoding.UTF8.GetByteCount(name) + payload.Length > UserEventSizeLimit)
        {
            throw new ArgumentException($"a user event's name and payload may have at most {UserEventSizeLimit} bytes together", nameof(payload));
        }

        Run(() =>
        {
            UserEventMessage message = new(_eventClock.Time, name, payload, coalesce);
            _eventClock.Increment();
            HandleUserEvent(message);
            _broadcasts.Enqueue(null, message.Encode());
            RequestImmediatePush();
        });
    }

    /// <summary>
    /// Leaves gracefully as Serf does: a leave intent first (so others mark this node leaving), then
    /// memberlist's dead-about-self (so they mark it left), each waited for until gossiped or
    /// <see cref="SerfNodeOptions.BroadcastTimeout"/>; then the sockets close.
    /// </summary>
    public async Task LeaveAsync(CancellationToken cancellationToken = default)
    {
        TaskCompletionSource intentSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
        bool anyone = false;
        Run(() =>
        {
            anyone = _peers.Values.Any(p => p != _self && p.State == MemberlistState.Alive);
            IntentMessage intent = new(_memberClock.Time, _self.Name);
            _memberClock.Increment();
            _leaving = true;
            HandleLeaveIntent(intent);
            _broadcasts.Enqueue(null, intent.EncodeLeave(), intentSent);
        });
        if (anyone)
        {
            await WaitBounded(intentSent.Task, cancellationToken);
            TaskCompletionSource deadSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
            Run(() =>
            {
                _leaveBroadcast = deadSent;
                HandleDead(new AccusationMessage(_self.Incarnation, _self.Name, _self.Name), Now);
                _leaveBroadcast = null;
            });
            await WaitBounded(deadSent.Task, cancellationToken);
        }

        await DisposeAsync();
    }

    private async Task WaitBounded(Task task, CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(_options.BroadcastTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Serf also gives up waiting after its broadcast timeout and leaves anyway.
        }
    }

    private SerfStateMessage LocalSerfState()
    {
        Dictionary<string, ulong> status = new(StringComparer.Ordinal);
        List<string> left = [];
        foreach (Peer peer in _peers.Values)
        {
            status[peer.Name] = peer.StatusLTime;
            if (peer.Status == SerfMemberStatus.Left)
            {
                left.Add(peer.Name);
            }
        }

        left.Sort(StringComparer.Ordinal);
        return new SerfStateMessage(_memberClock.Time, status, left, _eventClock.Time, [.. _eventRing], _queryClock.Time);
    }

    // Serf's MergeRemoteState.
    private void MergeSerfState(SerfStateMessage state, bool join)
    {
        if (state.LTime > 0)
        {
            _memberClock.Witness(state.LTime - 1);
        }

        if (state.EventLTime > 0)
        {
            _eventClock.Witness(state.EventLTime - 1);
        }

        if (state.QueryLTime > 0)
        {
            _queryClock.Witness(state.QueryLTime - 1);
        }

        HashSet<string> left = new(state.LeftMembers, StringComparer.Ordinal);
        foreach (string name in state.LeftMembers)
        {
            HandleLeaveIntent(new IntentMessage(state.StatusLTimes.TryGetValue(name, out ulong t) ? t : 0, name));
        }

        foreach (KeyValuePair<string, ulong> pair in state.StatusLTimes.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!left.Contains(pair.Key))
            {
                HandleJoinIntent(new IntentMessage(pair.Value, pair.Key));
            }
        }

        if (join && state.EventLTime > _eventMinTime)
        {
            // Joining without replay: events sent before the seed's current event time are history.
            _eventMinTime = state.EventLTime;
        }

        foreach (RingSlot? slot in state.Events)
        {
            if (slot is null)
            {
                continue;
            }

            foreach (RingEvent e in slot.Events)
            {
                HandleUserEvent(new UserEventMessage(slot.LTime, e.Name, e.Payload, false));
            }
        }
    }
}
