using System.Diagnostics;
using Rumor.Core;
using Rumor.Core.Dissemination;
using Rumor.Core.Randomness;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Simulation.Experiments;

/// <summary>One measured configuration of the broadcast-spread experiment.</summary>
public sealed record BroadcastSpreadResult(
    string Mode,
    int Nodes,
    int Fanout,
    SpreadStatistics Rounds,
    double PacketsPerNode,
    TimeSpan WallTime,
    long ManagedBytes,
    long PeakWorkingSetBytes);

/// <summary>
/// How many gossip rounds one broadcast needs to reach every node. Two modes:
/// <list type="bullet">
/// <item><b>full</b>: the real <see cref="GossipNode"/>s of a converged <see cref="SimCluster"/>; the
/// rumor is a metadata update (a new Alive incarnation) of a random node, spread by gossip rounds and
/// by piggybacking on probes, exactly as in production;</item>
/// <item><b>dissemination</b>: for sizes where every node holding the full member table does not
/// fit in memory, all nodes share one read-only membership (0..N−1) and only the dissemination path
/// runs: the real <see cref="BroadcastQueue"/> (retransmit limit, ordering), the real
/// <see cref="PacketBuilder"/> and <see cref="PacketReader"/>, gossip ticks every GossipInterval at
/// each node's own random phase, fanout random peers per tick. Probes are not simulated, so this
/// mode is a little slower than the full protocol.</item>
/// </list>
/// A round is one GossipInterval of virtual time.
/// </summary>
public static class BroadcastSpread
{
    /// <summary>Runs the full protocol: N real nodes join, converge, then each trial spreads one update.</summary>
    public static BroadcastSpreadResult FullProtocol(int n, int trials, ulong seed, GossipOptions? options = null, NetworkOptions? network = null)
    {
        Stopwatch wall = Stopwatch.StartNew();
        GossipOptions gossip = options ?? GossipOptions.Lan;
        SimCluster cluster = ExperimentCluster.Joined(n, seed, gossip, network);
        long managed = GC.GetTotalMemory(forceFullCollection: true);

        string? originName = null;
        uint targetIncarnation = 0;
        int informed = 0;
        TimeSpan doneAt = TimeSpan.Zero;
        cluster.Observe((node, e) =>
        {
            if (e is MemberChanged { Member: { } member } && member.Name == originName && member.Incarnation == targetIncarnation && member.State == Core.Membership.MemberState.Alive)
            {
                if (++informed == n - 1)
                {
                    doneAt = cluster.Now;
                }
            }
        });

        Xoshiro256StarStar random = new(seed ^ 0x5EED);
        List<double> rounds = [];
        long packets = 0;
        for (int t = 0; t < trials; t++)
        {
            SimNode origin = cluster.Nodes[random.NextInt(n)];
            originName = origin.Name;
            targetIncarnation = origin.LiveNode.Self.Incarnation + 1;
            informed = 0;
            doneAt = TimeSpan.Zero;
            TimeSpan start = cluster.Now;
            long packetsBefore = cluster.Network.PacketsSent;
            origin.LiveNode.UpdateMetadata([(byte)t, (byte)(t >> 8)], cluster.Now);
            origin.ScheduleWake();
            if (cluster.RunUntil(() => informed >= n - 1, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50)) is null)
            {
                throw new InvalidOperationException($"trial {t}: the update reached {informed} of {n - 1} nodes within 60 s (seed {seed})");
            }

            rounds.Add((doneAt - start) / gossip.GossipInterval);
            packets += cluster.Network.PacketsSent - packetsBefore;
            cluster.RunFor(TimeSpan.FromSeconds(3));
        }

        return new BroadcastSpreadResult("full", n, gossip.GossipFanout, SpreadStatistics.Of(rounds), (double)packets / trials / n, wall.Elapsed, managed, Process.GetCurrentProcess().PeakWorkingSet64);
    }

    /// <summary>Runs the dissemination path alone over a shared membership of <paramref name="n"/> nodes.</summary>
    /// <param name="n">Cluster size.</param>
    /// <param name="trials">Spreads to measure.</param>
    /// <param name="seed">The run's seed.</param>
    /// <param name="options">Gossip options (fanout, interval, retransmit multiplier, budget).</param>
    /// <param name="loss">Datagram loss probability.</param>
    /// <param name="synchronous">All nodes tick in phase, so a node informed in round r forwards in round r + 1: the textbook model of <see cref="IdealPush"/>, with Rumor's damping.</param>
    public static BroadcastSpreadResult DisseminationOnly(int n, int trials, ulong seed, GossipOptions? options = null, double loss = 0, bool synchronous = false)
    {
        Stopwatch wall = Stopwatch.StartNew();
        GossipOptions gossip = options ?? GossipOptions.Lan;
        Xoshiro256StarStar random = new(seed);
        List<double> rounds = [];
        long packets = 0;
        long managed = 0;
        for (int t = 0; t < trials; t++)
        {
            DisseminationRun run = new(n, gossip, random.Fork(), loss, synchronous);
            (TimeSpan took, long sent) = run.Spread(random.NextInt(n));
            rounds.Add(took / gossip.GossipInterval);
            packets += sent;
            managed = Math.Max(managed, GC.GetTotalMemory(forceFullCollection: false));
        }

        return new BroadcastSpreadResult(synchronous ? "dissemination, in-phase rounds" : "dissemination", n, gossip.GossipFanout, SpreadStatistics.Of(rounds), (double)packets / trials / n, wall.Elapsed, managed, Process.GetCurrentProcess().PeakWorkingSet64);
    }

    /// <summary>One spread over a shared membership (see <see cref="DisseminationOnly"/>).</summary>
    private sealed class DisseminationRun
    {
        private readonly int _n;
        private readonly GossipOptions _options;
        private readonly IRandomSource _random;
        private readonly double _loss;
        private readonly BroadcastQueue?[] _queues;
        private readonly long[] _phaseTicks;
        private readonly bool[] _informed;
        private readonly bool[] _tickScheduled;
        private readonly PacketBuilder _builder;
        private readonly PriorityQueue<(int Node, byte[]? Packet), (long Ticks, long Sequence)> _agenda = new();
        private readonly int _transmitLimit;
        private long _sequence;

        public DisseminationRun(int n, GossipOptions options, IRandomSource random, double loss, bool synchronous)
        {
            _n = n;
            _options = options;
            _random = random;
            _loss = loss;
            _queues = new BroadcastQueue?[n];
            _phaseTicks = new long[n];
            _informed = new bool[n];
            _tickScheduled = new bool[n];
            _builder = new PacketBuilder(options.PacketBudgetBytes);
            _transmitLimit = options.RetransmitMultiplier * (int)Math.Ceiling(Math.Log10(n + 1));
            for (int i = 0; i < n; i++)
            {
                _phaseTicks[i] = synchronous ? 0 : (long)(random.NextDouble() * options.GossipInterval.Ticks);
            }
        }

        public (TimeSpan Took, long Packets) Spread(int origin)
        {
            AliveMessage rumor = new("node-origin", new NodeAddress(0x7F000001, 7946), 1, 1, ProtocolVersions.Current, []);
            byte[] encoded = PacketBuilder.EncodeMessage(rumor);
            long packets = 0;
            int informed = 0;
            Inform(origin, encoded, 0, ref informed);
            long now = 0;
            while (informed < _n && _agenda.TryDequeue(out (int Node, byte[]? Packet) item, out (long Ticks, long Sequence) at))
            {
                now = at.Ticks;
                if (item.Packet is { } packet)
                {
                    Receive(item.Node, packet, now, ref informed);
                    continue;
                }

                // A gossip tick of node item.Node.
                _tickScheduled[item.Node] = false;
                BroadcastQueue queue = _queues[item.Node]!;
                for (int f = 0; f < _options.GossipFanout && queue.Count > 0; f++)
                {
                    int peer = _random.NextInt(_n - 1);
                    if (peer >= item.Node)
                    {
                        peer++;
                    }

                    _builder.Reset(_options.PacketBudgetBytes);
                    // (The model queues no message with a source, so the destination changes nothing.)
                    if (queue.Fill(_builder, _transmitLimit, default) == 0)
                    {
                        break;
                    }

                    packets++;
                    if (_random.NextDouble() >= _loss)
                    {
                        long latency = TimeSpan.FromMilliseconds(1).Ticks + (long)(-Math.Log(1.0 - _random.NextDouble()) * TimeSpan.FromMilliseconds(0.5).Ticks);
                        _agenda.Enqueue((peer, _builder.Finish().ToArray()), (now + latency, ++_sequence));
                    }
                }

                ScheduleTick(item.Node, now);
            }

            if (informed < _n)
            {
                throw new InvalidOperationException($"the rumor died out after reaching {informed} of {_n} nodes (no anti-entropy in this mode)");
            }

            return (TimeSpan.FromTicks(now), packets);
        }

        private void Receive(int node, byte[] packet, long now, ref int informed)
        {
            if (PacketReader.TryOpen(packet, WireLimits.DatagramMaxBytes, out PacketReader reader) != DecodeError.None)
            {
                throw new InvalidOperationException("the dissemination run produced an undecodable packet");
            }

            while (reader.TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out _))
            {
                if (type == MessageType.Alive && AliveMessage.TryDecode(payload, null, out _) == DecodeError.None && !_informed[node])
                {
                    Inform(node, [(byte)type, .. payload], now, ref informed);
                }
            }
        }

        private void Inform(int node, byte[] message, long now, ref int informed)
        {
            _informed[node] = true;
            informed++;
            BroadcastQueue queue = _queues[node] ??= new BroadcastQueue(_options.BroadcastQueueMax);
            queue.Enqueue("node-origin", message);
            ScheduleTick(node, now);
        }

        private void ScheduleTick(int node, long now)
        {
            if (_tickScheduled[node] || _queues[node] is not { Count: > 0 })
            {
                return;
            }

            long interval = _options.GossipInterval.Ticks;
            long next = _phaseTicks[node] + ((now - _phaseTicks[node]) / interval + 1) * interval;
            if (now < _phaseTicks[node])
            {
                next = _phaseTicks[node];
            }

            _tickScheduled[node] = true;
            _agenda.Enqueue((node, null), (next, ++_sequence));
        }
    }
}
