using System.Buffers;
using Rumor.Core;
using Rumor.Core.Randomness;

namespace Rumor.Simulation;

/// <summary>
/// The simulated network between <see cref="SimNode"/>s. Datagrams are copied, checked against the
/// sender's byte budget (a checker: an oversized datagram is a protocol bug), then lost, duplicated,
/// delayed or reordered per <see cref="NetworkOptions"/>. Partitions assign nodes to groups; a
/// datagram or stream crossing groups vanishes. Streams get one reliable request and one reply, each
/// a connect-plus-send delay; a crashed or partitioned peer simply never answers and the node's own
/// stream deadline fires, as with a real unreachable host.
/// </summary>
public sealed class SimNetwork
{
    private readonly SimCluster _cluster;
    private readonly IRandomSource _random;
    private readonly Dictionary<long, PendingReply> _streams = [];
    private readonly HashSet<(int, int)> _blockedDatagrams = [];
    private readonly PacketBufferPool _buffers = new();
    private int[]? _partitionGroups;
    private long _nextStreamId;

    internal SimNetwork(SimCluster cluster, IRandomSource random, NetworkOptions options)
    {
        _cluster = cluster;
        _random = random;
        Options = options;
    }

    /// <summary>Current behaviour; may be replaced mid-run (for example to start or stop loss).</summary>
    public NetworkOptions Options { get; set; }

    /// <summary>Datagrams sent by nodes.</summary>
    public long PacketsSent { get; private set; }

    /// <summary>Datagram bytes sent by nodes.</summary>
    public long BytesSent { get; private set; }

    /// <summary>Datagrams dropped by loss, partitions or crashed receivers.</summary>
    public long PacketsDropped { get; private set; }

    /// <summary>Stream bytes sent (requests and replies).</summary>
    public long StreamBytesSent { get; private set; }

    /// <summary>The largest datagram seen.</summary>
    public int LargestPacket { get; private set; }

    /// <summary>True while a partition is in force.</summary>
    public bool IsPartitioned => _partitionGroups is not null;

    /// <summary>Splits the cluster: nodes in different groups cannot reach each other. Nodes in no group form one more group.</summary>
    public void Partition(IReadOnlyList<IReadOnlyList<SimNode>> groups)
    {
        int[] assignment = new int[_cluster.Nodes.Count];
        Array.Fill(assignment, groups.Count);
        for (int g = 0; g < groups.Count; g++)
        {
            foreach (SimNode node in groups[g])
            {
                assignment[node.Index] = g;
            }
        }

        _partitionGroups = assignment;
    }

    /// <summary>Ends any partition.</summary>
    public void Heal() => _partitionGroups = null;

    /// <summary>
    /// Drops every datagram between <paramref name="a"/> and <paramref name="b"/> (both ways) while
    /// streams between them still work: a firewall that blocks UDP, the case the stream fallback
    /// ping exists for.
    /// </summary>
    public void BlockDatagrams(SimNode a, SimNode b)
    {
        BlockDatagramsOneWay(a, b);
        BlockDatagramsOneWay(b, a);
    }

    /// <summary>Drops every datagram from <paramref name="from"/> to <paramref name="to"/> (only that way).</summary>
    public void BlockDatagramsOneWay(SimNode from, SimNode to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        _blockedDatagrams.Add((from.Index, to.Index));
    }

    /// <summary>Ends every datagram block between the two nodes, both ways.</summary>
    public void UnblockDatagrams(SimNode a, SimNode b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        _blockedDatagrams.Remove((a.Index, b.Index));
        _blockedDatagrams.Remove((b.Index, a.Index));
    }

    /// <summary>Called with every datagram a node sends (before loss): sender, destination, bytes. For tests that inspect traffic.</summary>
    public Action<SimNode, NodeAddress, byte[]>? Tap { get; set; }

    private bool DatagramsBlocked(SimNode from, SimNode to) =>
        _blockedDatagrams.Count > 0 && _blockedDatagrams.Contains((from.Index, to.Index));

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> can exchange traffic.</summary>
    public bool CanReach(SimNode a, SimNode b) =>
        _partitionGroups is null || (a.Index < _partitionGroups.Length && b.Index < _partitionGroups.Length && _partitionGroups[a.Index] == _partitionGroups[b.Index]);

    internal void SendPacket(SimNode from, NodeAddress to, ReadOnlySpan<byte> packet)
    {
        PacketsSent++;
        BytesSent += packet.Length;
        LargestPacket = Math.Max(LargestPacket, packet.Length);
        _cluster.Checkers.OnPacketSent(from, packet.Length, from.LiveNode.Options.PacketBudgetBytes, _cluster.Now);
        _cluster.Trace.Record(TraceKind.Packet, _cluster.Now, from.Index, to, packet);

        Tap?.Invoke(from, to, packet.ToArray());
        SimNode? target = _cluster.FindByAddress(to);
        NetworkOptions options = Options;
        if (target is null || !CanReach(from, target) || DatagramsBlocked(from, target) || _random.NextDouble() < options.LossProbability)
        {
            PacketsDropped++;
            return;
        }

        int copies = _random.NextDouble() < options.DuplicateProbability ? 2 : 1;
        for (int i = 0; i < copies; i++)
        {
            // Each copy owns a pooled buffer, returned once it is delivered or dropped.
            byte[] buffer = _buffers.Rent(packet.Length);
            packet.CopyTo(buffer);
            _cluster.Schedule(_cluster.Now + Delay(options, from.Index, target.Index), new SimEntry(SimEntryKind.Packet, null, target, from, buffer, packet.Length));
        }
    }

    /// <summary>Delivers a datagram scheduled by <see cref="SendPacket"/> and returns its buffer to the pool.</summary>
    internal void Deliver(SimNode from, SimNode to, byte[] buffer, int length)
    {
        if (!to.IsUp || !CanReach(from, to))
        {
            PacketsDropped++;
        }
        else
        {
            to.DeliverPacket(from, buffer.AsSpan(0, length));
        }

        _buffers.Return(buffer);
    }

    internal void OpenStream(SimNode from, long nodeStreamId, NodeAddress to, ReadOnlySpan<byte> request)
    {
        StreamBytesSent += request.Length;
        _cluster.Trace.Record(TraceKind.StreamOpen, _cluster.Now, from.Index, to, request);
        SimNode? target = _cluster.FindByAddress(to);
        if (target is null || !CanReach(from, target))
        {
            return; // Unreachable: the node's StreamTimeout reports it.
        }

        long id = ++_nextStreamId;
        _streams[id] = new PendingReply(from, nodeStreamId, from.Starts);

        // Connect (one round trip) plus the request's one-way trip; under loss each leg may wait
        // for TCP's retransmission timer (1 s for the handshake, 200 ms for data, as Linux does).
        TimeSpan delay = StreamLeg(Options, Handshake, from.Index, target.Index) + StreamLeg(Options, Handshake, target.Index, from.Index) + StreamLeg(Options, DataRetransmit, from.Index, target.Index);
        _cluster.Schedule(_cluster.Now + delay, new DeliverStreamRequest(from, target, id, PooledCopy(request), request.Length));
    }

    internal void ReplyStream(SimNode from, long streamId, ReadOnlySpan<byte> response)
    {
        StreamBytesSent += response.Length;
        if (!_streams.Remove(streamId, out PendingReply pending))
        {
            return;
        }

        _cluster.Trace.Record(TraceKind.StreamReply, _cluster.Now, from.Index, pending.Requester.Address, response);
        if (!CanReach(from, pending.Requester))
        {
            return;
        }

        _cluster.Schedule(_cluster.Now + StreamLeg(Options, DataRetransmit, from.Index, pending.Requester.Index), new DeliverStreamResponse(pending.Requester, pending.RequesterStreamId, pending.RequesterStarts, PooledCopy(response), response.Length));
    }

    /// <summary>
    /// A stream's bytes in flight, in an array from the shared pool, given back once delivered: a
    /// push-pull at a few thousand members is hundreds of kilobytes, a large-object allocation per
    /// stream otherwise (issue 17). A stream dropped on the way leaves its array to the collector.
    /// </summary>
    private static byte[] PooledCopy(ReadOnlySpan<byte> bytes)
    {
        byte[] copy = ArrayPool<byte>.Shared.Rent(bytes.Length);
        bytes.CopyTo(copy);
        return copy;
    }

    internal void ForgetStream(long streamId) => _streams.Remove(streamId);

    private static readonly TimeSpan Handshake = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan DataRetransmit = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// One leg of a stream: a datagram's delay, plus, for every loss of the segment (at the
    /// network's loss rate, no draw at all without loss), a retransmission timeout that doubles.
    /// Streams stay reliable but slow under loss, as TCP is.
    /// </summary>
    private TimeSpan StreamLeg(NetworkOptions options, TimeSpan retransmitTimeout, int from, int to)
    {
        TimeSpan delay = Delay(options, from, to);
        if (options.LossProbability <= 0)
        {
            return delay;
        }

        // Bound: six retransmissions (TCP gives up around there on a handshake).
        for (int i = 0; i < 6 && _random.NextDouble() < options.LossProbability; i++)
        {
            delay += retransmitTimeout;
            retransmitTimeout *= 2;
        }

        return delay;
    }

    private TimeSpan Delay(NetworkOptions options, int from, int to)
    {
        double jitter = options.Jitter <= TimeSpan.Zero ? 0 : -Math.Log(1.0 - _random.NextDouble()) * options.Jitter.Ticks;
        long ticks = options.LinkLatency(from, to).Ticks + (long)jitter;
        if (options.ReorderProbability > 0 && _random.NextDouble() < options.ReorderProbability)
        {
            ticks += (long)(_random.NextDouble() * options.ReorderDelayMax.Ticks);
        }

        return TimeSpan.FromTicks(Math.Max(1, ticks));
    }

    private readonly record struct PendingReply(SimNode Requester, long RequesterStreamId, int RequesterStarts);

    private sealed class DeliverStreamRequest(SimNode from, SimNode to, long streamId, byte[] request, int length) : SimEvent
    {
        public override void Run(SimCluster cluster, TimeSpan now)
        {
            if (!to.IsUp || !cluster.Network.CanReach(from, to))
            {
                cluster.Network.ForgetStream(streamId);
                ArrayPool<byte>.Shared.Return(request);
                return;
            }

            to.Deliver((node, at) =>
            {
                node.OnStreamRequest(streamId, from.Address, request.AsSpan(0, length), at);
                cluster.Network.ForgetStream(streamId); // the node replies during the call or never
                ArrayPool<byte>.Shared.Return(request); // the node copied what it keeps
            });
        }
    }

    private sealed class DeliverStreamResponse(SimNode to, long nodeStreamId, int starts, byte[] response, int length) : SimEvent
    {
        public override void Run(SimCluster cluster, TimeSpan now)
        {
            if (!to.IsUp || to.Starts != starts)
            {
                ArrayPool<byte>.Shared.Return(response);
                return; // The requester crashed (or restarted) meanwhile.
            }

            to.Deliver((node, at) =>
            {
                node.OnStreamResponse(nodeStreamId, response.AsSpan(0, length), at);
                ArrayPool<byte>.Shared.Return(response);
            });
        }
    }
}
