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
    /// expected answer arrives or at its deadline; the transport completes the wait on its loop
    /// (<see cref="GossipTransport.QueryAsync"/>), not through the bounded event channel, whose reader
    /// lags under load and may drop events. The waiter is registered on the loop in the same step that
    /// starts the query, so no completion can slip past it. Should the loop be too busy to report it
    /// in time, the wait gives up one second after the deadline and reads the query's state instead.
    /// </remarks>
    public async Task<QueryResult> QueryAsync(string name, byte[] payload, IReadOnlyDictionary<string, string>? tagFilter, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(payload);
        GossipTransport transport = Transport;
        using Activity? activity = RumorActivities.StartQuery(transport.Name, name, timeout);
        try
        {
            QueryResult result;
            try
            {
                // The transport completes the wait on its loop when the node reports the query done.
                result = await transport.QueryAsync(name, payload, tagFilter, timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException e)
            {
                throw new RumorNodeNotRunningException("The Rumor node stopped before the query completed.", e);
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

/// <summary>One aggregate as this node sees it, with the time left until it ends by itself.</summary>
/// <param name="Estimate">This node's estimate.</param>
/// <param name="RemainingLifetime">How long until it ends by itself on every member (null: it runs until stopped).</param>
public sealed record AggregateReading(AggregateEstimate Estimate, TimeSpan? RemainingLifetime);

// Cluster aggregates through the node's loop.
public sealed partial class RumorNode
{
    /// <summary>
    /// Starts the cluster-wide aggregate of the numeric key <paramref name="key"/> for
    /// <paramref name="function"/>, ending by itself on every member after <paramref name="lifetime"/>
    /// (every member joins it as its messages arrive, so the first answers are partial until
    /// <see cref="AggregateEstimate.Converged"/>). Started is false when it already ran here
    /// (function and lifetime unchanged). Throws <see cref="ArgumentException"/> for a key the state
    /// would refuse or a lifetime out of range, <see cref="InvalidOperationException"/> past AggregatesMax.
    /// </summary>
    public Task<(bool Started, AggregateReading Reading)> StartAggregateAsync(string key, AggregateFunction function, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Transport.InvokeAsync((node, now) =>
        {
            bool started = node.StartAggregate(key, now, function, lifetime);
            AggregateEstimate estimate = node.GetAggregate(key) ?? throw new InvalidOperationException($"The aggregate of '{key}' did not start.");
            return (started, Reading(estimate, now));
        }, cancellationToken);
    }

    /// <summary>This node's estimate of the aggregate of <paramref name="key"/>, or null when it does not run here. Starts nothing.</summary>
    public Task<AggregateReading?> GetAggregateAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Transport.InvokeAsync((node, now) => node.GetAggregate(key) is { } estimate ? Reading(estimate, now) : null, cancellationToken);
    }

    /// <summary>Every aggregate running at this node, in the order they started here.</summary>
    public Task<IReadOnlyList<AggregateReading>> ListAggregatesAsync(CancellationToken cancellationToken = default) =>
        Transport.InvokeAsync<IReadOnlyList<AggregateReading>>(
            (node, now) => [.. node.Aggregates.Select(node.GetAggregate).OfType<AggregateEstimate>().Select(e => Reading(e, now))],
            cancellationToken);

    /// <summary>Stops the aggregate of <paramref name="key"/> cluster-wide (the end spreads by gossip); false when it did not run here.</summary>
    public Task<bool> StopAggregateAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Transport.InvokeAsync((node, now) => node.StopAggregate(key, now), cancellationToken);
    }

    /// <summary>The keys aggregated at this node.</summary>
    public Task<IReadOnlyList<string>> GetAggregateKeysAsync(CancellationToken cancellationToken = default) =>
        Transport.InvokeAsync<IReadOnlyList<string>>(node => [.. node.Aggregates], cancellationToken);

    private static AggregateReading Reading(AggregateEstimate estimate, TimeSpan now) =>
        new(estimate, estimate.EndsAt is { } endsAt ? (endsAt > now ? endsAt - now : TimeSpan.Zero) : null);
}
