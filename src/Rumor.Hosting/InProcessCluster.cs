using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Rumor.Core;
using Rumor.Core.Events;
using Rumor.Core.Membership;
using Rumor.Transport;

namespace Rumor.Hosting;

/// <summary>
/// Many nodes in one process, each behind real sockets of its own (a <see cref="GossipTransport"/>:
/// a UDP socket and a TCP listener on its own port or loopback address), for testing real-socket
/// scale without N processes (<c>rumor cluster</c>, docs/OPERATIONS.md). Nodes are numbered 0 to
/// N−1 and named <c>{prefix}{i}</c>; node i binds port <c>first.Port + i</c> (or address
/// <c>first + i</c> with <see cref="ClusterAddressing.Hosts"/>).
/// <para>
/// Each node keeps the transport's own event loop: one dedicated loop thread and one receive thread
/// per node. That costs 2N threads (their stacks are reserved, not resident), and each sleeps
/// until its node has something to do, so a shared scheduler would save threads but not work;
/// docs/BENCHMARKS.md has the figures at N = 100, 500 and 1,000.
/// </para>
/// <para>
/// To measure spread, every node's event stream is read by a task of its own (awaiting, so it
/// costs nothing while idle) which stamps the first time the node saw each tracked thing: a user
/// event by name, a key by owner and key, a member declared failed or suspected. The origin of each
/// (the send, the set, the kill) is stamped by the method that caused it, so
/// <see cref="Spread(string)"/> answers how many running nodes have it and how long after its
/// origin the first and the last got it. At most <see cref="TrackedPerNodeMax"/> things per node; past it they are counted in <see cref="TrackedDropped"/>.
/// </para>
/// </summary>
public sealed class InProcessCluster : IAsyncDisposable
{
    /// <summary>Most distinct tracked things (events, keys, verdicts) remembered per node.</summary>
    public const int TrackedPerNodeMax = 4096;

    /// <summary>Join attempts per node before its join counts as failed (<see cref="ClusterSummary.JoinsFailed"/>).</summary>
    public const int JoinAttemptsMax = 3;

    /// <summary>Bytes of IPv4 and UDP headers on every datagram (20 + 8), counted in <see cref="TrafficReport"/>.</summary>
    public const int DatagramHeaderBytes = 28;

    private readonly InProcessClusterOptions _options;
    private readonly ClusterMember[] _nodes;
    private readonly ConcurrentDictionary<string, long> _origins = new(StringComparer.Ordinal);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _trackedDropped;
    private int _disposed;

    private InProcessCluster(InProcessClusterOptions options, ClusterMember[] nodes)
    {
        _options = options;
        _nodes = nodes;
    }

    /// <summary>How many nodes the cluster was started with (killed ones included).</summary>
    public int Count => _nodes.Length;

    /// <summary>The options it started with.</summary>
    public InProcessClusterOptions Options => _options;

    /// <summary>Node <paramref name="index"/> (0-based).</summary>
    public ClusterMember this[int index] => _nodes[index];

    /// <summary>Every node, in index order.</summary>
    public IReadOnlyList<ClusterMember> Nodes => _nodes;

    /// <summary>Milliseconds since the cluster object was created: the clock of every time it reports.</summary>
    public double ElapsedMs => _clock.Elapsed.TotalMilliseconds;

    /// <summary>Tracked things not remembered because a node already held <see cref="TrackedPerNodeMax"/>.</summary>
    public long TrackedDropped => Interlocked.Read(ref _trackedDropped);

    /// <summary>The address node <paramref name="index"/> binds, from the first address and the addressing scheme.</summary>
    public static NodeAddress AddressOf(InProcessClusterOptions options, int index)
    {
        ArgumentNullException.ThrowIfNull(options);
        IPAddress first = options.FirstAddress.ToIPAddress();
        if (options.Addressing == ClusterAddressing.Ports)
        {
            return NodeAddress.From(first, options.FirstAddress.Port + index);
        }

        byte[] bytes = first.GetAddressBytes();
        int carry = index;
        for (int b = bytes.Length - 1; b >= 0 && carry > 0; b--)
        {
            int sum = bytes[b] + carry;
            bytes[b] = (byte)(sum & 0xFF);
            carry = sum >> 8;
        }

        return NodeAddress.From(new IPAddress(bytes), options.FirstAddress.Port);
    }

    /// <summary>
    /// Binds and starts every node (bounded parallelism), then joins nodes 1 to N−1 through node 0
    /// and one node started before them. Throws <see cref="TransportBindException"/> when an address
    /// is taken (every node started so far is stopped first), and <see cref="ArgumentException"/>
    /// for invalid options. Returns once every join attempt answered; convergence follows by gossip
    /// (<see cref="WaitUntilConvergedAsync"/>).
    /// </summary>
    public static async Task<InProcessCluster> StartAsync(InProcessClusterOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<string> problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid cluster options: " + string.Join(" ", problems), nameof(options));
        }

        ClusterMember[] nodes = new ClusterMember[options.Nodes];
        InProcessCluster cluster = new(options, nodes);
        try
        {
            await ForEachAsync(options.Nodes, options.StartParallelism, async i => nodes[i] = await cluster.StartNodeAsync(i, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            cluster.JoinStartedAtMs = cluster.ElapsedMs;
            await ForEachAsync(options.Nodes - 1, options.JoinParallelism, i => cluster.JoinAsync(i + 1, cancellationToken), cancellationToken).ConfigureAwait(false);
            cluster.JoinedAtMs = cluster.ElapsedMs;
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>When the joins began (ms on <see cref="ElapsedMs"/>'s clock): every node was bound and running by then.</summary>
    public double JoinStartedAtMs { get; private set; }

    /// <summary>When every join attempt had answered.</summary>
    public double JoinedAtMs { get; private set; }

    /// <summary>When <see cref="WaitUntilConvergedAsync"/> first saw every running node see every running node alive; null until then.</summary>
    public double? ConvergedAtMs { get; private set; }

    private async Task<ClusterMember> StartNodeAsync(int index, CancellationToken cancellationToken)
    {
        string name = _options.NamePrefix + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        NodeAddress address = AddressOf(_options, index);
        RumorOptions rumor = new();
        _options.Template.CopyTo(rumor);
        rumor.Name = name;
        rumor.Bind = address.ToString();
        rumor.Advertise = null;
        rumor.Seeds = [];
        rumor.DataDirectory = null;
        rumor.RandomSeed = _options.RandomSeed is { } seed ? seed + (ulong)index : null;
        ResolvedRumorOptions resolved = ResolvedRumorOptions.Resolve(rumor);
        GossipTransportSettings settings = new() { BindAddress = resolved.Bind, RandomSeed = rumor.RandomSeed };
        GossipTransport transport = await GossipTransport.StartAsync(resolved.Options, settings, cancellationToken).ConfigureAwait(false);
        ClusterMember member = new(index, transport);
        try
        {
            // Every key change of every owner becomes a KeyChanged event the pump sees.
            await transport.InvokeAsync(node => node.Watch(string.Empty), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await transport.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        member.Pump = Task.Run(() => PumpAsync(member), CancellationToken.None);
        return member;
    }

    private async Task JoinAsync(int index, CancellationToken cancellationToken)
    {
        GossipTransport transport = _nodes[index].Transport!;
        NodeAddress[] seeds = ManyNodeJoin.Seeds(index, k => _nodes[k].Address);
        // On a loaded machine a seed may answer after StreamTimeout: ask again, a bounded number of times.
        JoinResult result = await transport.JoinAsync(seeds, cancellationToken).ConfigureAwait(false);
        int failures = result.Failed.Count;
        for (int attempt = 1; !result.Joined && attempt < JoinAttemptsMax; attempt++)
        {
            result = await transport.JoinAsync(seeds, cancellationToken).ConfigureAwait(false);
            failures += result.Failed.Count;
        }

        _nodes[index].JoinFailures = failures;
        _nodes[index].Joined = result.Joined;
    }

    private static async Task ForEachAsync(int count, int parallelism, Func<int, Task> body, CancellationToken cancellationToken)
    {
        int next = -1;
        async Task Worker()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await body(i).ConfigureAwait(false);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Min(parallelism, Math.Max(count, 1))).Select(_ => Worker())).ConfigureAwait(false);
    }

    private async Task PumpAsync(ClusterMember member)
    {
        GossipTransport transport = member.Transport!;
        await foreach (GossipEvent gossipEvent in transport.Events.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            string? what = gossipEvent switch
            {
                UserEventReceived received => EventKey(received.Event.Name),
                KeyChanged { NewValue: not null } changed => KeyKey(changed.Owner, changed.Key),
                MemberChanged { Kind: MemberChangeKind.Failed } failed => DeadKey(failed.Member.Name),
                MemberChanged { Kind: MemberChangeKind.Suspected } suspected => SuspectKey(suspected.Member.Name),
                _ => null,
            };
            if (what is null)
            {
                continue;
            }

            if (member.Seen.Count >= TrackedPerNodeMax && !member.Seen.ContainsKey(what))
            {
                Interlocked.Increment(ref _trackedDropped);
                continue;
            }

            member.Seen.TryAdd(what, _clock.ElapsedTicks);
        }
    }

    /// <summary>The tracking name of a user event.</summary>
    public static string EventKey(string name) => "event:" + name;

    /// <summary>The tracking name of a key set by <paramref name="owner"/>.</summary>
    public static string KeyKey(string owner, string key) => "key:" + owner + "/" + key;

    /// <summary>The tracking name of a member declared failed.</summary>
    public static string DeadKey(string member) => "dead:" + member;

    /// <summary>The tracking name of a member suspected.</summary>
    public static string SuspectKey(string member) => "suspect:" + member;

    private ClusterMember Running(int index)
    {
        if ((uint)index >= (uint)_nodes.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"There are nodes 0 to {_nodes.Length - 1}.");
        }

        return _nodes[index];
    }

    private GossipTransport TransportOf(int index) =>
        Running(index).Transport ?? throw new RumorNodeNotRunningException($"Node {index} was killed.");

    /// <summary>
    /// Stops node <paramref name="index"/> abruptly (sockets closed, no leave: a crash to the others)
    /// and stamps the origin of its failure's spread. False when it was already killed.
    /// </summary>
    public async Task<bool> KillAsync(int index)
    {
        ClusterMember member = Running(index);
        GossipTransport? transport = Interlocked.Exchange(ref member.TransportField, null);
        if (transport is null)
        {
            return false;
        }

        member.KilledAtMs = ElapsedMs;
        try
        {
            // Its detector counters as of the kill, so the health sums stay monotonic (TrafficHealth).
            member.HealthAtKill = (await ReadCountersAsync(transport, CancellationToken.None).ConfigureAwait(false)).Health;
        }
        catch (ObjectDisposedException)
        {
            // Stopped meanwhile: nothing to keep.
        }

        _origins[DeadKey(member.Name)] = _clock.ElapsedTicks;
        _origins[SuspectKey(member.Name)] = _clock.ElapsedTicks;
        await transport.DisposeAsync().ConfigureAwait(false);
        return true;
    }

    /// <summary>Sets <paramref name="key"/> in node <paramref name="index"/>'s own map and stamps the origin of its spread; the new version.</summary>
    public async Task<ulong> SetAsync(int index, string key, byte[] value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        GossipTransport transport = TransportOf(index);
        string tracked = KeyKey(transport.Name, key);
        _origins.TryRemove(tracked, out _);
        ForgetEverywhere(tracked);
        long origin = _clock.ElapsedTicks;
        ulong version = await transport.InvokeAsync((node, now) => node.SetValue(key, value, now), cancellationToken).ConfigureAwait(false);
        _origins[tracked] = origin;
        return version;
    }

    /// <summary>Broadcasts a user event from node <paramref name="index"/> and stamps the origin of its spread (by name: a second event of one name restarts the count).</summary>
    public async Task<UserEvent> SendEventAsync(int index, string name, byte[] payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(payload);
        GossipTransport transport = TransportOf(index);
        string tracked = EventKey(name);
        ForgetEverywhere(tracked);
        long origin = _clock.ElapsedTicks;
        UserEvent sent = await transport.InvokeAsync((node, now) => node.SendEvent(name, payload, now), cancellationToken).ConfigureAwait(false);
        _origins[tracked] = origin;
        return sent;
    }

    private void ForgetEverywhere(string tracked)
    {
        foreach (ClusterMember member in _nodes)
        {
            member.Seen.TryRemove(tracked, out _);
        }
    }

    /// <summary>The members node <paramref name="index"/> knows (itself included), by name, as of its loop's last change.</summary>
    public IReadOnlyList<MemberSnapshot> MembersOf(int index) => TransportOf(index).Members;

    /// <summary>
    /// How far <paramref name="tracked"/> (<see cref="EventKey"/>, <see cref="KeyKey"/>,
    /// <see cref="DeadKey"/>, <see cref="SuspectKey"/>) has spread among the running nodes: how many
    /// have it, and the first and last arrival after its origin (null before any, or with no origin stamped here).
    /// </summary>
    public SpreadReport Spread(string tracked)
    {
        ArgumentNullException.ThrowIfNull(tracked);
        long? origin = _origins.TryGetValue(tracked, out long o) ? o : null;
        int running = 0, reached = 0;
        long first = long.MaxValue, last = long.MinValue;
        foreach (ClusterMember member in _nodes)
        {
            if (member.Transport is null)
            {
                continue;
            }

            running++;
            if (member.Seen.TryGetValue(tracked, out long at))
            {
                reached++;
                first = Math.Min(first, at);
                last = Math.Max(last, at);
            }
        }

        double? Since(long at) => origin is { } start && reached > 0 ? TicksToMs(at - start) : null;
        return new SpreadReport(tracked, running, reached, origin is { } s ? TicksToMs(s) : null, Since(first), reached == running ? Since(last) : null, reached > 0 ? TicksToMs(first) : null);
    }

    private static double TicksToMs(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    /// <summary>
    /// The cluster at a glance: nodes started and running, and how many running nodes see exactly
    /// the running nodes alive (every killed one not alive). Reads the transports' member snapshots:
    /// no loop is woken.
    /// </summary>
    public ClusterSummary Summary()
    {
        HashSet<string> running = RunningNames();
        int converged = 0, seeAllRunning = 0;
        foreach (ClusterMember member in _nodes)
        {
            if (member.Transport is not { } transport)
            {
                continue;
            }

            (bool allRunning, bool exactly) = View(transport, running);
            seeAllRunning += allRunning ? 1 : 0;
            converged += exactly ? 1 : 0;
        }

        return new ClusterSummary(
            _nodes.Length,
            running.Count,
            seeAllRunning,
            converged,
            _nodes.Count(n => !n.Joined && n.Index > 0),
            JoinStartedAtMs,
            JoinedAtMs,
            ConvergedAtMs,
            ElapsedMs,
            [.. _nodes.Where(n => n.KilledAtMs is not null).Select(n => new KilledNode(n.Index, n.Name, n.KilledAtMs!.Value))]);
    }

    /// <summary>True when every running node sees exactly the running nodes alive; stops at the first that does not.</summary>
    public bool IsConverged()
    {
        HashSet<string> running = RunningNames();
        foreach (ClusterMember member in _nodes)
        {
            if (member.Transport is { } transport && !View(transport, running).Exactly)
            {
                return false;
            }
        }

        return true;
    }

    private HashSet<string> RunningNames()
    {
        HashSet<string> running = new(StringComparer.Ordinal);
        foreach (ClusterMember member in _nodes)
        {
            if (member.Transport is not null)
            {
                running.Add(member.Name);
            }
        }

        return running;
    }

    /// <summary>Whether one node sees every running node alive, and whether it sees exactly them alive (no killed one).</summary>
    private static (bool AllRunning, bool Exactly) View(GossipTransport transport, HashSet<string> running)
    {
        int aliveRunning = 0, aliveOther = 0;
        foreach (MemberSnapshot seen in transport.Members)
        {
            if (seen.State != MemberState.Alive)
            {
                continue;
            }

            if (running.Contains(seen.Name))
            {
                aliveRunning++;
            }
            else
            {
                aliveOther++;
            }
        }

        bool all = aliveRunning == running.Count;
        return (all, all && aliveOther == 0);
    }

    /// <summary>
    /// Polls <see cref="IsConverged"/> every <paramref name="poll"/> until every running node sees exactly
    /// the running nodes alive; records <see cref="ConvergedAtMs"/> the first time. False when
    /// <paramref name="bound"/> passes first.
    /// </summary>
    public async Task<bool> WaitUntilConvergedAsync(TimeSpan bound, TimeSpan poll, CancellationToken cancellationToken = default)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (true)
        {
            if (IsConverged())
            {
                ConvergedAtMs ??= ElapsedMs;
                return true;
            }

            if (waited.Elapsed > bound)
            {
                return false;
            }

            await Task.Delay(poll, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// What the running nodes sent so far, read on each node's loop: datagrams and their bytes
    /// (with <see cref="DatagramHeaderBytes"/> of IPv4 and UDP header each), streams and their
    /// payload bytes (TCP's own segments and headers not counted); and the health counters of every
    /// node, a killed one as of its kill.
    /// </summary>
    public async Task<TrafficReport> TrafficAsync(CancellationToken cancellationToken = default)
    {
        long packets = 0, packetBytes = 0, streams = 0, streamBytes = 0;
        TrafficHealth health = TrafficHealth.Zero;
        int nodes = 0;
        foreach (ClusterMember member in _nodes)
        {
            if (member.Transport is not { } transport)
            {
                // A killed node's health counters as of its kill: the sums never go down.
                health = health.Plus(member.HealthAtKill);
                continue;
            }

            try
            {
                NodeCountersRead read = await ReadCountersAsync(transport, cancellationToken).ConfigureAwait(false);
                packets += read.Packets;
                packetBytes += read.PacketBytes;
                streams += read.Streams;
                streamBytes += read.StreamBytes;
                health = health.Plus(read.Health);
                nodes++;
            }
            catch (ObjectDisposedException)
            {
                // Killed meanwhile.
                health = health.Plus(member.HealthAtKill);
            }
        }

        return new TrafficReport(nodes, ElapsedMs, packets, packetBytes, packetBytes + (packets * DatagramHeaderBytes), streams, streamBytes, health);
    }

    private static async Task<NodeCountersRead> ReadCountersAsync(GossipTransport transport, CancellationToken cancellationToken)
    {
        NodeCountersRead read = await transport.InvokeAsync(
            node => new NodeCountersRead(
                node.Counters.PacketsSent,
                node.Counters.PacketBytesSent,
                node.Counters.StreamsOpened + node.Counters.StreamsAccepted,
                node.Counters.StreamBytesSent,
                new TrafficHealth(
                    node.Counters.ProbesSent,
                    node.Counters.ProbesFailed,
                    node.Counters.SuspicionsRaised,
                    node.Counters.AccusationsMade,
                    node.Counters.AccusationsSuppressed,
                    node.Counters.LocalStalls,
                    node.Counters.Refutations,
                    node.Counters.BroadcastsDropped,
                    0,
                    0,
                    0)),
            cancellationToken).ConfigureAwait(false);

        // The transport's own counters are read off the loop (they are atomic).
        return read with
        {
            Health = read.Health with
            {
                DatagramsDropped = transport.Counters.DatagramsDropped,
                StreamsRefused = transport.Counters.StreamsRefused,
                StreamErrors = transport.Counters.StreamErrors,
            },
        };
    }

    /// <summary>One node's traffic and health counters, read together.</summary>
    private readonly record struct NodeCountersRead(long Packets, long PacketBytes, long Streams, long StreamBytes, TrafficHealth Health);


    /// <summary>Stops every running node abruptly (no leave), in parallel, each bounded by the transport's shutdown timeout.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        List<Task> stops = [];
        foreach (ClusterMember? member in _nodes)
        {
            if (member is not null && Interlocked.Exchange(ref member.TransportField, null) is { } transport)
            {
                stops.Add(transport.DisposeAsync().AsTask());
            }
        }

        await Task.WhenAll(stops).ConfigureAwait(false);
        Task[] pumps = [.. _nodes.Where(n => n?.Pump is not null).Select(n => n.Pump!)];
        await Task.WhenAny(Task.WhenAll(pumps), Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
    }
}

/// <summary>One node of an <see cref="InProcessCluster"/>.</summary>
public sealed class ClusterMember
{
    internal GossipTransport? TransportField;

    internal ClusterMember(int index, GossipTransport transport)
    {
        Index = index;
        TransportField = transport;
        Name = transport.Name;
        Address = transport.Address;
    }

    /// <summary>Its index, 0 to N−1.</summary>
    public int Index { get; }

    /// <summary>Its name.</summary>
    public string Name { get; }

    /// <summary>Its address.</summary>
    public NodeAddress Address { get; }

    /// <summary>Its transport; null once killed.</summary>
    public GossipTransport? Transport => Volatile.Read(ref TransportField);

    /// <summary>When it was killed (ms on the cluster's clock); null while running.</summary>
    public double? KilledAtMs { get; internal set; }

    /// <summary>Its health counters as of its kill (null while it runs, or when they could not be read).</summary>
    internal TrafficHealth? HealthAtKill { get; set; }

    /// <summary>Whether its first join succeeded (node 0 joins nobody: true).</summary>
    public bool Joined { get; internal set; } = true;

    /// <summary>Seed answers that failed over its join attempts (each failed seed of each attempt).</summary>
    public int JoinFailures { get; internal set; }

    internal ConcurrentDictionary<string, long> Seen { get; } = new(StringComparer.Ordinal);

    internal Task? Pump { get; set; }
}

/// <summary>How the nodes of an <see cref="InProcessCluster"/> are addressed.</summary>
public enum ClusterAddressing
{
    /// <summary>One address, consecutive ports: node i at <c>first.Port + i</c>.</summary>
    Ports,

    /// <summary>One port, consecutive addresses: node i at <c>first + i</c> (127.0.0.1, 127.0.0.2, ...: all of 127.0.0.0/8 is loopback on Linux).</summary>
    Hosts,
}

/// <summary>What an <see cref="InProcessCluster"/> starts.</summary>
public sealed record InProcessClusterOptions
{
    /// <summary>Most nodes in one cluster.</summary>
    public const int NodesMax = 5000;

    /// <summary>How many nodes (1 to <see cref="NodesMax"/>).</summary>
    public int Nodes { get; init; } = 10;

    /// <summary>Node 0's address; the others follow by <see cref="Addressing"/>.</summary>
    public NodeAddress FirstAddress { get; init; } = NodeAddress.Parse("127.0.0.1:20000");

    /// <summary>Consecutive ports (default) or consecutive addresses.</summary>
    public ClusterAddressing Addressing { get; init; } = ClusterAddressing.Ports;

    /// <summary>Names are this prefix and the index.</summary>
    public string NamePrefix { get; init; } = "node-";

    /// <summary>Preset and overrides every node runs with (name, bind, advertise, seeds and data directory are set per node).</summary>
    public RumorOptions Template { get; init; } = new();

    /// <summary>Node i's random seed is this + i; null: each draws one from the OS.</summary>
    public ulong? RandomSeed { get; init; }

    /// <summary>Nodes started at once.</summary>
    public int StartParallelism { get; init; } = 16;

    /// <summary>Joins in flight at once (each is a push-pull stream to node 0 and to an earlier node; node 0 accepts at most StreamsMax at once).</summary>
    public int JoinParallelism { get; init; } = ManyNodeJoin.Parallelism;

    /// <summary>Every problem with these options; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        List<string> problems = [];
        if (Nodes is < 1 or > NodesMax)
        {
            problems.Add($"Nodes is {Nodes}; it must be from 1 to {NodesMax}.");
        }

        if (Addressing == ClusterAddressing.Ports && FirstAddress.Port + Nodes - 1 > ushort.MaxValue)
        {
            problems.Add($"Ports {FirstAddress.Port} to {FirstAddress.Port + Nodes - 1} do not all exist (at most 65535).");
        }

        if (FirstAddress.Port == 0)
        {
            problems.Add("The first address needs a port (0 would give every node another random one).");
        }

        if (StartParallelism < 1 || JoinParallelism < 1)
        {
            problems.Add("StartParallelism and JoinParallelism must be at least 1.");
        }

        if (string.IsNullOrEmpty(NamePrefix))
        {
            problems.Add("NamePrefix is empty.");
        }

        return problems;
    }
}

/// <summary>The cluster at a glance (<see cref="InProcessCluster.Summary"/>); times in ms on the cluster's clock.</summary>
/// <param name="Nodes">Nodes started.</param>
/// <param name="Running">Nodes not killed.</param>
/// <param name="SeeAllRunningAlive">Running nodes that see every running node alive.</param>
/// <param name="Converged">Running nodes that see exactly the running nodes alive (every killed one suspect, dead or gone).</param>
/// <param name="JoinsFailed">Nodes that no seed answered in <see cref="InProcessCluster.JoinAttemptsMax"/> attempts (they may still converge: a seed that answered late learned them).</param>
/// <param name="JoinStartedAtMs">When the joins began (every node bound and running).</param>
/// <param name="JoinedAtMs">When every join had answered.</param>
/// <param name="ConvergedAtMs">When every node first saw every node alive (null: not yet seen).</param>
/// <param name="NowMs">Now.</param>
/// <param name="Killed">The nodes killed so far.</param>
public sealed record ClusterSummary(int Nodes, int Running, int SeeAllRunningAlive, int Converged, int JoinsFailed, double JoinStartedAtMs, double JoinedAtMs, double? ConvergedAtMs, double NowMs, IReadOnlyList<KilledNode> Killed);

/// <summary>A node killed through <see cref="InProcessCluster.KillAsync"/>.</summary>
/// <param name="Index">Its index.</param>
/// <param name="Name">Its name.</param>
/// <param name="KilledAtMs">When (ms on the cluster's clock).</param>
public sealed record KilledNode(int Index, string Name, double KilledAtMs);

/// <summary>How far one tracked thing spread among the running nodes (<see cref="InProcessCluster.Spread"/>).</summary>
/// <param name="Tracked">What (event:NAME, key:OWNER/KEY, dead:NODE, suspect:NODE).</param>
/// <param name="Running">Running nodes.</param>
/// <param name="Reached">Running nodes that have it.</param>
/// <param name="OriginMs">When it was sent, set or killed (ms on the cluster's clock; null: not through this cluster's API).</param>
/// <param name="FirstMs">The first arrival after the origin.</param>
/// <param name="AllMs">The last arrival after the origin, once every running node has it (null before).</param>
/// <param name="FirstAtMs">The first arrival on the cluster's clock, origin or not (null before any): when a node no one killed was first declared dead, say.</param>
public sealed record SpreadReport(string Tracked, int Running, int Reached, double? OriginMs, double? FirstMs, double? AllMs, double? FirstAtMs);

/// <summary>What the running nodes sent since they started (<see cref="InProcessCluster.TrafficAsync"/>).</summary>
/// <param name="Nodes">Running nodes counted.</param>
/// <param name="AtMs">When read.</param>
/// <param name="Datagrams">Datagrams sent.</param>
/// <param name="DatagramPayloadBytes">Their payload bytes.</param>
/// <param name="DatagramBytesWithHeaders">Payload plus 28 bytes of IPv4 and UDP header each.</param>
/// <param name="Streams">Streams opened or accepted.</param>
/// <param name="StreamPayloadBytes">Stream bytes sent (TCP segments and headers not counted).</param>
/// <param name="Health">What the nodes' failure detectors and queues did since they started: sums over the running nodes and over the killed ones as of their kill, so a difference between two reads is exact.</param>
public sealed record TrafficReport(int Nodes, double AtMs, long Datagrams, long DatagramPayloadBytes, long DatagramBytesWithHeaders, long Streams, long StreamPayloadBytes, TrafficHealth Health);

/// <summary>
/// Sums over the running nodes of the counters that explain a slow detection or spread on a loaded
/// process (<see cref="Rumor.Core.Diagnostics.NodeCounters"/> and the transport's counters): what a real-socket scale run
/// reads beside its timings (scripts/cluster-scale.py).
/// </summary>
/// <param name="ProbesSent">Direct probes sent.</param>
/// <param name="ProbesFailed">Probes that ended without an ack.</param>
/// <param name="SuspicionsRaised">Members this node began to suspect.</param>
/// <param name="AccusationsMade">Suspicions raised from a failed probe of our own.</param>
/// <param name="AccusationsSuppressed">Failed probes not turned into an accusation because the node had stalled itself (the stall guard).</param>
/// <param name="LocalStalls">Stalls the node was told of (the loop woke late, a GC pause, a thread-pool backlog).</param>
/// <param name="Refutations">Suspicions of the node itself that it refuted.</param>
/// <param name="BroadcastsDropped">Broadcasts dropped from a full queue.</param>
/// <param name="DatagramsDropped">Datagrams dropped because the node's inbox was full.</param>
/// <param name="StreamsRefused">Streams refused (StreamsMax open, or the inbox full).</param>
/// <param name="StreamErrors">Incoming streams that failed (a timeout, a reset).</param>
public sealed record TrafficHealth(long ProbesSent, long ProbesFailed, long SuspicionsRaised, long AccusationsMade, long AccusationsSuppressed, long LocalStalls, long Refutations, long BroadcastsDropped, long DatagramsDropped, long StreamsRefused, long StreamErrors)
{
    /// <summary>Every counter 0.</summary>
    public static TrafficHealth Zero { get; } = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>The sums of this and <paramref name="other"/> (this alone when it is null).</summary>
    public TrafficHealth Plus(TrafficHealth? other) => other is null ? this : new(
        ProbesSent + other.ProbesSent,
        ProbesFailed + other.ProbesFailed,
        SuspicionsRaised + other.SuspicionsRaised,
        AccusationsMade + other.AccusationsMade,
        AccusationsSuppressed + other.AccusationsSuppressed,
        LocalStalls + other.LocalStalls,
        Refutations + other.Refutations,
        BroadcastsDropped + other.BroadcastsDropped,
        DatagramsDropped + other.DatagramsDropped,
        StreamsRefused + other.StreamsRefused,
        StreamErrors + other.StreamErrors);
}
