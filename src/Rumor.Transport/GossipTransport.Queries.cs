using System.Collections.Concurrent;
using Rumor.Core;
using Rumor.Core.Events;

namespace Rumor.Transport;

/// <summary>
/// Queries asked through the transport. The waiter of each query is completed on the loop, in
/// <see cref="PublishEvent"/>, when the node reports it done: not through the bounded
/// <see cref="Events"/> channel, whose reader may lag behind a load (or lose the oldest events), and
/// not by asking the node later, which keeps only QueriesMax results (the oldest finished ones are
/// forgotten first). Under 1,000 concurrent queries both of those let a finished query's caller time
/// out and find its result gone: the agent answered 500 (issue 13, <c>bench agent-load</c>).
/// </summary>
public sealed partial class GossipTransport
{
    /// <summary>How long past its timeout a query's caller waits for the node to report it done (a busy loop fires timers late).</summary>
    private static readonly TimeSpan QueryCompletionGrace = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<QueryResult>> _queryWaiters = new();

    /// <summary>
    /// Asks the cluster <paramref name="name"/> (the node's <c>Query</c>) and
    /// completes with the result when the node reports the query done: every expected member
    /// answered, or <paramref name="timeout"/> passed. The wait is bounded by the timeout plus one
    /// second (a loop too busy to fire the node's timer in time); past it the node's result as it
    /// stands is returned.
    /// </summary>
    /// <exception cref="ArgumentException">The node refused the query (its name, payload or filter).</exception>
    /// <exception cref="ObjectDisposedException">The transport stopped before the query completed.</exception>
    public async Task<QueryResult> QueryAsync(string name, byte[] payload, IReadOnlyDictionary<string, string>? tagFilter, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(payload);
        TaskCompletionSource<QueryResult> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        ulong id = await InvokeAsync(
            (node, now) =>
            {
                ulong started = node.Query(name, payload, tagFilter, timeout, now);
                if (node.GetQueryResult(started) is { Done: true } already)
                {
                    completion.TrySetResult(already);
                }
                else
                {
                    // On the loop, before the node can report it done: PublishEvent cannot miss it.
                    _queryWaiters[started] = completion;
                }

                return started;
            },
            cancellationToken).ConfigureAwait(false);

        try
        {
            return await completion.Task.WaitAsync(timeout + QueryCompletionGrace, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // On the loop, so the node cannot report the query between the two lines: either it still
            // knows the query, or it finished it earlier and PublishEvent completed the waiter.
            QueryResult? current = await InvokeAsync(
                node =>
                {
                    _queryWaiters.TryRemove(id, out _);
                    return node.GetQueryResult(id);
                },
                cancellationToken).ConfigureAwait(false);
            return current ?? (completion.Task.IsCompletedSuccessfully
                ? completion.Task.Result
                : throw new InvalidOperationException($"Query {id} is no longer known to the node and was not reported done."));
        }
        catch (OperationCanceledException)
        {
            _queryWaiters.TryRemove(id, out _);
            throw;
        }
    }

    /// <summary>On the loop: a finished query's waiter gets its result.</summary>
    private void CompleteQueryWaiter(QueryCompleted completed)
    {
        if (_queryWaiters.TryRemove(completed.Result.Id, out TaskCompletionSource<QueryResult>? waiter))
        {
            waiter.TrySetResult(completed.Result);
        }
    }

    /// <summary>After the loop stopped: the queries still waiting will never complete.</summary>
    private void FailQueryWaiters()
    {
        foreach (ulong id in _queryWaiters.Keys)
        {
            if (_queryWaiters.TryRemove(id, out TaskCompletionSource<QueryResult>? waiter))
            {
                waiter.TrySetException(new ObjectDisposedException(nameof(GossipTransport), "The transport stopped before the query completed."));
            }
        }
    }
}
