using System.Diagnostics;
using Rumor.Core;
using Rumor.Core.Events;
using Rumor.Transport;

namespace Rumor.Hosting;

/// <summary>One user event this node delivered, with the wall-clock time it arrived here.</summary>
/// <param name="Event">The event.</param>
/// <param name="ReceivedAt">When this node delivered it.</param>
public sealed record ReceivedUserEvent(UserEvent Event, DateTimeOffset ReceivedAt);

// User events and queries through the node's loop.
public sealed partial class RumorNode
{
    /// <summary>How many delivered events <see cref="GetRecentEvents"/> keeps.</summary>
    public const int RecentEventsMax = 1024;

    private readonly Queue<ReceivedUserEvent> _recentEvents = new();
    private readonly Lock _recentEventsLock = new();

    /// <summary>
    /// Broadcasts a user event to every member (this one included). Throws <see cref="ArgumentException"/>
    /// when the name or payload is over its limit (the message names the option).
    /// </summary>
    public Task<UserEvent> SendEventAsync(string name, byte[] payload, bool coalesce = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(payload);
        return Transport.InvokeAsync((node, now) => node.SendEvent(name, payload, now, coalesce), cancellationToken);
    }

    /// <summary>The most recent user events this node delivered (at most <paramref name="limit"/>), in Lamport order.</summary>
    public IReadOnlyList<ReceivedUserEvent> GetRecentEvents(int limit = 100)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        lock (_recentEventsLock)
        {
            return [.. _recentEvents.Skip(Math.Max(0, _recentEvents.Count - limit))
                .OrderBy(e => e.Event.LamportTime)
                .ThenBy(e => e.Event.Id.Origin, StringComparer.Ordinal)
                .ThenBy(e => e.Event.Id.Sequence)];
        }
    }

    /// <summary>
    /// Asks every member (or those whose tags match <paramref name="tagFilter"/>) and waits until all
    /// expected members answered or <paramref name="timeout"/> passed; the result names who did not answer.
    /// Throws <see cref="ArgumentException"/> for a name, payload or timeout over its limit.
    /// </summary>
    /// <remarks>
    /// Waits on the node's own <see cref="QueryCompleted"/> event, which it reports when the last
    /// expected answer arrives or at its deadline. The waiter is registered on the loop in the same
    /// step that starts the query, so no completion can slip past it. Should the event be lost (the
    /// transport's event queue dropped it), the wait gives up one second after the deadline and
    /// reads the query's state instead.
    /// </remarks>
    public async Task<QueryResult> QueryAsync(string name, byte[] payload, IReadOnlyDictionary<string, string>? tagFilter, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(payload);
        GossipTransport transport = Transport;
        using Activity? activity = RumorActivities.StartQuery(transport.Name, name, timeout);
        try
        {
            TaskCompletionSource<QueryResult> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
            ulong id = await transport.InvokeAsync(
                (node, now) =>
                {
                    ulong started = node.Query(name, payload, tagFilter, timeout, now);
                    _pendingQueries[started] = completion;
                    if (node.GetQueryResult(started) is { Done: true } already)
                    {
                        _pendingQueries.TryRemove(started, out _);
                        completion.TrySetResult(already);
                    }

                    return started;
                },
                cancellationToken).ConfigureAwait(false);

            QueryResult result;
            try
            {
                result = await completion.Task.WaitAsync(timeout + TimeSpan.FromSeconds(1), _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _pendingQueries.TryRemove(id, out _);
                result = await transport.InvokeAsync(node => node.GetQueryResult(id), cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"Query {id} is no longer known to the node.");
            }
            catch (OperationCanceledException)
            {
                _pendingQueries.TryRemove(id, out _);
                throw;
            }

            RumorActivities.Answered(activity, result);
            return result;
        }
        catch (Exception e)
        {
            RumorActivities.Failed(activity, e);
            throw;
        }
    }

    private void RecordEvent(UserEvent userEvent)
    {
        lock (_recentEventsLock)
        {
            _recentEvents.Enqueue(new ReceivedUserEvent(userEvent, _time.GetUtcNow()));
            while (_recentEvents.Count > RecentEventsMax)
            {
                _recentEvents.Dequeue();
            }
        }
    }
}

// Cluster aggregates through the node's loop.
public sealed partial class RumorNode
{
    /// <summary>
    /// The cluster-wide aggregate of the numeric key <paramref name="key"/> as this node estimates it,
    /// starting the aggregate here first when it does not run yet (every member then joins it as its
    /// messages arrive, so the first answers are partial until <see cref="AggregateEstimate.Converged"/>).
    /// Throws <see cref="ArgumentException"/> for a key the state would refuse or past AggregatesMax.
    /// </summary>
    public Task<AggregateEstimate> GetAggregateAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Transport.InvokeAsync((node, now) =>
        {
            if (node.GetAggregate(key) is null)
            {
                node.StartAggregate(key, now);
            }

            return node.GetAggregate(key) ?? throw new InvalidOperationException($"The aggregate of '{key}' did not start.");
        }, cancellationToken);
    }

    /// <summary>The keys aggregated at this node.</summary>
    public Task<IReadOnlyList<string>> GetAggregateKeysAsync(CancellationToken cancellationToken = default) =>
        Transport.InvokeAsync<IReadOnlyList<string>>(node => [.. node.Aggregates], cancellationToken);
}
