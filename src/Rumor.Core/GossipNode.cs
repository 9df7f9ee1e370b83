using Rumor.Core.Diagnostics;
using Rumor.Core.Dissemination;
using Rumor.Core.FailureDetection;
using Rumor.Core.Membership;
using Rumor.Core.Modules;
using Rumor.Core.Randomness;
using Rumor.Core.Security;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core;

/// <summary>
/// One gossip member as a sans-IO state machine, and its membership kernel: SWIM membership and
/// failure detection (direct and indirect probes, suspicion with incarnation refutation, Lifeguard's
/// dynamic suspicion), rumor mongering through a transmit-limited broadcast queue piggybacked on
/// every packet, and full-state push-pull over streams (join, periodic sync, a seed every M rounds).
/// Everything else is a module (<see cref="ModuleSet"/>) that reaches the kernel through
/// <see cref="IModuleContext"/>; every message, the kernel's too, goes through one
/// <see cref="MessageTable"/>, and every timer through one <see cref="TimerSet"/> (docs/ARCHITECTURE.md).
/// <para>
/// Inputs are method calls that each carry <c>now</c>: <see cref="OnPacket"/>,
/// <see cref="OnStreamRequest"/>, <see cref="OnStreamResponse"/>, <see cref="OnStreamFailed"/>,
/// <see cref="OnTick"/>, and the commands <see cref="Start"/>, <see cref="Join(TimeSpan)"/>,
/// <see cref="Leave"/>, <see cref="UpdateMetadata"/>. Outputs go to the <see cref="IGossipHost"/>
/// (sends and events); the shell calls <see cref="OnTick"/> at <see cref="NextTimerDue"/>. The node
/// never reads a clock, never draws from a global random source, never blocks and is not
/// thread-safe: one shell loop feeds it. Given the same inputs and seed it produces the same outputs.
/// </para>
/// </summary>
public sealed partial class GossipNode : IModuleContext,
    IMessageHandler<PingMessage>, IMessageHandler<IndirectPingMessage>, IMessageHandler<AckMessage>, IMessageHandler<NackMessage>,
    IMessageHandler<ViewChecksumMessage>, IMessageHandler<AliveMessage>, IMessageHandler<SuspectMessage>, IMessageHandler<DeadMessage>,
    IStreamRequestHandler
{
    private readonly GossipOptions _options;
    private readonly IGossipHost _host;
    private readonly IRandomSource _random;
    private readonly NameTable _names;
    private readonly List<Member> _members = [];

    // Peer filters made once: a lambda over a local or parameter makes the compiler allocate its
    // closure at every call of the method, and the gossip round runs five times a second on every
    // node, idle or not (issue 17's allocation profile). The filter reads its argument from these.
    private Func<Member, bool>? _gossipTargetFilter;
    private TimeSpan _gossipTargetNow;
    private Func<Member, bool>? _indirectFilter;
    private Member? _indirectTarget;
    private readonly MemberIndex _byName;
    private readonly BroadcastQueue _broadcasts;
    private readonly RecentDepartures _departures;
    private readonly TimerSet _timerSet = new();
    private readonly TimerQueue<KernelTimer> _timers;
    private readonly MessageTable _table;
    private readonly ModuleSet _modules;
    private readonly StreamFallbackPing _fallback;
    // The builder of the packet this node is building, taken from the thread's spare (StartBuilding)
    // and given back once the packet is sent (SendBuilt): the nodes of a simulated cluster share one
    // thread, so they share one ~1.4 KB buffer instead of holding one each (1.5 bytes a member
    // record at N = 1,000). When the spare is out (another node on this thread is mid-packet, which
    // no host causes: each copies or sends the packet before it returns), a node makes its own.
    [ThreadStatic]
    private static PacketBuilder? t_spareBuilder;
    private PacketBuilder? _builder;

    // The decompression buffer of OnPacket (64 KiB), one per thread rather than one per node: a
    // simulated cluster runs N nodes on one thread (at N = 1,000 a buffer per node was 65 bytes per
    // member record). OnPacket takes it for the time of one datagram and puts it back, so a nested
    // OnPacket on the same thread (a host that delivers synchronously) gets a fresh one.
    [ThreadStatic]
    private static byte[]? t_datagramScratch;

    // The compression buffer of SendPacket, one per thread for the same reason (1,400 bytes a node),
    // taken and put back the same way.
    [ThreadStatic]
    private static byte[]? t_compressScratch;
    private readonly List<NodeAddress> _seeds = [];
    private readonly Member _self;
    private bool _started;
    private bool _leaving;
    private bool _leaveReported;
    private bool _stopped;
    private long _nextToken;
    private TimeSpan _now;

    /// <summary>Creates a node. Throws <see cref="GossipOptionsException"/> naming every bad option.</summary>
    /// <param name="options">Validated options (start from a preset).</param>
    /// <param name="host">The shell: sends and events.</param>
    /// <param name="random">The node's own seeded random source.</param>
    /// <param name="names">A name table; a simulator may share one between nodes to save memory.</param>
    public GossipNode(GossipOptions options, IGossipHost host, IRandomSource random, NameTable? names = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(random);
        options.ThrowIfInvalid();
        _options = options;
        _host = host;
        _random = random;
        _names = names ?? new NameTable();
        _table = new MessageTable(_names);
        _byName = new MemberIndex(_members);
        _broadcasts = new BroadcastQueue(options.BroadcastQueueMax, options.BroadcastLowerClassShare);

        // Leaves of members not known yet (RecentDepartures): a few hundred bytes each at most, so
        // capped well below MembersMax; they matter for seconds (until the member's alive arrives),
        // and are kept as long as a known departed member would be.
        _departures = new RecentDepartures(Math.Min(options.MembersMax, RecentDepartures.CapacityMax), options.DeadMemberRetention);
        _security = new PacketSecurity(options.Keyring?.Clone(), options.VerifyIncoming, options.EncryptOutgoing, random, options.Generation, Counters);

        _health = new LocalHealth(options.AwarenessMaxMultiplier);
        _verdicts = new VerdictLog(options.VerdictsMax);
        _probeHistories = new ProbeHistoryStore(options.ProbeHistoryMax, options.ProbeHistoryWindow);
        _self = new Member(_names.InternMember(_names.Intern(options.Name), options.Generation, options.AdvertiseAddress), isLocal: true)
        {
            Incarnation = options.InitialIncarnation,
            Versions = ProtocolVersions.Current,
            Metadata = options.Metadata.ToArray(),
            State = MemberState.Alive,
        };
        AddMember(_self);
        foreach (NodeAddress seed in options.Seeds)
        {
            AddSeed(seed);
        }

        _timers = _timerSet.Create<KernelTimer>(OnKernelTimer);
        _fallback = new StreamFallbackPing(this, OnStreamAck, this);
        _fallback.Register();
        RegisterKernelMessages();
        _modules = ModuleSet.CreateDefault(this);
    }

    /// <summary>This member's name.</summary>
    public string Name => _self.Name;

    /// <summary>The options the node runs with.</summary>
    public GossipOptions Options => _options;

    /// <summary>This node's own entry.</summary>
    public Member Self => _self;

    /// <summary>Every member this node knows, itself included, in no meaningful order (a live view).</summary>
    public IReadOnlyList<Member> Members => _members;

    /// <summary>Counters of traffic, rejections and overflows.</summary>
    public NodeCounters Counters { get; } = new();

    /// <summary>When the shell should call <see cref="OnTick"/> next (<see cref="TimeSpan.MaxValue"/>: no timer pending).</summary>
    public TimeSpan NextTimerDue => _stopped ? TimeSpan.MaxValue : _timerSet.NextDue;

    /// <summary>
    /// When a shell that sleeps through idle gossip rounds must call <see cref="OnTick"/> next:
    /// <see cref="NextTimerDue"/>, except that the gossip round is left out while no broadcast waits
    /// (firing it would only schedule the next one). Such a round fires, late, at the next tick
    /// for anything else, or at once when a broadcast is queued; what it then sends is what it
    /// would have sent on time. A shell using this sets <see cref="IdleGossipRoundsFireLate"/> so
    /// the late round is not taken for a stall of this process. The simulator ticks at
    /// <see cref="NextTimerDue"/>.
    /// </summary>
    public TimeSpan NextWakeDue => _stopped
        ? TimeSpan.MaxValue
        : _broadcasts.Count > 0 ? _timerSet.NextDue : _timerSet.NextDueSkippingHead(_timers, static timer => timer.Kind == KernelTimerKind.GossipRound);

    /// <summary>
    /// True when the shell ticks at <see cref="NextWakeDue"/> (the transport): the lateness that
    /// counts as a local stall is then measured against <see cref="NextWakeDue"/>, so a gossip round
    /// that had nothing to send and was slept through is not a stall. False (the default): against
    /// <see cref="NextTimerDue"/>.
    /// </summary>
    public bool IdleGossipRoundsFireLate { get; set; }

    /// <summary>True after <see cref="Leave"/>.</summary>
    public bool IsLeaving => _leaving;

    /// <summary>Broadcasts waiting to be piggybacked.</summary>
    public int PendingBroadcasts => _broadcasts.Count;

    /// <summary>Members that are alive or suspect, this node included.</summary>
    public int ActiveMemberCount { get; private set; }

    /// <summary>The current broadcast retransmit limit: RetransmitMultiplier × ceil(log10(N + 1)).</summary>
    public int RetransmitLimit => _options.RetransmitMultiplier * (int)Math.Ceiling(Math.Log10(ActiveMemberCount + 1));

    /// <summary>Looks a member up by name.</summary>
    public Member? FindMember(string name) => _byName.Find(name);

    /// <summary>Starts the protocol timers and announces ourselves. Call once, before any other input.</summary>
    public void Start(TimeSpan now)
    {
        if (_started)
        {
            throw new InvalidOperationException("The node has already been started.");
        }

        _started = true;
        _now = now;
        _startedAt = now;
        _self.StateChangedAt = now;

        // Stagger the first rounds so that nodes started together do not march in step.
        _timers.Schedule(now + _random.NextDuration(_options.ProbeInterval), new KernelTimer(KernelTimerKind.ProbeRound));
        _timers.Schedule(now + _random.NextDuration(_options.GossipInterval), new KernelTimer(KernelTimerKind.GossipRound));
        _timers.Schedule(now + _random.NextDuration(_options.PushPullInterval), new KernelTimer(KernelTimerKind.PushPullRound));
        QueueBroadcast(_self.Name, PacketBuilder.EncodeMessage(SelfAlive()));
        foreach (GossipModule module in _modules.All)
        {
            module.Start(now);
        }
    }

    /// <summary>Stops all activity: no more timers or sends. Inputs after this are ignored.</summary>
    public void Stop()
    {
        _stopped = true;
        _timerSet.Clear();
        _pendingStreams.Clear();
        _relays.Clear();
        _fallback.Clear();
        _probe = null;
    }

    /// <summary>Fires every timer due at <paramref name="now"/>, the kernel's and the modules', in (due, insertion) order.</summary>
    public void OnTick(TimeSpan now)
    {
        if (!Enter(now))
        {
            return;
        }

        // Before any timer fires: a probe deadline fired late must see the stall it belongs to.
        DetectLateTimers(now);
        while (_timerSet.TryFireNext(now))
        {
        }

        ReportLeaveIfDone(now);
    }

    private void OnKernelTimer(KernelTimer timer, TimeSpan now)
    {
        switch (timer.Kind)
        {
            case KernelTimerKind.ProbeRound:
                ProbeRound(now);
                break;
            case KernelTimerKind.GossipRound:
                GossipRound(now);
                break;
            case KernelTimerKind.PushPullRound:
                PushPullRound(now);
                break;
            case KernelTimerKind.ProbeAckTimeout:
                ProbeAckTimeout(timer.Token, now);
                break;
            case KernelTimerKind.ProbeDeadline:
                ProbeDeadline(timer.Token, now);
                break;
            case KernelTimerKind.RelayTimeout:
                RelayTimeout(timer.Token);
                break;
            case KernelTimerKind.SuspicionTimeout:
                SuspicionTimeout(timer.Member!, timer.Token, now);
                break;
            case KernelTimerKind.StreamDeadline:
                StreamDeadline(timer.Token, now);
                break;
            case KernelTimerKind.PushRound:
                _pushRoundScheduled = false;
                GossipRound(now, reschedule: false);
                break;
            case KernelTimerKind.MemberPushRound:
                MemberPushRound(now);
                break;
        }
    }

    /// <summary>A datagram arrived from <paramref name="from"/>. Malformed input is counted and dropped.</summary>
    public void OnPacket(NodeAddress from, ReadOnlySpan<byte> packet, TimeSpan now)
    {
        if (!Enter(now))
        {
            return;
        }

        Counters.PacketsReceived++;
        Counters.PacketBytesReceived += packet.Length;
        if (!_security.TryUnsealDatagram(packet, out packet))
        {
            return;
        }

        byte[] scratch = t_datagramScratch ?? new byte[WireLimits.DatagramMaxBytes];
        t_datagramScratch = null;
        try
        {
            DecodeError error = PacketReader.TryOpen(packet, WireLimits.DatagramMaxBytes, scratch, out PacketReader reader);
            if (error != DecodeError.None)
            {
                Counters.CountDecodeError(error);
                return;
            }

            while (reader.TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out bool known))
            {
                if (!known)
                {
                    Counters.UnknownMessagesSkipped++;
                    continue;
                }

                // One table for the kernel's messages and the modules'; push-pull belongs on streams.
                error = _table.Dispatch(from, type, payload, now);
                if (error != DecodeError.None)
                {
                    Counters.CountDecodeError(error);
                }
            }
        }
        finally
        {
            t_datagramScratch = scratch;
        }

        ReportLeaveIfDone(now);
    }

    /// <summary>The kernel's own message handlers, registered in the same table as the modules'.</summary>
    private void RegisterKernelMessages()
    {
        _table.Add<PingMessage>(this);
        _table.Add<IndirectPingMessage>(this);
        _table.Add<AckMessage>(this);
        _table.Add<NackMessage>(this);
        _table.Add<ViewChecksumMessage>(this);
        _table.Add<AliveMessage>(this);
        _table.Add<SuspectMessage>(this);
        _table.Add<DeadMessage>(this);
        _table.AddStream(MessageType.PushPull, this);
    }

    void IMessageHandler<PingMessage>.Handle(NodeAddress from, in PingMessage message, TimeSpan now) => HandlePing(from, message, now);

    void IMessageHandler<IndirectPingMessage>.Handle(NodeAddress from, in IndirectPingMessage message, TimeSpan now) => HandleIndirectPing(from, message, now);

    void IMessageHandler<AckMessage>.Handle(NodeAddress from, in AckMessage message, TimeSpan now) => HandleAck(from, message, now);

    void IMessageHandler<NackMessage>.Handle(NodeAddress from, in NackMessage message, TimeSpan now) => HandleNack(from, message, now);

    void IMessageHandler<ViewChecksumMessage>.Handle(NodeAddress from, in ViewChecksumMessage message, TimeSpan now) => HandleViewChecksum(from, message, now);

    void IMessageHandler<AliveMessage>.Handle(NodeAddress from, in AliveMessage message, TimeSpan now) => ApplyAlive(message, now);

    void IMessageHandler<SuspectMessage>.Handle(NodeAddress from, in SuspectMessage message, TimeSpan now) => ApplySuspect(message, now);

    void IMessageHandler<DeadMessage>.Handle(NodeAddress from, in DeadMessage message, TimeSpan now) => ApplyDead(message, now);

    void IStreamRequestHandler.HandleStreamRequest(long streamId, NodeAddress from, ReadOnlySpan<byte> request, TimeSpan now) => AnswerPushPull(streamId, from, request, now);

    /// <summary>Checks the node may take input and records the time; false when stopped or not started.</summary>
    private bool Enter(TimeSpan now)
    {
        if (_stopped)
        {
            return false;
        }

        if (!_started)
        {
            throw new InvalidOperationException("Start the node before feeding it input.");
        }

        if (now > _now)
        {
            _now = now;
        }

        return true;
    }

    private long NextToken() => ++_nextToken;

    private void SendPacket(NodeAddress to, ReadOnlySpan<byte> packet)
    {
        if (packet.IsEmpty)
        {
            return;
        }

        int threshold = _options.CompressionThresholdBytes;
        byte[]? scratch = null;
        if (threshold > 0 && packet.Length - WireLimits.OverheadBytes >= threshold)
        {
            int room = _options.PacketBudgetBytes; // as the node's own buffer was: what fits decides whether to compress
            scratch = t_compressScratch is { } held && held.Length >= room ? held : new byte[room];
            t_compressScratch = null;
            int compressed = PacketCompression.TryCompress(packet, scratch.AsSpan(0, room), threshold);
            if (compressed > 0)
            {
                Counters.CompressionBytesSaved += packet.Length - compressed;
                packet = scratch.AsSpan(0, compressed);
            }
        }

        try
        {
            packet = _security.SealDatagram(packet);
            Counters.PacketsSent++;
            Counters.PacketBytesSent += packet.Length;
            _host.SendPacket(to, packet);
        }
        finally
        {
            if (scratch is not null)
            {
                t_compressScratch = scratch; // the host has copied or sent the packet by now
            }
        }
    }

    /// <summary>The builder of this node's packet, reset to the plain packet budget (taken from the thread's spare when the node holds none).</summary>
    private PacketBuilder StartBuilding()
    {
        PacketBuilder? builder = _builder;
        if (builder is null)
        {
            builder = t_spareBuilder;
            if (builder is not null && builder.Capacity >= _options.PacketBudgetBytes)
            {
                t_spareBuilder = null;
            }
            else
            {
                builder = new PacketBuilder(_options.PacketBudgetBytes);
            }

            _builder = builder;
        }

        builder.Reset(PlainPacketBudget);
        return builder;
    }

    /// <summary>Sends the packet built in <see cref="StartBuilding"/> to <paramref name="to"/> and gives the builder back.</summary>
    private void SendBuilt(NodeAddress to)
    {
        PacketBuilder builder = _builder ?? throw new InvalidOperationException("No packet is being built.");
        SendPacket(to, builder.Finish()); // the host copies or sends it before returning
        ReleaseBuilder();
    }

    /// <summary>Gives the builder back to the thread's spare (a built packet not sent is dropped).</summary>
    private void ReleaseBuilder()
    {
        if (_builder is { } builder)
        {
            _builder = null;
            if (t_spareBuilder is null || t_spareBuilder.Capacity < builder.Capacity)
            {
                t_spareBuilder = builder;
            }
        }
    }

    /// <summary>Sends <paramref name="message"/> with as many queued broadcasts as fit beside it.</summary>
    private void SendWithPiggyback<T>(NodeAddress to, in T message) where T : struct, IWireMessage<T>
    {
        PacketBuilder builder = StartBuilding();
        if (!builder.TryAdd(message))
        {
            ReleaseBuilder();
            throw new InvalidOperationException($"A {T.Type} message does not fit the packet budget of {PlainPacketBudget} bytes.");
        }

        _broadcasts.Fill(builder, RetransmitLimit, to);
        SendBuilt(to);
    }

    private void QueueBroadcast(string? key, byte[] message, bool isLeave = false, BroadcastClass priority = BroadcastClass.Membership, TimeSpan? expiresAt = null, NodeAddress? learnedFrom = null)
    {
        long droppedBefore = _broadcasts.Dropped;
        _broadcasts.Enqueue(key, message, isLeave, priority, expiresAt, learnedFrom);
        Counters.BroadcastsQueued++;
        Counters.BroadcastsDropped += _broadcasts.Dropped - droppedBefore;
        if (_broadcasts.Dropped != droppedBefore)
        {
            Counters.SyncBroadcastClasses(_broadcasts);
        }
    }

    private void Emit(GossipEvent gossipEvent) => _host.OnEvent(gossipEvent);

    /// <summary>A stream packet in a pooled array, compressed into another when that pays (counted; the packet is then given back), else as it is.</summary>
    private PooledBytes CompressStream(PooledBytes packet)
    {
        PooledBytes result = PacketCompression.Compress(packet, _options.CompressionThresholdBytes, out int saved);
        Counters.CompressionBytesSaved += saved;
        return result;
    }

    /// <summary>
    /// The buffer for a compressed stream message's body (push-pull and state streams alike): a
    /// pooled one when it declares at most StreamMaxBytes (hundreds of kilobytes at a few thousand
    /// members, given back by disposing the result), else the exact one, bounded by StreamMaxBytes, which
    /// the decompression then refuses; <paramref name="buffer"/> is null when the packet is not compressed.
    /// </summary>
    private PooledBytes StreamScratch(ReadOnlySpan<byte> packet, out byte[]? buffer)
    {
        int declared = PacketCompression.DeclaredLength(packet);
        if (declared < 0)
        {
            buffer = null;
            return default;
        }

        if (declared <= _options.StreamMaxBytes)
        {
            PooledBytes pooled = PooledBytes.Rent(declared);
            buffer = pooled.Array;
            return pooled;
        }

        buffer = new byte[_options.StreamMaxBytes];
        return default;
    }

    private enum KernelTimerKind : byte
    {
        ProbeRound,
        GossipRound,
        PushPullRound,
        ProbeAckTimeout,
        ProbeDeadline,
        RelayTimeout,
        SuspicionTimeout,
        StreamDeadline,
        PushRound,
        MemberPushRound,
    }

    /// <summary>A kernel timer: what it is for, a token it checks (probe sequence, stream id, suspicion token), and the suspected member.</summary>
    private readonly record struct KernelTimer(KernelTimerKind Kind, long Token = 0, Member? Member = null);
}
