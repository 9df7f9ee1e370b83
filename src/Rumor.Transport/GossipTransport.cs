using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Rumor.Core;
using Rumor.Core.Randomness;

namespace Rumor.Transport;

/// <summary>
/// Runs one <see cref="GossipNode"/> behind real sockets: a UDP socket for datagrams and a TCP
/// listener for streams, bound on the same address and port, and one event loop thread that is the
/// only code ever touching the node. Socket tasks and callers hand inputs to the loop as work items;
/// the loop feeds them with <c>now</c> = monotonic time since start, and calls
/// <see cref="GossipNode.OnTick"/> when <see cref="GossipNode.NextTimerDue"/> arrives.
/// <para>
/// Start with <see cref="StartAsync"/> (it binds first, so port 0 works: the bound port becomes the
/// advertised one), join with <see cref="JoinAsync(IEnumerable{NodeAddress}, CancellationToken)"/>, leave with <see cref="LeaveAsync"/>, stop with
/// <see cref="DisposeAsync"/> (disposing without leaving looks like a crash to the others). Every
/// public member is thread-safe; every wait is bounded.
/// </para>
/// </summary>
public sealed partial class GossipTransport : IAsyncDisposable
{
    private readonly GossipOptions _options;
    private readonly GossipTransportSettings _settings;
    private readonly GossipNode _node;
    private readonly Socket _udp;
    private readonly Socket _listener;
    private readonly TimeProvider _time;
    private readonly long _startTimestamp;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TransportCounters _counters = new();
    private readonly PeerAddresses _sendAddresses;
    private string? _identityPath;
    private string? _keyringPath;
    private int _disposed;

    private GossipTransport(GossipOptions options, GossipTransportSettings settings, Socket udp, Socket listener, IRandomSource random)
    {
        _options = options;
        _settings = settings;
        _udp = udp;
        _listener = listener;
        _time = settings.TimeProvider;
        _startTimestamp = _time.GetTimestamp();
        LocalEndPoint = (IPEndPoint)udp.LocalEndPoint!;
        _sendAddresses = new PeerAddresses(udp.AddressFamily, IsDualMode(udp));
        _events = Channel.CreateBounded<GossipEvent>(
            new BoundedChannelOptions(settings.EventQueueMax) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true },
            _ => _counters.EventDropped());
        // The loop ticks at NextWakeDue: it sleeps through gossip rounds that have nothing to send.
        _node = new GossipNode(options, new NodeHost(this), random) { IdleGossipRoundsFireLate = true };
        _loopThread = new Thread(RunLoop) { IsBackground = true, Name = "rumor loop " + options.Name };
    }

    /// <summary>This member's name.</summary>
    public string Name => _options.Name;

    /// <summary>The address other members reach us at (datagrams and streams).</summary>
    public NodeAddress Address => _options.AdvertiseAddress;

    /// <summary>Where the sockets are bound (the actual port when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The options the node runs with: the caller's, with the advertise address and generation filled in.</summary>
    public GossipOptions Options => _options;

    /// <summary>What the shell dropped or failed at.</summary>
    public TransportCounters Counters => _counters;

    /// <summary>The node's clock: monotonic time since this transport started.</summary>
    public TimeSpan Now => _time.GetElapsedTime(_startTimestamp);

    /// <summary>
    /// Binds the sockets, creates the node and starts its event loop.
    /// <list type="bullet">
    /// <item>Bind address: <see cref="GossipTransportSettings.BindAddress"/>, or else the options' advertise address.</item>
    /// <item>Advertise address: when empty, the bound endpoint; when its port is 0, the bound port.</item>
    /// <item>Generation: when 0, Unix milliseconds now, so a restarted process outranks accusations about its previous run.</item>
    /// </list>
    /// Throws <see cref="GossipOptionsException"/> for invalid options (before binding anything) and
    /// <see cref="TransportBindException"/> when the address is in use or not ours.
    /// </summary>
    public static async Task<GossipTransport> StartAsync(GossipOptions options, GossipTransportSettings? settings = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        settings ??= new GossipTransportSettings();
        IReadOnlyList<string> problems = settings.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid transport settings: " + string.Join(" ", problems), nameof(settings));
        }

        NodeAddress bind = settings.BindAddress ?? options.AdvertiseAddress;
        if (settings.BindAddress is null && bind.IsEmpty)
        {
            throw new ArgumentException("Neither GossipTransportSettings.BindAddress nor GossipOptions.AdvertiseAddress is set: there is no address to bind.", nameof(options));
        }

        // Check every option before binding, so a bad one is reported as such rather than after (or
        // instead of) a bind error. An advertise address still to be filled in gets a stand-in.
        GossipOptions check = options.AdvertiseAddress.IsEmpty || options.AdvertiseAddress.Port == 0
            ? options with { AdvertiseAddress = NodeAddress.From(IPAddress.Loopback, 1) }
            : options;
        check.ThrowIfInvalid();

        (Socket udp, Socket listener) = SocketBinder.Bind(bind);
        GossipTransport transport;
        try
        {
            NodeAddress bound = NodeAddress.From((IPEndPoint)udp.LocalEndPoint!);
            GossipOptions effective = options with
            {
                AdvertiseAddress = Advertise(options.AdvertiseAddress, bound),
                Generation = options.Generation != 0 ? options.Generation : (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            };
            string? identityPath = null;
            if (settings.DataDirectory is { } directory)
            {
                (effective, identityPath) = RestoreIdentity(effective, directory, settings.ResetInvalidIdentity);
                effective = RestoreKeyring(effective, directory);
            }

            ulong seed = settings.RandomSeed ?? UnpredictableSeed();
            transport = new GossipTransport(effective, settings, udp, listener, new Xoshiro256StarStar(seed))
            {
                _identityPath = identityPath,
                _keyringPath = settings.DataDirectory is { } keyringDirectory && effective.Keyring is not null ? Path.Combine(keyringDirectory, KeyringFile.FileName) : null,
            };
        }
        catch
        {
            udp.Dispose();
            listener.Dispose();
            throw;
        }

        try
        {
            transport.StartLoop();
            await transport._loopStarted.Task.WaitAsync(settings.ShutdownTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await transport.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return transport;
    }

    /// <summary>
    /// Reads the identity file, derives this run's generation and incarnation from it, and writes
    /// them back before the node is created (so before it speaks). A restart of the same name
    /// outranks everything said about its previous run: generation max(stored + 1, proposed),
    /// incarnation stored + 1.
    /// </summary>
    private static (GossipOptions Options, string Path) RestoreIdentity(GossipOptions options, string directory, bool resetInvalid)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, IdentityFile.FileName);
        PersistedIdentity? stored;
        try
        {
            stored = IdentityFile.Load(path);
            if (stored is not null && !string.Equals(stored.Name, options.Name, StringComparison.Ordinal))
            {
                throw new IdentityFileException($"The identity file {path} belongs to '{stored.Name}', not '{options.Name}': use another DataDirectory per node, or set ResetInvalidIdentity to replace it.");
            }
        }
        catch (IdentityFileException) when (resetInvalid)
        {
            stored = null;
        }

        GossipOptions restored = stored is null
            ? options
            : options with
            {
                Generation = Math.Max(stored.Generation + 1, options.Generation),
                InitialIncarnation = Math.Max(stored.Incarnation + 1, options.InitialIncarnation),
            };
        IdentityFile.Save(path, new PersistedIdentity(restored.Name, restored.Generation, restored.InitialIncarnation));
        return (restored, path);
    }

    /// <summary>On the loop, before the node sends anything with it: persist a risen incarnation.</summary>
    private void PersistIncarnation(uint incarnation)
    {
        if (_identityPath is null)
        {
            return;
        }

        try
        {
            IdentityFile.Save(_identityPath, new PersistedIdentity(_options.Name, _options.Generation, incarnation));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The protocol must go on; the next restart still outranks us by generation.
            _counters.IdentityWriteError();
            _lastLoopFault = e;
        }
    }

    private static NodeAddress Advertise(NodeAddress configured, NodeAddress bound)
    {
        if (configured.IsEmpty)
        {
            IPAddress ip = bound.ToIPAddress();
            if (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any))
            {
                throw new ArgumentException($"Bound to {bound}, which other members cannot reach: set GossipOptions.AdvertiseAddress to an address of this host.");
            }

            return bound;
        }

        return configured.Port == 0 ? NodeAddress.From(configured.ToIPAddress(), bound.Port) : configured;
    }

    /// <summary>Joins through the seeds in the options (<see cref="GossipOptions.Seeds"/>); see <see cref="JoinAsync(IEnumerable{NodeAddress}, CancellationToken)"/>.</summary>
    public Task<JoinResult> JoinAsync(CancellationToken cancellationToken = default) => JoinAsync(_options.Seeds, cancellationToken);

    /// <summary>
    /// Joins the cluster through <paramref name="seeds"/> (a full-state exchange with each; our own
    /// address and duplicates are skipped) and completes when every seed has answered or failed.
    /// Bounded by the options' StreamTimeout, which the node enforces per seed.
    /// </summary>
    public async Task<JoinResult> JoinAsync(IEnumerable<NodeAddress> seeds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        NodeAddress[] distinct = seeds.Distinct().ToArray();
        JoinTracker tracker = await InvokeAsync(
            (node, now) =>
            {
                JoinTracker created = new(distinct.Where(seed => seed != node.Self.Address));
                _joins.Add(created);
                node.Join(distinct, now);
                CompleteJoinIfDone(created);
                return created;
            },
            cancellationToken).ConfigureAwait(false);

        try
        {
            // The node's own stream deadline reports every seed; this bound only guards against that
            // failing. An encrypted join may be retried once per key of the ring (GossipNode.Keys.cs).
            int attempts = Math.Max(1, _options.Keyring?.Keys.Count ?? 1);
            return await tracker.Completion.WaitAsync((_options.StreamTimeout * attempts) + _settings.ShutdownTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return await InvokeAsync((_, now) => AbandonJoin(tracker, now), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Leaves gracefully: the node announces it and the others will see us as left, not failed.
    /// Completes true when the announcement has been gossiped enough (the node's
    /// <see cref="LeaveCompleted"/>), false when <paramref name="timeout"/> passes first. Dispose afterwards.
    /// </summary>
    public async Task<bool> LeaveAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        await InvokeAsync(
            (node, now) =>
            {
                node.Leave(now);
                return true;
            },
            cancellationToken).ConfigureAwait(false);
        try
        {
            await _leaveCompleted.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Replaces our metadata and announces it to the cluster.</summary>
    public Task UpdateMetadataAsync(byte[] metadata, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        byte[] copy = metadata.ToArray();
        return InvokeAsync(
            (node, now) =>
            {
                node.UpdateMetadata(copy, now);
                return true;
            },
            cancellationToken);
    }

    /// <summary>Every member the node knows (itself included), read on the loop now, ordered by name.</summary>
    public Task<IReadOnlyList<MemberSnapshot>> GetMembersAsync(CancellationToken cancellationToken = default) =>
        InvokeAsync<IReadOnlyList<MemberSnapshot>>(static node => SnapshotMembers(node), cancellationToken);

    /// <summary>
    /// Runs <paramref name="function"/> on the event loop, where touching the node is safe, and
    /// returns its result (or exception). Keep it short: the protocol waits while it runs. Do not
    /// keep references to the node's live objects (members, counters) beyond the call; copy values.
    /// </summary>
    public Task<T> InvokeAsync<T>(Func<GossipNode, T> function, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(function);
        return InvokeAsync((node, _) => function(node), cancellationToken);
    }

    /// <summary>As <see cref="InvokeAsync{T}(Func{GossipNode, T}, CancellationToken)"/>, also passing the node's <c>now</c> (for commands such as <see cref="GossipNode.Join(TimeSpan)"/>).</summary>
    public Task<T> InvokeAsync<T>(Func<GossipNode, TimeSpan, T> function, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(function);
        InvokeWork<T> work = new(function);
        if (!Post(work, droppable: false))
        {
            return Task.FromException<T>(new ObjectDisposedException(nameof(GossipTransport), $"The transport of {Name} is stopped."));
        }

        return work.Completion.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Stops the node abruptly (no leave: to the others this is a crash; call
    /// <see cref="LeaveAsync"/> first for a graceful exit), closes the sockets, and waits, bounded by
    /// <see cref="GossipTransportSettings.ShutdownTimeout"/>, for the loop and socket tasks to end.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        TimeSpan timeout = _settings.ShutdownTimeout;
        await _shutdown.CancelAsync().ConfigureAwait(false);
        StopLoop();
        WakeReceiver();
        _udp.Dispose();
        _listener.Dispose();
        if (_loopThread.ThreadState != ThreadState.Unstarted)
        {
            await WaitBounded(_loopExited.Task, timeout).ConfigureAwait(false);
        }

        await WaitBounded(Task.WhenAll(_tasks.Keys), timeout).ConfigureAwait(false);
        FailQueryWaiters();
        _events.Writer.TryComplete();
        _handlerQueue?.Writer.TryComplete();
        if (_handlerTask is not null)
        {
            await WaitBounded(_handlerTask, timeout).ConfigureAwait(false);
        }

        _shutdown.Dispose();
    }

    private static async Task WaitBounded(Task task, TimeSpan timeout)
    {
        try
        {
            await task.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Bounded on purpose: a stuck handler or socket must not hang shutdown.
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException or IOException)
        {
            // The tasks end by cancellation or by their socket closing under them.
        }
    }

    private Task _receiver = Task.CompletedTask;

    /// <summary>True while the datagram receive thread runs (tests check that dispose ends it).</summary>
    internal bool IsReceiverRunning => !_receiver.IsCompleted;

    private void StartLoop()
    {
        // LongRunning: a dedicated thread, so probes and acks never queue behind the thread pool's work.
        _receiver = Task.Factory.StartNew(ReceiveDatagrams, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Track(_receiver);
        Track(Task.Run(AcceptStreamsAsync));
        if (_settings.OnEvent is { } handler)
        {
            _handlerQueue = Channel.CreateBounded<GossipEvent>(
                new BoundedChannelOptions(_settings.EventQueueMax) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true, SingleReader = true },
                _ => _counters.EventDropped());
            _handlerTask = Task.Run(() => DispatchEventsAsync(_handlerQueue.Reader, handler));
        }

        _loopThread.Start();
    }

    /// <summary>
    /// 64 unpredictable bits for the node's random source (probe order, gossip targets, jitter).
    /// Taken from <see cref="Guid.NewGuid"/>, whose 122 random bits come from the operating
    /// system's secure generator (getrandom / arc4random) through System.Native, rather than from
    /// <c>RandomNumberGenerator</c>, which on Linux loads and initialises OpenSSL (libssl and
    /// libcrypto): for an agent without an encryption key that was its only use of OpenSSL, about
    /// 2 % of its start-up CPU and 3.5 MiB of its resident set (docs/BENCHMARKS.md, "Agent footprint").
    /// The two halves are XORed so the GUID's fixed version and variant bits are covered by random ones.
    /// </summary>
    private static ulong UnpredictableSeed()
    {
        Span<byte> bytes = stackalloc byte[16];
        Guid.NewGuid().TryWriteBytes(bytes);
        return BitConverter.ToUInt64(bytes[..8]) ^ BitConverter.ToUInt64(bytes[8..]);
    }
}
