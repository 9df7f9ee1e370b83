using System.Text.Json;
using Microsoft.Extensions.Logging;
using Rumor.Agent.Security;
using Rumor.Client;
using Rumor.Core;
using Rumor.Core.Events;
using Rumor.Hosting;

namespace Rumor.Agent.Streams;

/// <summary>
/// The fan-out behind <c>GET /v1/stream</c>. The hub holds one subscription to the node, and a
/// pump turns each event into its server-sent bytes once (so serialization costs the same for one
/// subscriber as for a hundred) and offers them to every subscriber's <see cref="StreamSubscriber"/>
/// queue, which is bounded in events (<see cref="ApiSettings.StreamQueueMax"/>) and in bytes
/// (<see cref="ApiSettings.StreamQueueMaxBytes"/>) and drops its oldest for a slow reader. Offering
/// never waits, so neither the pump nor the node's loop behind it ever waits on an HTTP client; at
/// most <see cref="ApiSettings.StreamSubscribersMax"/> subscribers exist at once.
/// </summary>
internal sealed class StreamHub : IAsyncDisposable
{
    private readonly RumorNode _node;
    private readonly ApiSettings _settings;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly List<StreamSubscriber> _subscribers = [];
    private RumorSubscription? _source;
    private Task _pump = Task.CompletedTask;
    private long _dropped;
    private bool _disposed;

    public StreamHub(RumorNode node, ApiSettings settings, ILogger logger)
    {
        _node = node;
        _settings = settings;
        _logger = logger;
    }

    /// <summary>Subscribers now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _subscribers.Count;
            }
        }
    }

    /// <summary>The most bytes any one subscriber has queued now (never above <see cref="ApiSettings.StreamQueueMaxBytes"/>).</summary>
    public long LargestQueueBytes
    {
        get
        {
            lock (_lock)
            {
                return _subscribers.Count == 0 ? 0 : _subscribers.Max(subscriber => subscriber.QueuedBytes);
            }
        }
    }

    /// <summary>The bound on <see cref="Count"/>.</summary>
    public int Max => _settings.StreamSubscribersMax;

    /// <summary>Events dropped for slow readers since the start, over every subscriber.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Registers a subscriber for <paramref name="kinds"/>: every event after this returns reaches
    /// its queue. Null when <see cref="ApiSettings.StreamSubscribersMax"/> subscribers exist.
    /// Throws <see cref="ObjectDisposedException"/> or <see cref="RumorNodeNotRunningException"/> when the node does not run.
    /// </summary>
    public StreamSubscriber? TrySubscribe(StreamKinds kinds, string client)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_subscribers.Count >= _settings.StreamSubscribersMax)
            {
                return null;
            }

            if (_source is null)
            {
                // Registered synchronously: the subscriber misses nothing after this call returns.
                _source = _node.OpenStream();
                DateTimeOffset epoch = _node.TimeProvider.GetUtcNow() - _node.Transport.Now;
                RumorSubscription source = _source;
                _pump = Task.Run(() => PumpAsync(source, epoch));
            }

            StreamSubscriber subscriber = new(this, kinds, client, _settings.StreamQueueMax, _settings.StreamQueueMaxBytes);
            _subscribers.Add(subscriber);
            return subscriber;
        }
    }

    /// <summary>
    /// A queue for one <c>/v1/kv/watch</c> client, bounded like a stream subscriber's
    /// (<see cref="ApiSettings.StreamQueueMax"/> events, <see cref="ApiSettings.StreamQueueMaxBytes"/>
    /// bytes, oldest dropped, a <c>dropped</c> event to the reader), its drops counted with the
    /// hub's. Not one of the hub's subscribers: the watch's own pump offers it its changes (the
    /// watches' number is bounded by the node's WatchesMax).
    /// </summary>
    public StreamSubscriber CreateWatchQueue(string client) =>
        new(this, StreamKinds.Kv, client, _settings.StreamQueueMax, _settings.StreamQueueMaxBytes);

    internal void Remove(StreamSubscriber subscriber)
    {
        lock (_lock)
        {
            _subscribers.Remove(subscriber);
        }
    }

    internal void CountDropped(long dropped) => Interlocked.Add(ref _dropped, dropped);

    internal void LogDropped(string client, long dropped, string option) => ApiLog.StreamDropped(_logger, client, dropped, option);

    private async Task PumpAsync(RumorSubscription source, DateTimeOffset epoch)
    {
        try
        {
            await foreach (GossipEvent gossipEvent in source.ReadAllAsync().ConfigureAwait(false))
            {
                StreamKinds kind = KindOf(gossipEvent);
                if (kind == StreamKinds.None || !AnyWants(kind))
                {
                    continue;
                }

                OfferToAll(kind, Serialize(gossipEvent, epoch));
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
        finally
        {
            // The node stopped (or the hub was disposed): end every stream; a later subscriber opens a new source.
            lock (_lock)
            {
                if (ReferenceEquals(_source, source))
                {
                    _source = null;
                }

                foreach (StreamSubscriber subscriber in _subscribers)
                {
                    subscriber.Complete();
                }
            }
        }
    }

    /// <summary>Offers <paramref name="items"/> (in order, as one batch) to every subscriber that wants <paramref name="kind"/>; never waits.</summary>
    internal void OfferToAll(StreamKinds kind, params ReadOnlySpan<StreamItem> items)
    {
        lock (_lock)
        {
            foreach (StreamSubscriber subscriber in _subscribers)
            {
                if ((subscriber.Kinds & kind) != 0)
                {
                    subscriber.Offer(items);
                }
            }
        }
    }

    private bool AnyWants(StreamKinds kind)
    {
        lock (_lock)
        {
            foreach (StreamSubscriber subscriber in _subscribers)
            {
                if ((subscriber.Kinds & kind) != 0)
                {
                    return true;
                }
            }

            return false;
        }
    }

    private static StreamKinds KindOf(GossipEvent gossipEvent) => gossipEvent switch
    {
        MemberChanged => StreamKinds.Member,
        UserEventReceived => StreamKinds.Event,
        KeyChanged => StreamKinds.Kv,
        _ => StreamKinds.None,
    };

    private StreamItem Serialize(GossipEvent gossipEvent, DateTimeOffset epoch) => gossipEvent switch
    {
        MemberChanged changed => StreamItem.Create(StreamEvent.MemberType, JsonSerializer.SerializeToUtf8Bytes(changed.ToApi(epoch), RumorJsonContext.Default.MemberEventDto)),
        UserEventReceived received => StreamItem.Create(StreamEvent.UserType, JsonSerializer.SerializeToUtf8Bytes(received.Event.ToApi(_node.TimeProvider.GetUtcNow()), RumorJsonContext.Default.EventDto)),
        KeyChanged changed => StreamItem.Create(StreamEvent.KvType, JsonSerializer.SerializeToUtf8Bytes(changed.ToApi(), RumorJsonContext.Default.KvChangeDto)),
        _ => throw new ArgumentOutOfRangeException(nameof(gossipEvent)),
    };

    public async ValueTask DisposeAsync()
    {
        RumorSubscription? source;
        lock (_lock)
        {
            _disposed = true;
            source = _source;
        }

        if (source is not null)
        {
            await source.DisposeAsync().ConfigureAwait(false);
        }

        await _pump.ConfigureAwait(false);
    }
}

/// <summary>The kinds of events a stream subscriber asked for (<c>?kinds=member,event,kv</c>).</summary>
[Flags]
internal enum StreamKinds
{
    None = 0,
    Member = 1,
    Event = 2,
    Kv = 4,
    All = Member | Event | Kv,
}
