using System.Collections.Concurrent;
using MessagePack;
using Rumor.Serf.Wire;

namespace Rumor.Serf;

// Queries this node asks (Serf's Serf.Query): stamped with the query clock and a random ID,
// handled locally first (so this node answers its own query, as Serf does), then gossiped; the
// acks and answers come straight back by UDP as query responses (and again through relays when
// the query asks for a relay factor) and are collected, one per member, until the timeout or
// until every expected member answered. At most PendingQueriesMax run at once.
public sealed partial class SerfNode
{
    /// <summary>Serf's QuerySizeLimit: an encoded query may have at most this many bytes.</summary>
    public const int QuerySizeLimit = 1024;

    private const int PendingQueriesMax = 64;
    private readonly Dictionary<(ulong LTime, uint Id), PendingQuery> _pendingQueries = [];

    /// <summary>
    /// Serf's DefaultQueryTimeout: GossipInterval × QueryTimeoutMult × ⌈log10(N + 1)⌉, N the members
    /// memberlist counts (not dead, not left, this node included).
    /// </summary>
    public TimeSpan DefaultQueryTimeout
    {
        get
        {
            int n;
            lock (_gate)
            {
                n = _peers.Values.Count(p => p.State is not (MemberlistState.Dead or MemberlistState.Left));
            }

            return _options.GossipInterval * _options.QueryTimeoutMult * Math.Ceiling(Math.Log10(n + 1));
        }
    }

    /// <summary>
    /// Asks the cluster a query and collects the responses (not the acks): until
    /// <paramref name="timeout"/>, or sooner once every member named in <paramref name="expected"/>
    /// has responded. Names starting with <c>_serf_</c> are Serf's internal queries (key queries
    /// among them). Throws <see cref="InvalidOperationException"/> when too many queries are running.
    /// </summary>
    public async Task<IReadOnlyList<SerfQueryResponse>> QueryAsync(string name, byte[] payload, TimeSpan timeout, IReadOnlyCollection<string>? expected = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(payload);
        SerfQueryResult result = await QueryAsync(new SerfQueryParameters(name, payload) { Timeout = timeout, RequestAck = false }, expected, cancellationToken).ConfigureAwait(false);
        return result.Responses;
    }

    /// <summary>
    /// Asks the cluster a query as <c>serf query</c> does: filtered by node names and tag
    /// expressions (Go regular expressions, unanchored, as Serf matches them), acks requested unless
    /// turned off, answers relayed through <see cref="SerfQueryParameters.RelayFactor"/> other
    /// members, waiting <see cref="SerfQueryParameters.Timeout"/> or <see cref="DefaultQueryTimeout"/>
    /// — or less, once every alive member the filters select has responded. Throws
    /// <see cref="ArgumentException"/> for a query over <see cref="QuerySizeLimit"/> bytes and
    /// <see cref="InvalidOperationException"/> when too many queries are running or this node is leaving.
    /// </summary>
    public Task<SerfQueryResult> QueryAsync(SerfQueryParameters parameters, CancellationToken cancellationToken = default) =>
        QueryAsync(parameters, null, cancellationToken);

    private async Task<SerfQueryResult> QueryAsync(SerfQueryParameters parameters, IReadOnlyCollection<string>? expectedOverride, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrEmpty(parameters.Name);
        ArgumentNullException.ThrowIfNull(parameters.Payload);
        List<byte[]?> filters = Filters(parameters);
        TimeSpan timeout = parameters.Timeout is { } t && t > TimeSpan.Zero ? t : DefaultQueryTimeout;
        PendingQuery? pending = null;
        (ulong LTime, uint Id) key = default;
        bool tooLarge = false;
        Run(() =>
        {
            if (_pendingQueries.Count >= PendingQueriesMax || _leaving)
            {
                return;
            }

            QueryMessage query = new(_queryClock.Time, (uint)_random.NextInt64(uint.MaxValue + 1L), AdvertisedAddress.GetAddressBytes(), (ushort)EndPoint.Port,
                _self.Name, filters, parameters.RequestAck ? 1u : 0u, parameters.RelayFactor, (long)(timeout.TotalMilliseconds * 1_000_000), parameters.Name, parameters.Payload);
            byte[] encoded = query.Encode();
            if (encoded.Length - 1 > QuerySizeLimit)
            {
                tooLarge = true;
                return;
            }

            IEnumerable<string> expected = expectedOverride ?? _peers.Values
                .Where(p => p.Status == SerfMemberStatus.Alive && Selects(filters, p.Name, p.Tags)).Select(p => p.Name);
            pending = new PendingQuery(new HashSet<string>(expected, StringComparer.Ordinal));
            _queryClock.Increment();
            key = (query.LTime, query.Id);
            _pendingQueries[key] = pending;
            if (HandleQuery(query, Now))
            {
                _broadcasts.Enqueue(null, encoded);
                RequestImmediatePush();
            }
        });
        if (tooLarge)
        {
            throw new ArgumentException($"the query exceeds Serf's limit of {QuerySizeLimit} bytes encoded", nameof(parameters));
        }

        if (pending is null)
        {
            throw new InvalidOperationException($"cannot start a query: {PendingQueriesMax} are running or this node is leaving");
        }

        try
        {
            await pending.Done.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            Run(() => _pendingQueries.Remove(key));
        }

        return new SerfQueryResult(key.LTime, key.Id, timeout, [.. pending.Expected.Order(StringComparer.Ordinal)],
            [.. pending.Acks.Keys.Order(StringComparer.Ordinal)], [.. pending.Responses.Values.OrderBy(r => r.From, StringComparer.Ordinal)],
            new Dictionary<string, int>(pending.Copies, StringComparer.Ordinal));
    }

    // Serf's Query: a node filter [0] + msgpack [names] when names are given, then one tag filter
    // [1] + msgpack {Tag, Expr} per tag.
    private static List<byte[]?> Filters(SerfQueryParameters parameters)
    {
        List<byte[]?> filters = [];
        if (parameters.Nodes is { Count: > 0 } nodes)
        {
            filters.Add(WireBuilder.Build([0], (ref MessagePackWriter w) =>
            {
                w.WriteArrayHeader(nodes.Count);
                foreach (string node in nodes)
                {
                    GoMsgpack.WriteString(ref w, node);
                }
            }));
        }

        foreach ((string tag, string expression) in parameters.Tags ?? new Dictionary<string, string>())
        {
            filters.Add(WireBuilder.Build([1], (ref MessagePackWriter w) =>
            {
                w.WriteMapHeader(2);
                GoMsgpack.WriteString(ref w, "Tag");
                GoMsgpack.WriteString(ref w, tag);
                GoMsgpack.WriteString(ref w, "Expr");
                GoMsgpack.WriteString(ref w, expression);
            }));
        }

        return filters;
    }

    private void HandleQueryResponse(QueryResponseMessage response)
    {
        if (!_pendingQueries.TryGetValue((response.LTime, response.Id), out PendingQuery? pending))
        {
            return; // the answer to a query we no longer wait for
        }

        if ((response.Flags & 1) != 0)
        {
            if (pending.Acks.Count >= MembersMaxForQuery || !pending.Acks.TryAdd(response.From, 0))
            {
                Counters.QueryResponsesDuplicate++;
            }

            return;
        }

        if (pending.Copies.Count < MembersMaxForQuery || pending.Copies.ContainsKey(response.From))
        {
            pending.Copies.AddOrUpdate(response.From, 1, (_, n) => n + 1);
        }

        if (pending.Responses.Count >= MembersMaxForQuery || !pending.Responses.TryAdd(response.From, new SerfQueryResponse(response.From, response.Payload ?? [])))
        {
            Counters.QueryResponsesDuplicate++;
            return;
        }

        if (pending.Expected.Count > 0 && pending.Expected.All(pending.Responses.ContainsKey))
        {
            pending.Done.TrySetResult();
        }
    }

    private int MembersMaxForQuery => _options.MembersMax;

    private sealed class PendingQuery(HashSet<string> expected)
    {
        public HashSet<string> Expected { get; } = expected;

        public ConcurrentDictionary<string, byte> Acks { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, SerfQueryResponse> Responses { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, int> Copies { get; } = new(StringComparer.Ordinal);

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>A query as <c>serf query</c> asks it.</summary>
/// <param name="Name">The query's name (<c>_serf_</c> names are Serf's internal queries).</param>
/// <param name="Payload">Its payload.</param>
public sealed record SerfQueryParameters(string Name, byte[] Payload)
{
    /// <summary>Only these members answer (Serf's <c>-node</c>); null or empty: no node filter.</summary>
    public IReadOnlyList<string>? Nodes { get; init; }

    /// <summary>Only members whose tag matches each expression answer (Serf's <c>-tag k=regexp</c>, unanchored).</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>Ask for acks (Serf's default; <c>serf query -no-ack</c> turns it off).</summary>
    public bool RequestAck { get; init; } = true;

    /// <summary>Serf's relay factor: each responder also sends its answer through this many other members (0 to 5 in Serf's CLI).</summary>
    public byte RelayFactor { get; init; }

    /// <summary>How long to collect answers; null: <see cref="SerfNode.DefaultQueryTimeout"/>.</summary>
    public TimeSpan? Timeout { get; init; }
}

/// <summary>What a query collected: who acked and who answered, each once however many copies came.</summary>
/// <param name="LTime">The query's Lamport time.</param>
/// <param name="Id">Its random ID.</param>
/// <param name="Timeout">How long it waited at most.</param>
/// <param name="Expected">The alive members its filters selected when it started (this node included when selected).</param>
/// <param name="Acks">Members that acked.</param>
/// <param name="Responses">The answers.</param>
/// <param name="ResponseCopies">How many copies of each member's answer arrived: 1 direct, more through relays.</param>
public sealed record SerfQueryResult(ulong LTime, uint Id, TimeSpan Timeout, IReadOnlyList<string> Expected, IReadOnlyList<string> Acks, IReadOnlyList<SerfQueryResponse> Responses,
    IReadOnlyDictionary<string, int> ResponseCopies);
