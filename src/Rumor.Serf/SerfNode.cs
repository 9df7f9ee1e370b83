using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Rumor.Core.Coordinates;
using Rumor.Serf.Wire;

namespace Rumor.Serf;

/// <summary>
/// A member of a HashiCorp Serf cluster, written in C#: memberlist 0.2.2's SWIM (probe, indirect
/// probe with nacks, Lifeguard suspicion, refutation, alive/suspect/dead gossip, push/pull over
/// TCP) with Serf 0.9.4's layer on top (tags in node meta, join and leave intents, user events, the
/// three Lamport clocks, the push/pull user state). It speaks the wire format byte for byte, so a
/// real <c>serf agent</c> lists it as a member.
/// <para>
/// Threading: one lock guards all state. The UDP receive loop, the TCP accept loop and the timer
/// loop each take it for the duration of one input; sockets are written under the lock (UDP
/// sends do not block), TCP exchanges run outside it. Events are raised after the lock is released.
/// The timer loop sleeps until the earliest deadline that has work behind it and is woken early by
/// an input that moves a deadline earlier (SerfNode.Wake.cs).
/// </para>
/// </summary>
public sealed partial class SerfNode : IAsyncDisposable
{
    private readonly SerfNodeOptions _options;
    private readonly object _gate = new();
    private readonly Socket _udp;
    private readonly TcpListener _tcp;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Random _random;
    private readonly long _startTimestamp = Stopwatch.GetTimestamp();
    private readonly Dictionary<string, Peer> _peers = new(StringComparer.Ordinal);
    private readonly SerfBroadcastQueue _broadcasts = new();
    private readonly List<Action> _pendingEvents = [];
    private readonly List<Task> _loops = [];
    private Peer _self = null!;
    private bool _disposed;

    private SerfNode(SerfNodeOptions options, Socket udp, TcpListener tcp)
    {
        _options = options;
        _udp = udp;
        _tcp = tcp;
        _random = options.RandomSeed is { } seed ? new Random(seed) : new Random();
        _vivaldi = new VivaldiClient(options.Vivaldi, _random.NextDouble);
    }

    /// <summary>A member changed (join, update, leave, failed), Serf's view.</summary>
    public event Action<SerfMemberEvent>? MemberChanged;

    /// <summary>A user event arrived for the first time (also raised for this node's own events, as Serf does).</summary>
    public event Action<SerfUserEvent>? UserEventReceived;

    /// <summary>The node's name.</summary>
    public string Name => _options.Name;

    /// <summary>The bound gossip endpoint (UDP and TCP).</summary>
    public IPEndPoint EndPoint { get; private set; } = null!;

    /// <summary>The address in this node's alive records and pings.</summary>
    public IPAddress AdvertisedAddress { get; private set; } = IPAddress.None;

    /// <summary>Counters of what was dropped and why.</summary>
    public SerfCounters Counters { get; } = new();

    /// <summary>The member clock (join/leave intents).</summary>
    public ulong MemberClock
    {
        get
        {
            lock (_gate)
            {
                return _memberClock.Time;
            }
        }
    }

    /// <summary>The event clock.</summary>
    public ulong EventClock
    {
        get
        {
            lock (_gate)
            {
                return _eventClock.Time;
            }
        }
    }

    /// <summary>Binds UDP and TCP on <see cref="SerfNodeOptions.Bind"/> and starts probing, gossip and push/pull.</summary>
    public static SerfNode Start(SerfNodeOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(options.Name);
        byte[] meta = SerfTags.Encode(options.Tags);
        Socket udp = new(options.Bind.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        TcpListener? tcp = null;
        try
        {
            udp.Bind(options.Bind);
            IPEndPoint bound = (IPEndPoint)udp.LocalEndPoint!;
            tcp = new TcpListener(bound);
            tcp.Start(128);
            IPAddress advertise = options.Advertise ?? bound.Address;
            if (advertise.Equals(IPAddress.Any) || advertise.Equals(IPAddress.IPv6Any))
            {
                throw new ArgumentException($"bound to {bound.Address}: give an address to advertise (Serf members must know where to reach this node)", nameof(options));
            }

            SerfNode node = new(options, udp, tcp);
            node.EndPoint = bound;
            node.AdvertisedAddress = advertise;
            node.Initialize(meta);
            return node;
        }
        catch
        {
            udp.Dispose();
            tcp?.Stop();
            throw;
        }
    }

    private void Initialize(byte[] meta)
    {
        TimeSpan now = Now;
        _self = new Peer(_options.Name, AdvertisedAddress, (ushort)EndPoint.Port)
        {
            Meta = meta,
            Incarnation = 1,
            State = MemberlistState.Alive,
            Vsn = NodeRecord.SerfAgentVsn,
            StateChangedAt = now,
            Status = SerfMemberStatus.Alive,
        };
        _self.Tags = new Dictionary<string, string>(_options.Tags, StringComparer.Ordinal);
        _peers[_self.Name] = _self;

        // memberlist's setAlive: the node's own alive is queued at start, so once it knows members
        // (the join's push/pull) it tells them about itself in its own gossip rounds, beside the
        // seed's gossip about it; a joiner is known sooner (issue 14, mixed-cluster convergence).
        _broadcasts.Enqueue(Key(_self.Name), _self.ToRecord().EncodeAlive());
        _nextProbeAt = now + _options.ProbeInterval;
        _nextGossipAt = now + _options.GossipInterval;
        _nextReapAt = now + _options.ReapInterval;
        _nextPushPullAt = now + _options.PushPullInterval * (0.5 + _random.NextDouble() / 2);
        _probeSeq = (uint)_random.Next();
        _loops.Add(Task.Run(ReceiveLoopAsync));
        _loops.Add(Task.Run(AcceptLoopAsync));
        _loops.Add(Task.Run(TickLoopAsync));
    }

    private TimeSpan Now => Stopwatch.GetElapsedTime(_startTimestamp);

    /// <summary>Every member this node knows, itself included, in name order.</summary>
    public IReadOnlyList<SerfMember> Members
    {
        get
        {
            lock (_gate)
            {
                return [.. _peers.Values.OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => p.Snapshot())];
            }
        }
    }

    /// <summary>The member named <paramref name="name"/>, if known.</summary>
    public SerfMember? FindMember(string name)
    {
        lock (_gate)
        {
            return _peers.TryGetValue(name, out Peer? peer) ? peer.Snapshot() : null;
        }
    }

    /// <summary>Stops at once without leaving: to the cluster this node has crashed (Serf will mark it failed).</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _broadcasts.Clear();
        }

        await _stopping.CancelAsync();
        _udp.Dispose();
        _tcp.Stop();
        try
        {
            await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or TimeoutException)
        {
            // The loops end on cancellation or a closed socket; either is the expected way out.
        }

        _stopping.Dispose();
        _wake.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        byte[] buffer = new byte[65536];
        EndPoint any = new IPEndPoint(EndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!_stopping.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, any, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // ICMP port unreachable from an earlier send shows up here on some systems: keep reading.
                continue;
            }

            byte[] packet = buffer.AsSpan(0, received.ReceivedBytes).ToArray();
            Run(() => HandlePacket(packet, (IPEndPoint)received.RemoteEndPoint));
        }
    }

    // Runs one input under the lock, then raises the events it produced outside the lock.
    private void Run(Action input) => RunInput(input, tick: false);

    // One input under the lock: idle schedules caught up first (Wake), then the input, the
    // immediate push it asked for, and the timer loop's next wake-up recomputed (for the loop's
    // own tick, returned to it; for any other input, the loop is signalled only when the input
    // moved the wake-up earlier). Events are raised after the lock is released.
    private TimeSpan RunInput(Action input, bool tick)
    {
        List<Action> events;
        TimeSpan wakeAt;
        lock (_gate)
        {
            if (_disposed)
            {
                return TimeSpan.MaxValue;
            }

            TimeSpan now = Now;
            CatchUpIdleSchedules(now);
            input();
            if (_immediatePushWanted || _memberPushWanted)
            {
                ImmediatePush(forEvent: _immediatePushWanted);
                _immediatePushWanted = false;
                _memberPushWanted = false;
            }

            wakeAt = ArmWake(Now, tick);
            if (_pendingEvents.Count == 0)
            {
                return wakeAt;
            }

            events = [.. _pendingEvents];
            _pendingEvents.Clear();
        }

        foreach (Action raise in events)
        {
            try
            {
                raise();
            }
            catch (Exception)
            {
                Counters.HandlerFailures++;
            }
        }

        return wakeAt;
    }

    private void Tick()
    {
        TimeSpan now = Now;
        ProbeTick(now);
        SuspicionTick(now);
        ReapTick(now);
        if (now >= _nextGossipAt)
        {
            _nextGossipAt = now + _options.GossipInterval;
            Gossip(now);
        }

        if (now >= _nextPushPullAt)
        {
            int n = _peers.Values.Count(p => p.State == MemberlistState.Alive);
            double scale = n <= 32 ? 1 : Math.Ceiling(Math.Log2(n) - Math.Log2(32)) + 1;
            _nextPushPullAt = now + _options.PushPullInterval * scale;
            Peer? target = RandomPeers(1, p => p.State == MemberlistState.Alive).FirstOrDefault();
            if (target is not null)
            {
                IPEndPoint to = new(target.Address, target.Port);
                _ = Task.Run(() => PushPullAsync(to, join: false, _stopping.Token));
            }
        }
    }

    private void HandlePacket(byte[] packet, IPEndPoint from)
    {
        Counters.PacketsReceived++;
        if (_options.Keyring is { } keyring)
        {
            if (!keyring.TryDecrypt(packet, [], out byte[] plain))
            {
                Counters.DecryptFailures++;
                return;
            }

            packet = plain;
        }

        List<WireMessage> messages = [];
        if (!Packet.TryUnpack(packet, messages, out _))
        {
            Counters.MalformedPackets++;
        }

        foreach (WireMessage message in messages)
        {
            if (!HandleMessage(message, from))
            {
                Counters.MalformedMessages++;
            }
        }
    }

    // One message from a datagram (or a stream's user message); false when it was malformed.
    private bool HandleMessage(WireMessage message, IPEndPoint from)
    {
        TimeSpan now = Now;
        switch (message.Type)
        {
            case MemberlistType.Ping:
                if (!PingMessage.TryDecode(message.Body, out PingMessage ping))
                {
                    return false;
                }

                HandlePing(ping, from);
                return true;
            case MemberlistType.IndirectPing:
                if (!IndirectPingMessage.TryDecode(message.Body, out IndirectPingMessage indirect))
                {
                    return false;
                }

                HandleIndirectPing(indirect, from, now);
                return true;
            case MemberlistType.Ack:
                if (!AckMessage.TryDecode(message.Body, out AckMessage ack))
                {
                    return false;
                }

                HandleAck(ack, now);
                return true;
            case MemberlistType.Nack:
                if (!NackMessage.TryDecode(message.Body, out NackMessage nack))
                {
                    return false;
                }

                HandleNack(nack);
                return true;
            case MemberlistType.Suspect:
                if (!AccusationMessage.TryDecode(message.Body, out AccusationMessage suspect))
                {
                    return false;
                }

                HandleSuspect(suspect, now);
                return true;
            case MemberlistType.Alive:
                if (!NodeRecord.TryDecodeAlive(message.Body, out NodeRecord alive))
                {
                    return false;
                }

                HandleAlive(alive, now);
                return true;
            case MemberlistType.Dead:
                if (!AccusationMessage.TryDecode(message.Body, out AccusationMessage dead))
                {
                    return false;
                }

                HandleDead(dead, now);
                return true;
            case MemberlistType.User:
                return HandleSerfMessage(message.Body, now);
            default:
                // Push/pull, encrypt and err only arrive on streams; types newer than 0.2.2 are not ours.
                Counters.UnknownMessages++;
                return true;
        }
    }

    // memberlist's rawSendMsgPacket order: compress (when enabled and smaller), then CRC, then encrypt.
    private void SendTo(IPEndPoint to, byte[] packet) => SendRaw(to, Compressed(packet));

    private byte[] Compressed(byte[] packet)
    {
        if (!_options.EnableCompression)
        {
            return packet;
        }

        byte[] compressed = Packet.Compress(packet);
        if (compressed.Length >= packet.Length)
        {
            return packet; // memberlist keeps the compressed form only when it is smaller
        }

        Counters.PacketsCompressed++;
        return compressed;
    }

    private void SendRaw(IPEndPoint to, byte[] packet)
    {
        try
        {
            _udp.SendTo(_options.Keyring is { } keyring ? keyring.Encrypt(packet, []) : packet, to);
            Counters.PacketsSent++;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or ArgumentException)
        {
            Counters.SendFailures++;
        }
    }

    private void SendTo(Peer peer, byte[] packet, bool crc)
    {
        byte[] wrapped = Compressed(packet);
        SendRaw(new IPEndPoint(peer.Address, peer.Port), crc && peer.ProtocolMax >= 5 ? Packet.WithCrc(wrapped) : wrapped);
    }

    // Up to count distinct random peers other than self that pass the filter.
    private List<Peer> RandomPeers(int count, Func<Peer, bool> filter)
    {
        List<Peer> candidates = [.. _peers.Values.Where(p => p != _self && filter(p)).OrderBy(p => p.Name, StringComparer.Ordinal)];
        for (int i = candidates.Count - 1; i > 0; i--)
        {
            int j = _random.Next(i + 1);
            (candidates[i], candidates[j]) = (candidates[j], candidates[i]);
        }

        return candidates.Count <= count ? candidates : candidates.GetRange(0, count);
    }

    private void Gossip(TimeSpan now) => GossipTo(RandomPeers(_options.GossipNodes, p =>
        p.State is MemberlistState.Alive or MemberlistState.Suspect
        || (p.State is MemberlistState.Dead or MemberlistState.Left && now - p.StateChangedAt < _options.GossipToTheDeadTime)));

    // One gossip round to the given targets: each gets a compound of the waiting broadcasts
    // (memberlist's gossip: every send counts against each broadcast's retransmit limit).
    private void GossipTo(List<Peer> targets)
    {
        int memberCount = _peers.Values.Count(p => p.State != MemberlistState.Dead && p.State != MemberlistState.Left);
        foreach (Peer target in targets)
        {
            // Budget: the packet less the compound header (2), 2 bytes per part and the CRC wrapper (5).
            List<byte[]> parts = _broadcasts.Take(_options.PacketBytesMax - 7 - (_options.Keyring is null ? 0 : SerfKeyring.Overhead), 2, memberCount, _options.RetransmitMult, Packet.MaxCompoundParts);
            if (parts.Count == 0)
            {
                return;
            }

            SendTo(target, Packet.Compound(parts), crc: true);
        }
    }

    private void Raise(Action raise) => _pendingEvents.Add(raise);

    private void RaiseMemberEvent(SerfMemberEventKind kind, Peer peer)
    {
        SerfMemberEvent e = new(kind, peer.Snapshot());
        Raise(() => MemberChanged?.Invoke(e));
    }
}

/// <summary>What a <see cref="SerfNode"/> counted (read without the node's lock: approximate while it runs).</summary>
public sealed class SerfCounters
{
    /// <summary>Datagrams read.</summary>
    public long PacketsReceived { get; internal set; }

    /// <summary>Datagrams written.</summary>
    public long PacketsSent { get; internal set; }

    /// <summary>Datagrams whose framing (CRC, compound, compress) was bad.</summary>
    public long MalformedPackets { get; internal set; }

    /// <summary>Messages whose body did not decode.</summary>
    public long MalformedMessages { get; internal set; }

    /// <summary>Messages of a type this node does not handle.</summary>
    public long UnknownMessages { get; internal set; }

    /// <summary>Streams that were malformed, too large, too slow or refused.</summary>
    public long BadStreams { get; internal set; }

    /// <summary>Sends the socket refused.</summary>
    public long SendFailures { get; internal set; }

    /// <summary>Event handlers that threw.</summary>
    public long HandlerFailures { get; internal set; }

    /// <summary>Times this node refuted an accusation about itself with a higher incarnation.</summary>
    public long Refutations { get; internal set; }

    /// <summary>Probes that got no ack by the end of the interval (the member became suspect).</summary>
    public long ProbesFailed { get; internal set; }

    /// <summary>Query responses not sent because the handler's payload exceeded Serf's 1024-byte limit.</summary>
    public long QueryResponsesTooLarge { get; internal set; }

    /// <summary>Packets or streams no key of the keyring decrypted (or plaintext refused while encrypting).</summary>
    public long DecryptFailures { get; internal set; }

    /// <summary>News ignored because the member table was full.</summary>
    public long MembersRefused { get; internal set; }

    /// <summary>Ack payloads whose coordinate was undecodable, invalid, of another dimensionality, or came with an out-of-range RTT.</summary>
    public long CoordinatesRejected { get; internal set; }

    /// <summary>Key queries (install, use, remove) that changed or confirmed this node's keyring.</summary>
    public long KeyringChanges { get; internal set; }

    /// <summary>Datagrams sent LZW-compressed (<see cref="SerfNodeOptions.EnableCompression"/>).</summary>
    public long PacketsCompressed { get; internal set; }

    /// <summary>Times a key change rewrote the keyring file (<see cref="SerfNodeOptions.KeyringFile"/>).</summary>
    public long KeyringFileWrites { get; internal set; }

    /// <summary>Name-conflict queries (<c>_serf_conflict</c>) this node answered.</summary>
    public long ConflictQueriesAnswered { get; internal set; }

    /// <summary>Query responses and acks this node sent on to a relay's destination (others' answers; Serf's relay factor).</summary>
    public long QueryResponsesRelayed { get; internal set; }

    /// <summary>Copies of this node's own responses and acks sent through other members for relaying.</summary>
    public long QueryRelaysSent { get; internal set; }

    /// <summary>Responses and acks to this node's queries that arrived again (through a relay, or twice): dropped.</summary>
    public long QueryResponsesDuplicate { get; internal set; }

    /// <summary>Failed and left members forgotten by the reaper (<see cref="SerfNodeOptions.ReconnectTimeout"/>, <see cref="SerfNodeOptions.TombstoneTimeout"/>), each with a member-reap event.</summary>
    public long MembersReaped { get; internal set; }

    /// <summary>Extra gossip rounds sent at once for a new user event or query (<see cref="SerfNodeOptions.EventImmediatePush"/>).</summary>
    public long ImmediatePushes { get; internal set; }

    /// <summary>Extra gossip rounds sent at once for membership news only: this node's join, or a member new to it (<see cref="SerfNodeOptions.MemberImmediatePush"/>). A round wanted for both news and an event counts as an <see cref="ImmediatePushes"/>.</summary>
    public long MemberPushes { get; internal set; }

    /// <summary>Times the timer loop woke up (a deadline came, or an input moved one earlier). An idle node with no peers wakes not at all.</summary>
    public long TimerWakeups { get; internal set; }
}
