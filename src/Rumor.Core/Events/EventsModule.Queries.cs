using Rumor.Core.Dissemination;
using Rumor.Core.Membership;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Events;

/// <summary>
/// Queries (Serf's): a request spread like a user event (broadcast class Events, deduplicated by
/// (asker, generation, id), expiring from the queue at its deadline); every member whose tags match
/// the filter reports <see cref="QueryReceived"/> once and may answer once, directly to the asker in
/// one datagram. The asker expects the members alive and matching when it asked, collects answers
/// until all of them answered or the timeout passed, then reports <see cref="QueryCompleted"/> with
/// who is missing. Queries carry a relative timeout (members share no clock): each member's deadline
/// is its receipt time plus the timeout, so a late relay errs on the late side, never early.
/// </summary>
internal sealed partial class EventsModule
{
    private readonly Dictionary<ulong, PendingQuery> _queries = [];
    private readonly Queue<ulong> _queryOrder = new();
    private readonly Dictionary<(string Asker, ulong Generation, ulong Id), SeenQuery> _seenQueries = [];
    private ulong _querySequence;

    /// <summary>
    /// Optional automatic responder, called on the node's loop for every matching query after
    /// <see cref="QueryReceived"/> is reported: a non-null result is sent as this node's answer. A
    /// result too large for a response is not sent (counted as QueryResponsesRefused).
    /// </summary>
    public Func<QueryRequest, byte[]?>? QueryResponder { get; set; }

    // Our own queries need no round (their timeouts are timers); others' are pruned by it.
    private bool HasQueryWork => _seenQueries.Count > 0;

    /// <summary>
    /// Asks every member whose tags match <paramref name="tagFilter"/> (all members when null or
    /// empty), this node included. Returns the local query id for <see cref="GetQueryResult"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A name, payload, filter or timeout outside its limit (the message names the option).</exception>
    /// <exception cref="InvalidOperationException">QueriesMax queries are still pending.</exception>
    public ulong Query(string name, byte[] payload, IReadOnlyDictionary<string, string>? tagFilter, TimeSpan timeout, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(payload);
        CheckEventName(name, nameof(name));
        if (payload.Length > _options.QueryPayloadMaxBytes)
        {
            throw new ArgumentException($"The query payload is {payload.Length} bytes; QueryPayloadMaxBytes allows {_options.QueryPayloadMaxBytes}.", nameof(payload));
        }

        IReadOnlyDictionary<string, string> filter = tagFilter ?? new Dictionary<string, string>(StringComparer.Ordinal);
        byte[] filterBytes = filter.Count == 0 ? [] : MemberTags.Encode(filter.OrderBy(t => t.Key, StringComparer.Ordinal));
        if (filterBytes.Length > _options.QueryFilterMaxBytes)
        {
            throw new ArgumentException($"The tag filter is {filterBytes.Length} bytes encoded; QueryFilterMaxBytes allows {_options.QueryFilterMaxBytes}.", nameof(tagFilter));
        }

        if (timeout <= TimeSpan.Zero || timeout > _options.QueryTimeoutMax || timeout.TotalMilliseconds < 1)
        {
            throw new ArgumentException($"The query timeout is {timeout}; it must be from 1 ms to QueryTimeoutMax ({_options.QueryTimeoutMax}).", nameof(timeout));
        }

        if (!_node.Enter(now))
        {
            throw new InvalidOperationException("The node is stopped.");
        }

        int pending = 0;
        foreach (PendingQuery query in _queries.Values)
        {
            pending += query.Done ? 0 : 1;
        }

        if (pending >= _options.QueriesMax)
        {
            throw new InvalidOperationException($"{pending} queries are pending; QueriesMax allows {_options.QueriesMax}. Wait for some to complete.");
        }

        QueryMessage message = new(Self.Name, Self.Generation, _querySequence + 1, _lamport.Time + 1, Self.Address, (uint)Math.Ceiling(timeout.TotalMilliseconds), name, filterBytes, payload);
        CheckFitsDatagram(1 + message.PayloadLength, "query", nameof(payload));
        List<string> expected = [];
        foreach (Member member in _node.Members)
        {
            if (member.State == MemberState.Alive && MemberTags.Matches(member.Metadata, filter))
            {
                expected.Add(member.Name);
            }
        }

        expected.Sort(StringComparer.Ordinal);
        ulong id = ++_querySequence;
        TimeSpan deadline = now + timeout;
        PendingQuery pendingQuery = new(id, name, expected, deadline);
        _queries[id] = pendingQuery;
        _queryOrder.Enqueue(id);
        ForgetOldQueryResults();
        Counters.QueriesSent++;

        message = message with { Id = id, LamportTime = _lamport.Tick() };
        _timers.Schedule(deadline, new EventTimer(EventTimerKind.QueryTimeout, QueryId: id));
        AcceptQuery(message, now);
        if (expected.Count == 0)
        {
            CompleteQuery(pendingQuery, now);
        }

        return id;
    }

    /// <summary>The state of one of our queries, or null when the id is unknown or already forgotten (QueriesMax results are kept).</summary>
    public QueryResult? GetQueryResult(ulong id) => _queries.TryGetValue(id, out PendingQuery? query) ? query.Snapshot() : null;

    /// <summary>
    /// Answers a query this node received (from <see cref="QueryReceived"/>). Returns false when the
    /// query's deadline has passed (nothing is sent).
    /// </summary>
    /// <exception cref="ArgumentException">The payload is larger than QueryResponseMaxBytes (a response is one datagram; send a larger answer another way, e.g. a key of the replicated state, and answer with its name).</exception>
    /// <exception cref="InvalidOperationException">This node did not receive the query, no longer tracks it, or already answered it.</exception>
    public bool RespondToQuery(QueryRequest request, byte[] payload, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(payload);
        if (payload.Length > _options.QueryResponseMaxBytes)
        {
            throw new ArgumentException($"The response is {payload.Length} bytes; QueryResponseMaxBytes allows {_options.QueryResponseMaxBytes} (a response is one datagram).", nameof(payload));
        }

        QueryResponseMessage response = new(request.AskerGeneration, request.Id, Self.Name, payload);
        CheckFitsDatagram(1 + response.PayloadLength, "query response", nameof(payload));
        if (!_node.Enter(now))
        {
            return false;
        }

        if (!_seenQueries.TryGetValue((request.Asker, request.AskerGeneration, request.Id), out SeenQuery? seen) || seen.Request is null)
        {
            throw new InvalidOperationException($"Query {request.Id} from {request.Asker} was not received by this node, did not match its tags, or is forgotten.");
        }

        if (seen.Answered)
        {
            throw new InvalidOperationException($"Query {request.Id} from {request.Asker} has already been answered; each member answers once.");
        }

        if (now > seen.Request.Deadline)
        {
            return false;
        }

        seen.Answered = true;
        Counters.QueryResponsesSent++;
        if (string.Equals(request.Asker, Self.Name, StringComparison.Ordinal) && request.AskerGeneration == Self.Generation)
        {
            AcceptQueryResponse(response, now);
        }
        else
        {
            byte[] packet = PacketBuilder.EncodeSingle(response);
            _node.SendPacket(seen.AskerAddress, packet);
            if (_options.QueryResponseCopies > 1)
            {
                _timers.Schedule(now + _options.GossipInterval, new EventTimer(EventTimerKind.ResponseCopy, Copy: new ResponseCopy(seen, packet, _options.QueryResponseCopies - 1)));
            }
        }

        return true;
    }

    /// <summary>Sends one more copy of a response (the asker ignores all but the first it receives), while the deadline holds.</summary>
    private void SendResponseCopy(ResponseCopy copy, TimeSpan now)
    {
        if (now > copy.Query.Deadline)
        {
            return;
        }

        _node.SendPacket(copy.Query.AskerAddress, copy.Packet);
        if (copy.Left > 1)
        {
            _timers.Schedule(now + _options.GossipInterval, new EventTimer(EventTimerKind.ResponseCopy, Copy: copy with { Left = copy.Left - 1 }));
        }
    }

    private void AcceptQuery(in QueryMessage message, TimeSpan now, NodeAddress? from = null)
    {
        (string, ulong, ulong) key = (message.Asker, message.AskerGeneration, message.Id);
        if (_seenQueries.ContainsKey(key))
        {
            return;
        }

        bool fromSelf = string.Equals(message.Asker, Self.Name, StringComparison.Ordinal) && message.AskerGeneration == Self.Generation;
        if (!fromSelf)
        {
            if (message.LamportTime > LamportClock.TimeMax)
            {
                Counters.OutOfBoundsRefused++;
                return;
            }

            _lamport.Witness(message.LamportTime);
        }

        TimeSpan deadline = now + TimeSpan.FromMilliseconds(message.TimeoutMs);
        IReadOnlyList<KeyValuePair<string, string>> tags = MemberTags.Decode(message.Filter);
        Dictionary<string, string> filter = new(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> tag in tags)
        {
            filter[tag.Key] = tag.Value;
        }

        SeenQuery seen = new(deadline, message.AskerAddress);
        RememberQuery(key, seen);
        EnsureEventRound(now);
        _node.QueueBroadcast(null, PacketBuilder.EncodeMessage(message), BroadcastClass.Events, deadline, learnedFrom: from);
        if (_options.EventImmediatePush)
        {
            // As for events: out to the fanout now. Waiting for the next round let the piggybacks
            // of probes and acks to one member use up the query's few transmissions (2 with the
            // local preset at 3 members), and another member never heard it.
            _node.RequestPushRound(now);
        }

        if (_node.IsLeaving || !MemberTags.Matches(Self.Metadata, filter))
        {
            return;
        }

        // No reflection: we answer only at the address the cluster knows for the asker, so a forged
        // query naming a victim's address cannot turn every member into an amplifier. (Relayed all
        // the same: members that know the asker answer it.)
        if (!fromSelf && (_node.FindMember(message.Asker) is not { } asker || asker.Address != message.AskerAddress || asker.Generation != message.AskerGeneration))
        {
            Counters.ReflectionsRefused++;
            return;
        }

        QueryRequest request = new(message.Asker, message.AskerGeneration, message.Id, message.Name, message.Payload, filter, message.LamportTime, deadline);
        seen.Request = request;
        Counters.QueriesReceived++;
        _node.Emit(new QueryReceived(now, request));
        if (QueryResponder is { } responder && !seen.Answered && responder(request) is { } answer)
        {
            try
            {
                RespondToQuery(request, answer, now);
            }
            catch (ArgumentException)
            {
                // An oversized automatic answer must not break the receive path of the packet that
                // carried the query: counted, and the asker sees this member as missing.
                Counters.QueryResponsesRefused++;
            }
        }
    }

    private void RememberQuery((string, ulong, ulong) key, SeenQuery seen)
    {
        if (_seenQueries.Count >= _options.QueriesMax)
        {
            // Forget the one with the earliest deadline (ties: the smallest key), counted.
            KeyValuePair<(string Asker, ulong Generation, ulong Id), SeenQuery>? victim = null;
            foreach (KeyValuePair<(string Asker, ulong Generation, ulong Id), SeenQuery> pair in _seenQueries)
            {
                if (victim is null || pair.Value.Deadline < victim.Value.Value.Deadline
                    || (pair.Value.Deadline == victim.Value.Value.Deadline && CompareQueryKeys(pair.Key, victim.Value.Key) < 0))
                {
                    victim = pair;
                }
            }

            _seenQueries.Remove(victim!.Value.Key);
            Counters.QueriesForgottenEarly++;
        }

        _seenQueries[key] = seen;
    }

    private static int CompareQueryKeys((string Asker, ulong Generation, ulong Id) a, (string Asker, ulong Generation, ulong Id) b)
    {
        int c = string.CompareOrdinal(a.Asker, b.Asker);
        if (c == 0)
        {
            c = a.Generation.CompareTo(b.Generation);
        }

        return c != 0 ? c : a.Id.CompareTo(b.Id);
    }

    private void AcceptQueryResponse(in QueryResponseMessage response, TimeSpan now)
    {
        if (response.AskerGeneration != Self.Generation || !_queries.TryGetValue(response.QueryId, out PendingQuery? query)
            || query.Done || !query.Add(response.Responder, response.Payload, now))
        {
            Counters.QueryResponsesIgnored++;
            return;
        }

        Counters.QueryResponsesReceived++;
        if (query.AllAnswered)
        {
            CompleteQuery(query, now);
        }
    }

    private void QueryTimeout(ulong id, TimeSpan now)
    {
        if (_queries.TryGetValue(id, out PendingQuery? query) && !query.Done)
        {
            CompleteQuery(query, now);
        }
    }

    private void CompleteQuery(PendingQuery query, TimeSpan now)
    {
        query.Done = true;
        _node.Emit(new QueryCompleted(now, query.Snapshot()));
    }

    /// <summary>Keeps at most QueriesMax of our queries; the oldest finished ones go first.</summary>
    private void ForgetOldQueryResults()
    {
        int guard = _queryOrder.Count;
        while (_queries.Count > _options.QueriesMax && guard-- > 0)
        {
            ulong oldest = _queryOrder.Dequeue();
            if (_queries.TryGetValue(oldest, out PendingQuery? query) && !query.Done)
            {
                _queryOrder.Enqueue(oldest);
                continue;
            }

            _queries.Remove(oldest);
        }
    }

    private void PruneQueries(TimeSpan now)
    {
        if (_seenQueries.Count == 0)
        {
            return;
        }

        List<(string, ulong, ulong)> expired = [];
        foreach (KeyValuePair<(string Asker, ulong Generation, ulong Id), SeenQuery> pair in _seenQueries)
        {
            // Kept a retention past the deadline, so that a late relayed copy is still recognised.
            if (now - pair.Value.Deadline > _options.EventRetention)
            {
                expired.Add(pair.Key);
            }
        }

        foreach ((string, ulong, ulong) key in expired)
        {
            _seenQueries.Remove(key);
        }
    }

    /// <summary>Copies of a response still to send.</summary>
    private sealed record ResponseCopy(SeenQuery Query, byte[] Packet, int Left);

    /// <summary>A query seen from anyone (ourselves included): for deduplication and for answering once.</summary>
    private sealed class SeenQuery(TimeSpan deadline, NodeAddress askerAddress)
    {
        public TimeSpan Deadline { get; } = deadline;

        public NodeAddress AskerAddress { get; } = askerAddress;

        /// <summary>Set when this node matched the filter.</summary>
        public QueryRequest? Request { get; set; }

        public bool Answered { get; set; }
    }

    /// <summary>One of our own queries.</summary>
    private sealed class PendingQuery(ulong id, string name, List<string> expected, TimeSpan deadline)
    {
        private readonly HashSet<string> _answered = new(StringComparer.Ordinal);
        private readonly HashSet<string> _expected = new(expected, StringComparer.Ordinal);
        private readonly List<QueryAnswer> _responses = [];
        private int _expectedAnswered;

        public bool Done { get; set; }

        public bool AllAnswered => _expectedAnswered == _expected.Count;

        public bool Add(string from, byte[] payload, TimeSpan now)
        {
            if (!_answered.Add(from))
            {
                return false;
            }

            _expectedAnswered += _expected.Contains(from) ? 1 : 0;
            _responses.Add(new QueryAnswer(from, payload, now));
            return true;
        }

        public QueryResult Snapshot()
        {
            List<string> missing = [];
            foreach (string member in expected)
            {
                if (!_answered.Contains(member))
                {
                    missing.Add(member);
                }
            }

            return new QueryResult(id, name, expected.ToArray(), _responses.ToArray(), missing, Done, deadline);
        }
    }
}
