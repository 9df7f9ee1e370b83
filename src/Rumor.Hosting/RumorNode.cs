using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Rumor.Core;
using Rumor.Core.FailureDetection;
using Rumor.Core.Membership;
using Rumor.Transport;
using Rumor.Core.Events;

namespace Rumor.Hosting;

/// <summary>
/// The injectable face of the hosted node: members, key-value state, watches, convergence and a
/// stream of events. Every method is thread-safe: it runs its work on the transport's event loop
/// (<see cref="GossipTransport.InvokeAsync{T}(Func{GossipNode, TimeSpan, T}, CancellationToken)"/>)
/// and returns copies. <see cref="RumorHostedService"/> starts and stops it; until it has started,
/// calls throw <see cref="RumorNodeNotRunningException"/> (once stopped, <see cref="ObjectDisposedException"/>). Every clock
/// read goes through the injected <see cref="System.TimeProvider"/> (the transport's too), so a test
/// can drive it with a fake one.
/// <para>
/// Events fan out from the transport's single channel to any number of subscribers, each with a
/// bounded queue of <see cref="SubscriberQueueMax"/> that drops its oldest when the reader falls
/// behind (counted in <see cref="EventsDropped"/>), so a slow HTTP client never slows the node.
/// </para>
/// </summary>
public sealed partial class RumorNode : IAsyncDisposable
{
    /// <summary>Most events buffered per subscriber before the oldest are dropped.</summary>
    public const int SubscriberQueueMax = 1024;

    /// <summary>Most recent probe round-trip times kept for <see cref="RecentProbeRoundTrips"/>.</summary>
    public const int RecentRoundTripsMax = 128;

    private readonly IOptionsMonitor<RumorOptions> _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TaskCompletionSource<GossipTransport> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<JoinResult> _firstJoin = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _firstJoinRuns;
    private readonly Lock _subscribersLock = new();
    private readonly List<Channel<GossipEvent>> _subscribers = [];
    private readonly Lock _roundTripsLock = new();
    private readonly Queue<double> _recentRoundTrips = new();
    private GossipTransport? _transport;
    private ResolvedRumorOptions? _resolved;
    private Task? _pump;
    private long _streamWatchId;
    private long _eventsDropped;
    private TimeSpan _lastProbeSampleAt = TimeSpan.MinValue;
    private RumorSample? _latest;
    private DateTimeOffset _startedAt;
    private int _stopping;

    /// <summary>Creates the facade; <see cref="RumorHostedService"/> starts it. <paramref name="timeProvider"/> defaults to <see cref="TimeProvider.System"/>.</summary>
    public RumorNode(IOptionsMonitor<RumorOptions> options, ILogger<RumorNode>? logger = null, TimeProvider? timeProvider = null)
    {
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The clock of this node and of the shells around it (wall-clock times, timers, the transport's elapsed time).</summary>
    public TimeProvider TimeProvider => _time;

    /// <summary>Called on the sampling thread with each new probe round-trip time in milliseconds (the metrics histogram listens).</summary>
    internal event Action<double>? ProbeRoundTripObserved;

    /// <summary>True once the node runs (sockets bound, loop started) and until it stops.</summary>
    public bool IsRunning => _transport is not null && Volatile.Read(ref _stopping) == 0;

    /// <summary>True once a stop (leave or abrupt) began.</summary>
    public bool IsStopping => Volatile.Read(ref _stopping) != 0;

    /// <summary>Completes when the node runs.</summary>
    public Task Started => _started.Task;

    /// <summary>Completes with the first join's result (an empty success when no seeds are configured).</summary>
    public Task<JoinResult> FirstJoin => _firstJoin.Task;

    /// <summary>The running transport (for what the facade does not cover). Throws <see cref="RumorNodeNotRunningException"/> before start; once stopped, its calls throw <see cref="ObjectDisposedException"/>.</summary>
    public GossipTransport Transport =>
        _transport ?? throw new RumorNodeNotRunningException("The Rumor node has not started yet.");

    /// <summary>This member's name.</summary>
    public string Name => Transport.Name;

    /// <summary>The address others reach us at.</summary>
    public NodeAddress Address => Transport.Address;

    /// <summary>The protocol options the node runs with.</summary>
    public GossipOptions GossipOptions => Transport.Options;

    /// <summary>The preset the options started from (lan, wan or local).</summary>
    public string Preset => _resolved?.Preset ?? "lan";

    /// <summary>Wall-clock time the node started.</summary>
    public DateTimeOffset StartedAt => _startedAt;

    /// <summary>Events dropped because a subscriber fell behind.</summary>
    public long EventsDropped => Interlocked.Read(ref _eventsDropped);

    /// <summary>The latest sample (taken every SampleInterval), or null before the first.</summary>
    public RumorSample? LatestSample => Volatile.Read(ref _latest);

    /// <summary>The most recent probe round-trip times, in milliseconds, oldest first.</summary>
    public IReadOnlyList<double> RecentProbeRoundTrips
    {
        get
        {
            lock (_roundTripsLock)
            {
                return [.. _recentRoundTrips];
            }
        }
    }

    /// <summary>
    /// Binds and starts the node from the current options (the hosted service calls this). Throws
    /// <see cref="GossipOptionsException"/> for invalid options and <see cref="TransportBindException"/>
    /// when the address is in use.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_transport is not null)
        {
            throw new InvalidOperationException("The Rumor node is already started.");
        }

        RumorOptions options = _options.CurrentValue;
        _resolved = ResolvedRumorOptions.Resolve(options);
        GossipTransportSettings settings = new()
        {
            BindAddress = _resolved.Bind,
            DataDirectory = options.DataDirectory,
            RandomSeed = options.RandomSeed,
            TimeProvider = _time,
        };
        GossipTransport transport = await GossipTransport.StartAsync(_resolved.Options, settings, cancellationToken).ConfigureAwait(false);
        _streamWatchId = await transport.InvokeAsync(node => node.Watch(string.Empty), cancellationToken).ConfigureAwait(false);
        await transport.InvokeAsync(node => node.QueryResponder = BuiltInQueries.Create(node), cancellationToken).ConfigureAwait(false);
        _transport = transport;
        _startedAt = _time.GetUtcNow();
        _pump = Task.Run(() => PumpEventsAsync(transport), CancellationToken.None);
        await SampleAsync(cancellationToken).ConfigureAwait(false);
        RumorLog.Started(_logger, transport.Name, transport.Address, _resolved.Preset);
        _started.TrySetResult(transport);
    }

    /// <summary>
    /// Joins through the configured seeds and records the result as <see cref="FirstJoin"/>; returns
    /// <see cref="FirstJoin"/>. Only the first call joins: the agent starts the join as soon as the
    /// node is bound, before its HTTP API is built, and the hosted service then awaits the same join.
    /// </summary>
    /// <param name="cancellationToken">Cancels the join and its retries.</param>
    /// <param name="againAfter">
    /// Given by a caller that joins while its process is still starting (the agent, before its HTTP
    /// API is built; <see cref="RumorHostedService"/>, while its host starts): when no seed
    /// answered that first attempt, the join is sent once more as soon as this task completes (the
    /// host has started), before the <c>RetryJoinMax</c>
    /// retries and their waits. On a loaded machine the starting process itself can hold up the
    /// first exchange past the stream timeout (docs/BENCHMARKS.md, "What the failure is"); a seed
    /// that is really down costs one more refused connection, or one more StreamTimeout when it
    /// does not answer at all.
    /// </param>
    internal Task<JoinResult> RunFirstJoinAsync(CancellationToken cancellationToken, Task? againAfter = null)
    {
        if (Interlocked.Exchange(ref _firstJoinRuns, 1) == 0)
        {
            _ = RunFirstJoinOnceAsync(againAfter, cancellationToken);
        }

        return _firstJoin.Task;
    }

    /// <summary>Completes when the host has started, or has begun to stop (then the join's second attempt is cancelled by its token): the <c>againAfter</c> of <see cref="RunFirstJoinAsync"/>.</summary>
    internal static Task HostStarted(IHostApplicationLifetime lifetime)
    {
        TaskCompletionSource started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        lifetime.ApplicationStopping.Register(() => started.TrySetResult());
        return started.Task;
    }

    private async Task RunFirstJoinOnceAsync(Task? againAfter, CancellationToken cancellationToken)
    {
        try
        {
            GossipTransport transport = Transport;
            JoinResult result = await FirstJoinWithDnsSeedsAsync(transport, cancellationToken).ConfigureAwait(false);
            if (!result.Joined && againAfter is not null && transport.Options.Seeds.Count > 0)
            {
                await againAfter.WaitAsync(cancellationToken).ConfigureAwait(false);
                RumorLog.JoinAgainAfterStart(_logger, result.Failed.Count);
                result = await TracedJoinAsync(transport, transport.Options.Seeds, cancellationToken).ConfigureAwait(false);
            }

            RumorOptions options = _options.CurrentValue;
            for (int attempt = 1; !result.Joined && attempt <= options.RetryJoinMax && transport.Options.Seeds.Count > 0; attempt++)
            {
                // Seeds that start later (a cluster booting in any order): wait, doubling, and ask again.
                TimeSpan wait = options.RetryJoinWait(attempt);
                RumorLog.JoinRetrying(_logger, result.Failed.Count, attempt + 1, options.RetryJoinMax + 1, wait.TotalMilliseconds);
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                result = await TracedJoinAsync(transport, transport.Options.Seeds, cancellationToken).ConfigureAwait(false);
            }

            _firstJoin.TrySetResult(result);
        }
        catch (Exception e)
        {
            // Observed through FirstJoin (the hosted service awaits it).
            _firstJoin.TrySetException(e);
        }
    }

    private static async Task<JoinResult> TracedJoinAsync(GossipTransport transport, IEnumerable<NodeAddress> seeds, CancellationToken cancellationToken)
    {
        IReadOnlyList<NodeAddress> list = [.. seeds];
        using Activity? activity = RumorActivities.StartJoin(transport.Name, list.Count);
        try
        {
            JoinResult result = await transport.JoinAsync(list, cancellationToken).ConfigureAwait(false);
            RumorActivities.Joined(activity, result);
            return result;
        }
        catch (Exception e)
        {
            RumorActivities.Failed(activity, e);
            throw;
        }
    }

    /// <summary>
    /// Switches gossip encryption's migration modes at run time, without a restart (docs/SECURITY.md):
    /// <paramref name="encryptOutgoing"/> seals what this node sends, <paramref name="verifyIncoming"/>
    /// refuses plaintext. Meaningful only with a key configured.
    /// </summary>
    public Task SetGossipEncryptionModeAsync(bool encryptOutgoing, bool verifyIncoming, CancellationToken cancellationToken = default) =>
        Transport.InvokeAsync(node =>
        {
            node.EncryptOutgoing = encryptOutgoing;
            node.VerifyIncoming = verifyIncoming;
            return true;
        }, cancellationToken);

    /// <summary>Every member this node knows (itself included), sorted by name.</summary>
    public Task<IReadOnlyList<RumorMember>> GetMembersAsync(CancellationToken cancellationToken = default) =>
        Transport.InvokeAsync<IReadOnlyList<RumorMember>>(
            (node, now) => [.. node.Members.Select(member => RumorMember.From(member, now)).OrderBy(member => member.Name, StringComparer.Ordinal)],
            cancellationToken);

    /// <summary>One member, or null when unknown.</summary>
    public Task<RumorMember?> GetMemberAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Transport.InvokeAsync((node, now) => node.FindMember(name) is { } member ? RumorMember.From(member, now) : null, cancellationToken);
    }

    /// <summary>The verdict records (suspect and dead transitions) this node holds about <paramref name="name"/>, oldest first.</summary>
    public Task<IReadOnlyList<VerdictRecord>> GetVerdictsAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Transport.InvokeAsync<IReadOnlyList<VerdictRecord>>(node => [.. node.Verdicts.Where(verdict => verdict.Member == name)], cancellationToken);
    }

    /// <summary>This node's recent probes of <paramref name="name"/>, oldest first.</summary>
    public Task<IReadOnlyList<ProbeRecord>> GetProbeHistoryAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Transport.InvokeAsync(node => node.ProbeHistoryOf(name), cancellationToken);
    }

    /// <summary>Sets <paramref name="key"/> in this node's own map; returns the new version. Throws <see cref="ArgumentException"/> past the key or value limit.</summary>
    public Task<ulong> SetAsync(string key, byte[] value, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        byte[] copy = value.ToArray();
        return Transport.InvokeAsync((node, now) => node.SetValue(key, copy, now, timeToLive), cancellationToken);
    }

    /// <summary>Deletes <paramref name="key"/> from this node's own map; the tombstone's version, or 0 when there was no such key.</summary>
    public Task<ulong> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Transport.InvokeAsync((node, now) => node.DeleteValue(key, now), cancellationToken);
    }

    /// <summary>The live entries of <paramref name="key"/>: one owner's, or every owner's that has it.</summary>
    public Task<IReadOnlyList<KeyValueEntry>> GetAsync(string key, string? owner = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Transport.InvokeAsync<IReadOnlyList<KeyValueEntry>>(
            node => [.. node.ListValues(owner, key).Where(entry => entry.Key == key)],
            cancellationToken);
    }

    /// <summary>Live entries under <paramref name="prefix"/>, of one owner or of all, in (owner, key) order.</summary>
    public Task<IReadOnlyList<KeyValueEntry>> ListAsync(string prefix = "", string? owner = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return Transport.InvokeAsync(node => node.ListValues(owner, prefix), cancellationToken);
    }

    /// <summary>Whether every alive member holds the same replicated state as this node.</summary>
    public Task<StateConvergence> GetConvergenceAsync(CancellationToken cancellationToken = default) =>
        Transport.InvokeAsync(node => node.GetStateConvergence(), cancellationToken);

    /// <summary>Joins through <paramref name="seeds"/> (a full-state exchange with each).</summary>
    public Task<JoinResult> JoinAsync(IEnumerable<NodeAddress> seeds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        return TracedJoinAsync(Transport, seeds, cancellationToken);
    }

    /// <summary>Leaves gracefully; true when the leave spread within <paramref name="timeout"/>. The node keeps running until the host stops.</summary>
    public async Task<bool> LeaveAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        GossipTransport transport = Transport;
        Interlocked.Exchange(ref _stopping, 1);
        return await TracedLeaveAsync(transport, timeout, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<bool> TracedLeaveAsync(GossipTransport transport, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using Activity? activity = RumorActivities.StartLeave(transport.Name, timeout);
        try
        {
            bool confirmed = await transport.LeaveAsync(timeout, cancellationToken).ConfigureAwait(false);
            RumorActivities.Left(activity, confirmed);
            return confirmed;
        }
        catch (Exception e)
        {
            RumorActivities.Failed(activity, e);
            throw;
        }
    }

    /// <summary>
    /// Key changes under <paramref name="prefix"/> (any owner) until <paramref name="cancellationToken"/>
    /// is cancelled or the node stops.
    /// </summary>
    public async IAsyncEnumerable<KeyChanged> WatchAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        RumorSubscription watch = await OpenWatchAsync(prefix, cancellationToken).ConfigureAwait(false);
        await using (watch.ConfigureAwait(false))
        {
            await foreach (GossipEvent gossipEvent in watch.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return (KeyChanged)gossipEvent;
            }
        }
    }

    /// <summary>
    /// Registers a watch of keys under <paramref name="prefix"/> and returns its subscription, which
    /// yields only <see cref="KeyChanged"/> events. Every change after this returns is delivered
    /// (up to the subscriber bound). Dispose it to stop watching.
    /// </summary>
    public async Task<RumorSubscription> OpenWatchAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        GossipTransport transport = Transport;
        Channel<GossipEvent> queue = Subscribe();
        long watchId;
        try
        {
            watchId = await transport.InvokeAsync(node => node.Watch(prefix), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Unsubscribe(queue);
            throw;
        }

        return new RumorSubscription(
            queue.Reader,
            gossipEvent => gossipEvent is KeyChanged changed && changed.WatchId == watchId,
            async () =>
            {
                Unsubscribe(queue);
                if (IsRunning)
                {
                    try
                    {
                        await transport.InvokeAsync(node => node.Unwatch(watchId), CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (ObjectDisposedException)
                    {
                        // Stopped meanwhile: the watch went with the node.
                    }
                }
            });
    }

    /// <summary>
    /// Everything that happens, as it happens: member changes, key changes (every key, as
    /// <see cref="KeyChanged"/>), joins, name conflicts, stalls. Ends when cancelled or when the node stops.
    /// </summary>
    public async IAsyncEnumerable<GossipEvent> SubscribeAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        RumorSubscription stream = OpenStream();
        await using (stream.ConfigureAwait(false))
        {
            await foreach (GossipEvent gossipEvent in stream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return gossipEvent;
            }
        }
    }

    /// <summary>Subscribes to everything <see cref="SubscribeAsync"/> yields, from this moment on. Dispose it to unsubscribe.</summary>
    public RumorSubscription OpenStream()
    {
        _ = Transport;
        Channel<GossipEvent> queue = Subscribe();
        long streamWatch = _streamWatchId;
        return new RumorSubscription(
            queue.Reader,
            gossipEvent => gossipEvent is not KeyChanged changed || changed.WatchId == streamWatch,
            () =>
            {
                Unsubscribe(queue);
                return ValueTask.CompletedTask;
            });
    }

    /// <summary>Takes a fresh sample on the loop (members by state, counters, convergence) and records new probe round trips.</summary>
    public async Task<RumorSample> SampleAsync(CancellationToken cancellationToken = default)
    {
        GossipTransport transport = Transport;
        (RumorSample sample, List<double> roundTrips) = await transport.InvokeAsync((node, now) => TakeSample(node, now), cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _latest, sample);
        if (roundTrips.Count > 0)
        {
            lock (_roundTripsLock)
            {
                foreach (double ms in roundTrips)
                {
                    _recentRoundTrips.Enqueue(ms);
                    while (_recentRoundTrips.Count > RecentRoundTripsMax)
                    {
                        _recentRoundTrips.Dequeue();
                    }
                }
            }

            Action<double>? observers = ProbeRoundTripObserved;
            foreach (double ms in roundTrips)
            {
                observers?.Invoke(ms);
            }
        }

        return sample;
    }

    /// <summary>How long <see cref="FreshSample"/> waits for the loop before settling for the latest sample.</summary>
    private static readonly TimeSpan FreshSampleWaitMax = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The latest sample if it is younger than SampleInterval, else a fresh one taken now, waiting
    /// at most one second for the loop (then the latest, possibly old or null). For synchronous
    /// readers (metric callbacks); null before start and once stopped.
    /// </summary>
    internal RumorSample? FreshSample()
    {
        RumorSample? latest = LatestSample;
        if (!IsRunning || _transport is not { } transport)
        {
            return latest;
        }

        if (latest is not null && transport.Now - latest.Now < _options.CurrentValue.SampleInterval)
        {
            return latest;
        }

        try
        {
            Task<RumorSample> fresh = SampleAsync(CancellationToken.None);
            return fresh.Wait(FreshSampleWaitMax) ? fresh.Result : latest;
        }
        catch (AggregateException e) when (e.InnerException is ObjectDisposedException or RumorNodeNotRunningException)
        {
            return latest;
        }
    }

    /// <summary>Loop thread only.</summary>
    private (RumorSample, List<double>) TakeSample(GossipNode node, TimeSpan now)
    {
        int alive = 0, suspect = 0, dead = 0, left = 0;
        List<double> roundTrips = [];
        TimeSpan newest = _lastProbeSampleAt;
        foreach (Member member in node.Members)
        {
            switch (member.State)
            {
                case MemberState.Alive: alive++; break;
                case MemberState.Suspect: suspect++; break;
                case MemberState.Dead: dead++; break;
                default: left++; break;
            }

            if (member.IsLocal)
            {
                continue;
            }

            foreach (ProbeRecord probe in node.ProbeHistoryOf(member.Name))
            {
                if (probe.At > _lastProbeSampleAt && probe.RoundTrip is { } rtt)
                {
                    roundTrips.Add(rtt.TotalMilliseconds);
                    newest = probe.At > newest ? probe.At : newest;
                }
            }
        }

        _lastProbeSampleAt = newest;
        RumorSample sample = new(
            now,
            alive,
            suspect,
            dead,
            left,
            node.Self.Incarnation,
            node.LocalHealthScore,
            node.Options.AwarenessMaxMultiplier - 1,
            node.PendingBroadcasts,
            node.GetStateConvergence(),
            NodeCounterValues.From(node.Counters),
            node.ListValues().Count);
        return (sample, roundTrips);
    }

    private Channel<GossipEvent> Subscribe()
    {
        Channel<GossipEvent> queue = Channel.CreateBounded<GossipEvent>(
            new BoundedChannelOptions(SubscriberQueueMax) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true, SingleReader = true },
            _ => Interlocked.Increment(ref _eventsDropped));
        lock (_subscribersLock)
        {
            _subscribers.Add(queue);
        }

        return queue;
    }

    private void Unsubscribe(Channel<GossipEvent> queue)
    {
        lock (_subscribersLock)
        {
            _subscribers.Remove(queue);
        }

        queue.Writer.TryComplete();
    }

    private async Task PumpEventsAsync(GossipTransport transport)
    {
        await foreach (GossipEvent gossipEvent in transport.Events.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            RumorLog.Event(_logger, gossipEvent);
            if (gossipEvent is UserEventReceived received)
            {
                RecordEvent(received.Event);
            }

            lock (_subscribersLock)
            {
                foreach (Channel<GossipEvent> queue in _subscribers)
                {
                    queue.Writer.TryWrite(gossipEvent);
                }
            }
        }

        // The transport is gone: end every subscriber's stream.
        lock (_subscribersLock)
        {
            foreach (Channel<GossipEvent> queue in _subscribers)
            {
                queue.Writer.TryComplete();
            }
        }
    }

    /// <summary>Stops the node: leaves gracefully first when <paramref name="leave"/> (bounded by <paramref name="leaveTimeout"/>), then closes the sockets.</summary>
    public async Task StopAsync(bool leave, TimeSpan leaveTimeout)
    {
        GossipTransport? transport = _transport;
        if (transport is null || Interlocked.Exchange(ref _stopping, 2) == 2)
        {
            return;
        }

        if (leave)
        {
            RumorLog.Leaving(_logger, leaveTimeout.TotalMilliseconds);
            bool confirmed = await TracedLeaveAsync(transport, leaveTimeout, CancellationToken.None).ConfigureAwait(false);
            RumorLog.Left(_logger, confirmed);
        }

        await StopDnsRejoinAsync().ConfigureAwait(false);
        await transport.DisposeAsync().ConfigureAwait(false);
        if (_pump is not null)
        {
            // The pump ends when the transport completes its event channel; bounded all the same
            // (in real time: a stop must not wait on a test's fake clock).
            await Task.WhenAny(_pump, Task.Delay(TimeSpan.FromSeconds(5), TimeProvider.System)).ConfigureAwait(false);
        }

        _firstJoin.TrySetCanceled();
        RumorLog.Stopped(_logger, transport.Name);
    }

    /// <summary>Stops abruptly (no leave) if still running.</summary>
    public async ValueTask DisposeAsync() => await StopAsync(leave: false, TimeSpan.FromSeconds(1)).ConfigureAwait(false);
}
