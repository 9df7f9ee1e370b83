using System.Collections.Concurrent;
using Rumor.Serf.Wire;

namespace Rumor.Serf;

// Queries this node asks (Serf's Serf.Query): stamped with the query clock and a random ID,
// handled locally first (so this node answers its own query, as Serf does), then gossiped; the
// answers come straight back by UDP as query responses and are collected until the timeout or
// until every expected member answered. At most PendingQueriesMax run at once.
public sealed partial class SerfNode
{
    private const int PendingQueriesMax = 64;
    private readonly Dictionary<(ulong LTime, uint Id), PendingQuery> _pendingQueries = [];

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
        PendingQuery pending = new(expected is null ? null : new HashSet<string>(expected, StringComparer.Ordinal));
        (ulong LTime, uint Id) key = default;
        bool started = false;
        Run(() =>
        {
            if (_pendingQueries.Count >= PendingQueriesMax || _leaving)
            {
                return;
            }

            QueryMessage query = new(_queryClock.Time, (uint)_random.NextInt64(uint.MaxValue + 1L), AdvertisedAddress.GetAddressBytes(), (ushort)EndPoint.Port,
                _self.Name, [], 0, 0, (long)(timeout.TotalMilliseconds * 1_000_000), name, payload);
            _queryClock.Increment();
            key = (query.LTime, query.Id);
            _pendingQueries[key] = pending;
            started = true;
            if (HandleQuery(query, Now))
            {
                _broadcasts.Enqueue(null, query.Encode());
            }
        });
        if (!started)
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

        return [.. pending.Responses.Values];
    }

    private void HandleQueryResponse(QueryResponseMessage response)
    {
        if ((response.Flags & 1) != 0 || !_pendingQueries.TryGetValue((response.LTime, response.Id), out PendingQuery? pending))
        {
            return; // an ack, or the answer to a query we no longer wait for
        }

        if (pending.Responses.Count < MembersMaxForQuery && pending.Responses.TryAdd(response.From, new SerfQueryResponse(response.From, response.Payload ?? [])))
        {
            if (pending.Expected is { } expected && expected.All(pending.Responses.ContainsKey))
            {
                pending.Done.TrySetResult();
            }
        }
    }

    private int MembersMaxForQuery => _options.MembersMax;

    private sealed class PendingQuery(HashSet<string>? expected)
    {
        public HashSet<string>? Expected { get; } = expected;

        public ConcurrentDictionary<string, SerfQueryResponse> Responses { get; } = new(StringComparer.Ordinal);

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
