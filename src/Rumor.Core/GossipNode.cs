using Rumor.Core.Diagnostics;
using Rumor.Core.Dissemination;
using Rumor.Core.FailureDetection;
using Rumor.Core.Membership;
using Rumor.Core.Randomness;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core;

/// <summary>
/// One gossip member as a sans-IO state machine: SWIM membership and failure detection (direct and
/// indirect probes, suspicion with incarnation refutation, Lifeguard's dynamic suspicion), rumor
/// mongering through a transmit-limited broadcast queue piggybacked on every packet, and full-state
/// push-pull anti-entropy over streams (join, periodic sync, and a seed every M rounds).
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
public sealed partial class GossipNode
{
    private readonly GossipOptions _options;
    private readonly IGossipHost _host;
    private readonly IRandomSource _random;
    private readonly NameTable _names;
    private readonly Dictionary<string, Member> _byName = new(StringComparer.Ordinal);
    private readonly List<Member> _members = [];
    private readonly BroadcastQueue _broadcasts;
    private readonly TimerQueue _timers = new();
    private readonly PacketBuilder _builder;
    private readonly byte[] _datagramScratch = new byte[WireLimits.DatagramMaxBytes];
    private readonly byte[] _compressScratch;
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
        _broadcasts = new BroadcastQueue(options.BroadcastQueueMax, options.BroadcastLowerClassShare);
        _builder = new PacketBuilder(options.PacketBudgetBytes);
        _compressScratch = new byte[options.PacketBudgetBytes];
        _health = new LocalHealth(options.AwarenessMaxMultiplier);
        _verdicts = new VerdictLog(options.VerdictsMax);
        _self = new Member(_names.Intern(options.Name), options.AdvertiseAddress, isLocal: true)
        {
            Generation = options.Generation,
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
    public TimeSpan NextTimerDue => _stopped ? TimeSpan.MaxValue : _timers.NextDue;

    /// <summary>True after <see cref="Leave"/>.</summary>
    public bool IsLeaving => _leaving;

    /// <summary>Broadcasts waiting to be piggybacked.</summary>
    public int PendingBroadcasts => _broadcasts.Count;

    /// <summary>Members that are alive or suspect, this node included.</summary>
    public int ActiveMemberCount { get; private set; }

    /// <summary>The current broadcast retransmit limit: RetransmitMultiplier × ceil(log10(N + 1)).</summary>
    public int RetransmitLimit => _options.RetransmitMultiplier * (int)Math.Ceiling(Math.Log10(ActiveMemberCount + 1));

    /// <summary>Looks a member up by name.</summary>
    public Member? FindMember(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Starts the protocol timers and announces ourselves. Call once, before any other input.</summary>
    public void Start(TimeSpan now)
    {
        if (_started)
        {
            throw new InvalidOperationException("The node has already been started.");
        }

        _started = true;
        _now = now;
        _self.StateChangedAt = now;

        // Stagger the first rounds so that nodes started together do not march in step.
        _timers.Schedule(now + _random.NextDuration(_options.ProbeInterval), TimerKind.ProbeRound);
        _timers.Schedule(now + _random.NextDuration(_options.GossipInterval), TimerKind.GossipRound);
        _timers.Schedule(now + _random.NextDuration(_options.PushPullInterval), TimerKind.PushPullRound);
        QueueBroadcast(_self.Name, PacketBuilder.EncodeMessage(SelfAlive()));
        StartState(now);
        StartHeartbeats(now);
        StartEvents(now);
        StartAggregates(now);
    }

    /// <summary>Stops all activity: no more timers or sends. Inputs after this are ignored.</summary>
    public void Stop()
    {
        _stopped = true;
        _timers.Clear();
        _pendingStreams.Clear();
        _relays.Clear();
        _fallbackStreams.Clear();
        _probe = null;
    }

    /// <summary>Fires every timer due at <paramref name="now"/>.</summary>
    public void OnTick(TimeSpan now)
    {
        if (!Enter(now))
        {
            return;
        }

        // Before any timer fires: a probe deadline fired late must see the stall it belongs to.
        DetectLateTimers(now);
        while (_timers.TryDequeueDue(now, out TimerEntry entry))
        {
            switch (entry.Kind)
            {
                case TimerKind.ProbeRound:
                    ProbeRound(now);
                    break;
                case TimerKind.GossipRound:
                    GossipRound(now);
                    break;
                case TimerKind.PushPullRound:
                    PushPullRound(now);
                    break;
                case TimerKind.ProbeAckTimeout:
                    ProbeAckTimeout(entry.Token, now);
                    break;
                case TimerKind.ProbeDeadline:
                    ProbeDeadline(entry.Token, now);
                    break;
                case TimerKind.RelayTimeout:
                    RelayTimeout(entry.Token);
                    break;
                case TimerKind.SuspicionTimeout:
                    SuspicionTimeout((Member)entry.Target!, entry.Token, now);
                    break;
                case TimerKind.StreamDeadline:
                    StreamDeadline(entry.Token, now);
                    break;
                case TimerKind.StateRound:
                    StateRound(now);
                    break;
                case TimerKind.StateMaintenance:
                    StateMaintenance(now);
                    break;
                case TimerKind.StateStreamDeadline:
                    TryFailStateStream(entry.Token);
                    break;
                case TimerKind.HeartbeatRound:
                    HeartbeatRound(entry.Token, now);
                    break;
                case TimerKind.EventRound or TimerKind.EventMaintenance or TimerKind.QueryTimeout:
                    OnEventTimer(entry, now);
                    break;
                case TimerKind.AggregateRound:
                    OnAggregateTimer(entry, now);
                    break;
            }
        }

        ReportLeaveIfDone(now);
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
        DecodeError error = PacketReader.TryOpen(packet, WireLimits.DatagramMaxBytes, _datagramScratch, out PacketReader reader);
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

            error = Dispatch(from, type, payload, now);
            if (error != DecodeError.None)
            {
                Counters.CountDecodeError(error);
            }
        }

        ReportLeaveIfDone(now);
    }

    private DecodeError Dispatch(NodeAddress from, MessageType type, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        DecodeError error;
        switch (type)
        {
            case MessageType.Ping:
                error = PingMessage.TryDecode(payload, _names, out PingMessage ping);
                if (error == DecodeError.None)
                {
                    HandlePing(from, ping);
                }

                return error;
            case MessageType.IndirectPing:
                error = IndirectPingMessage.TryDecode(payload, _names, out IndirectPingMessage indirect);
                if (error == DecodeError.None)
                {
                    HandleIndirectPing(from, indirect, now);
                }

                return error;
            case MessageType.Ack:
                error = AckMessage.TryDecode(payload, _names, out AckMessage ack);
                if (error == DecodeError.None)
                {
                    HandleAck(ack, now);
                }

                return error;
            case MessageType.Nack:
                error = NackMessage.TryDecode(payload, _names, out NackMessage nack);
                if (error == DecodeError.None)
                {
                    HandleNack(nack);
                }

                return error;
            case MessageType.Alive:
                error = AliveMessage.TryDecode(payload, _names, out AliveMessage alive);
                if (error == DecodeError.None)
                {
                    ApplyAlive(alive, now);
                }

                return error;
            case MessageType.Suspect:
                error = SuspectMessage.TryDecode(payload, _names, out SuspectMessage suspect);
                if (error == DecodeError.None)
                {
                    ApplySuspect(suspect, now);
                }

                return error;
            case MessageType.Dead:
                error = DeadMessage.TryDecode(payload, _names, out DeadMessage dead);
                if (error == DecodeError.None)
                {
                    ApplyDead(dead, now);
                }

                return error;
            case MessageType.StateDigest:
                error = StateDigestMessage.TryDecode(payload, _names, out StateDigestMessage digest);
                if (error == DecodeError.None)
                {
                    HandleStateDigest(from, digest, now);
                }

                return error;
            case MessageType.StateDelta:
                error = StateDeltaMessage.TryDecode(payload, _names, out StateDeltaMessage delta);
                if (error == DecodeError.None)
                {
                    HandleStateDelta(from, delta, now);
                }

                return error;
            case MessageType.Heartbeats:
                error = HeartbeatsMessage.TryDecode(payload, _names, out HeartbeatsMessage heartbeats);
                if (error == DecodeError.None)
                {
                    HandleHeartbeats(heartbeats, now);
                }

                return error;
            case MessageType.StateChecksum:
                error = StateChecksumMessage.TryDecode(payload, _names, out StateChecksumMessage checksum);
                if (error == DecodeError.None)
                {
                    HandleStateChecksum(checksum, now);
                }

                return error;
            case MessageType.UserEvent or MessageType.EventDigest or MessageType.Query or MessageType.QueryResponse:
                return DispatchEvents(from, type, payload, now);
            case MessageType.Aggregate:
                return DispatchAggregate(from, payload, now);
            default:
                // Push-pull belongs on streams; anything else here is not ours to handle.
                return DecodeError.Malformed;
        }
    }

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
        if (threshold > 0 && packet.Length - WireLimits.OverheadBytes >= threshold)
        {
            int compressed = PacketCompression.TryCompress(packet, _compressScratch, threshold);
            if (compressed > 0)
            {
                Counters.CompressionBytesSaved += packet.Length - compressed;
                packet = _compressScratch.AsSpan(0, compressed);
            }
        }

        Counters.PacketsSent++;
        Counters.PacketBytesSent += packet.Length;
        _host.SendPacket(to, packet);
    }

    /// <summary>Sends <paramref name="message"/> with as many queued broadcasts as fit beside it.</summary>
    private void SendWithPiggyback<T>(NodeAddress to, in T message) where T : struct, IWireMessage<T>
    {
        _builder.Reset(_options.PacketBudgetBytes);
        if (!_builder.TryAdd(message))
        {
            throw new InvalidOperationException($"A {T.Type} message does not fit the packet budget of {_options.PacketBudgetBytes} bytes.");
        }

        _broadcasts.Fill(_builder, RetransmitLimit);
        SendPacket(to, _builder.Finish());
    }

    private void QueueBroadcast(string? key, byte[] message, bool isLeave = false, BroadcastClass priority = BroadcastClass.Membership, TimeSpan? expiresAt = null)
    {
        long droppedBefore = _broadcasts.Dropped;
        _broadcasts.Enqueue(key, message, isLeave, priority, expiresAt);
        Counters.BroadcastsQueued++;
        Counters.BroadcastsDropped += _broadcasts.Dropped - droppedBefore;
        if (_broadcasts.Dropped != droppedBefore)
        {
            Counters.SyncBroadcastClasses(_broadcasts);
        }
    }

    private void Emit(GossipEvent gossipEvent) => _host.OnEvent(gossipEvent);

    /// <summary>A stream message compressed when that pays (counted), else as it is.</summary>
    private byte[] CompressStream(byte[] packet)
    {
        byte[] result = PacketCompression.Compress(packet, _options.CompressionThresholdBytes, out int saved);
        Counters.CompressionBytesSaved += saved;
        return result;
    }

    /// <summary>A buffer for a compressed stream message's body, sized by its declared length (bounded by StreamMaxBytes); null when it is not compressed.</summary>
    private byte[]? StreamScratch(ReadOnlySpan<byte> packet)
    {
        int declared = PacketCompression.DeclaredLength(packet);
        return declared < 0 ? null : new byte[Math.Min(declared, _options.StreamMaxBytes)];
    }
}
