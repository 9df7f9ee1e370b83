using System.Diagnostics;
using System.Text;
using Rumor.Core;
using Rumor.Core.Randomness;

namespace Rumor.Simulation.Experiments;

/// <summary>One change spreading to every node: rounds (StateGossipInterval units) and bytes, per trial.</summary>
/// <param name="Nodes">Cluster size.</param>
/// <param name="Strategy">State strategy (push, pull, push-pull).</param>
/// <param name="Rounds">Rounds from the write until the last node held the value.</param>
/// <param name="Bytes">Datagram plus stream bytes sent cluster-wide from the write until the last node held the value.</param>
/// <param name="ExcessBytes">Bytes sent cluster-wide over the <paramref name="Window"/> after the write, less the background over the same time: the whole cost of the change, including the checksum announcements that keep spreading after the value arrived everywhere.</param>
/// <param name="Window">The window of <paramref name="ExcessBytes"/>.</param>
/// <param name="BackgroundBytesPerSecond">Cluster-wide bytes per second measured idle just before the trials (probes, membership gossip, idle state gossip).</param>
/// <param name="JoinWallTime">Wall time of the join (to membership agreement and a drain).</param>
/// <param name="WallTime">Wall time of the whole run.</param>
public sealed record StateSpreadResult(int Nodes, GossipStrategy Strategy, SpreadStatistics Rounds, SpreadStatistics Bytes, SpreadStatistics ExcessBytes, TimeSpan Window, double BackgroundBytesPerSecond, TimeSpan JoinWallTime, TimeSpan WallTime);

/// <summary>Many keys written on one node at once, until all nodes hold equal state.</summary>
/// <param name="Nodes">Cluster size.</param>
/// <param name="Keys">Keys written.</param>
/// <param name="ValueBytes">Bytes per value.</param>
/// <param name="Took">Virtual time from the writes until every node reported the same state checksum.</param>
/// <param name="DatagramBytes">Datagram bytes sent cluster-wide meanwhile.</param>
/// <param name="StreamBytes">Stream bytes sent cluster-wide meanwhile.</param>
/// <param name="CatchUps">State catch-ups over streams (summed over nodes).</param>
/// <param name="CompressionBytesSaved">Bytes saved by compression (summed over nodes).</param>
/// <param name="WallTime">Wall time of the run.</param>
public sealed record StateBulkResult(int Nodes, int Keys, int ValueBytes, TimeSpan Took, long DatagramBytes, long StreamBytes, long CatchUps, long CompressionBytesSaved, TimeSpan WallTime);

/// <summary>Idle traffic of a converged cluster with no writes.</summary>
/// <param name="Nodes">Cluster size.</param>
/// <param name="StateGossip">False when StateGossipInterval was set huge (state gossip effectively off).</param>
/// <param name="Window">Measured window of virtual time.</param>
/// <param name="BytesPerNodePerSecond">Datagram plus stream bytes per node per second.</param>
/// <param name="PacketsPerNodePerSecond">Datagrams per node per second.</param>
/// <param name="StateExchangesSkipped">State exchanges skipped because the peer's checksum equalled ours (summed over nodes).</param>
/// <param name="WallTime">Wall time of the run.</param>
public sealed record StateIdleResult(int Nodes, bool StateGossip, TimeSpan Window, double BytesPerNodePerSecond, double PacketsPerNodePerSecond, long StateExchangesSkipped, TimeSpan WallTime);

/// <summary>One variant of the efficiency scenario (compression threshold, digest mode).</summary>
/// <param name="Variant">Readable name of the variant.</param>
/// <param name="Nodes">Cluster size.</param>
/// <param name="Took">Virtual time from the writes to equal state everywhere.</param>
/// <param name="DatagramBytes">Datagram bytes sent cluster-wide until convergence.</param>
/// <param name="StreamBytes">Stream bytes sent cluster-wide until convergence.</param>
/// <param name="CompressionBytesSaved">Bytes saved by compression until convergence (summed over nodes).</param>
/// <param name="IdleBytesPerNodePerSecond">Bytes per node per second over a window after convergence.</param>
/// <param name="WallTime">Wall time of the run.</param>
public sealed record StateEfficiencyResult(string Variant, int Nodes, TimeSpan Took, long DatagramBytes, long StreamBytes, long CompressionBytesSaved, double IdleBytesPerNodePerSecond, TimeSpan WallTime);

/// <summary>
/// The replicated-state experiments of docs/BENCHMARKS.md (issue 4, item 8), in virtual time with
/// the real protocol code: one change spreading (push, pull, push-pull), a bulk write, idle
/// traffic, and the effect of compression and Bloom digests. Bytes are the simulated network's
/// datagram and stream counters, cluster-wide, so they include membership traffic (probes,
/// membership gossip) running alongside.
/// </summary>
public static class StateExperiments
{
    private static readonly TimeSpan _checkEvery = TimeSpan.FromMilliseconds(50);

    /// <summary>Rounds and bytes for one SetValue on a random node to reach all <paramref name="n"/> nodes.</summary>
    public static StateSpreadResult Spread(int n, GossipStrategy strategy, int trials, ulong seed, GossipOptions? options = null, TimeSpan? window = null)
    {
        TimeSpan trialWindow = window ?? TimeSpan.FromSeconds(40);
        Stopwatch wall = Stopwatch.StartNew();
        GossipOptions gossip = (options ?? GossipOptions.Lan) with { StateStrategy = strategy };
        SimCluster cluster = Joined(n, seed, gossip);
        TimeSpan joinWall = wall.Elapsed;

        // Background traffic with nothing to spread, for reference.
        long before = TotalBytes(cluster);
        TimeSpan quiet = TimeSpan.FromSeconds(10);
        cluster.RunFor(quiet);
        double background = (TotalBytes(cluster) - before) / quiet.TotalSeconds;

        Xoshiro256StarStar random = new(seed ^ 0x57A7E);
        List<double> rounds = [];
        List<double> bytes = [];
        List<double> excess = [];
        for (int t = 0; t < trials; t++)
        {
            SimNode origin = cluster.Nodes[random.NextInt(n)];
            string key = $"experiment/spread-{t}";
            TimeSpan start = cluster.Now;
            long bytesBefore = TotalBytes(cluster);
            origin.Command((node, now) => node.SetValue(key, Encoding.UTF8.GetBytes($"value-{t}"), now));
            int informed = 0;
            bool Everyone()
            {
                while (informed < n && cluster.Nodes[informed].LiveNode.GetValue(origin.Name, key) is not null)
                {
                    informed++;
                }

                return informed == n;
            }

            if (cluster.RunUntil(Everyone, TimeSpan.FromSeconds(300), _checkEvery) is not { } took)
            {
                throw new InvalidOperationException($"{strategy}, N = {n}, trial {t}: the change reached only the first {informed} nodes within 300 s (seed {seed})");
            }

            rounds.Add(took / gossip.StateGossipInterval);
            bytes.Add(TotalBytes(cluster) - bytesBefore);
            if (cluster.Now - start < trialWindow)
            {
                cluster.RunUntilTime(start + trialWindow);
            }

            excess.Add(TotalBytes(cluster) - bytesBefore - (background * (cluster.Now - start).TotalSeconds));
        }

        return new StateSpreadResult(n, strategy, SpreadStatistics.Of(rounds), SpreadStatistics.Of(bytes), SpreadStatistics.Of(excess), trialWindow, background, joinWall, wall.Elapsed);
    }

    /// <summary>Writes <paramref name="keys"/> keys on one node at once and measures the time and bytes until every node holds equal state.</summary>
    public static StateBulkResult BulkWrite(int n, int keys, int valueBytes, ulong seed, GossipOptions? options = null)
    {
        Stopwatch wall = Stopwatch.StartNew();
        GossipOptions gossip = options ?? GossipOptions.Lan;
        SimCluster cluster = Joined(n, seed, gossip);
        SimNode writer = cluster.Nodes[new Xoshiro256StarStar(seed ^ 0xB01C).NextInt(n)];
        long datagrams = cluster.Network.BytesSent;
        long streams = cluster.Network.StreamBytesSent;
        long catchUps = cluster.Nodes.Sum(x => x.LiveNode.Counters.StateCatchUps);
        long saved = cluster.Nodes.Sum(x => x.LiveNode.Counters.CompressionBytesSaved);
        writer.Command((node, now) =>
        {
            for (int i = 0; i < keys; i++)
            {
                node.SetValue($"bulk/{i:D5}", Value(i, valueBytes), now);
            }

            return 0;
        });

        TimeSpan took = Converge(cluster, TimeSpan.FromSeconds(600), $"{keys} keys on one node, N = {n}");
        int held = cluster.Nodes.Min(x => x.LiveNode.ListValues(writer.Name, "bulk/").Count);
        if (held != keys)
        {
            throw new InvalidOperationException($"checksums agree but a node holds {held} of {keys} keys (seed {seed})");
        }

        return new StateBulkResult(
            n,
            keys,
            valueBytes,
            took,
            cluster.Network.BytesSent - datagrams,
            cluster.Network.StreamBytesSent - streams,
            cluster.Nodes.Sum(x => x.LiveNode.Counters.StateCatchUps) - catchUps,
            cluster.Nodes.Sum(x => x.LiveNode.Counters.CompressionBytesSaved) - saved,
            wall.Elapsed);
    }

    /// <summary>
    /// Idle traffic: every node writes one key, the cluster converges, stays quiet for
    /// <paramref name="quiet"/>, then the traffic of <paramref name="window"/> without writes is
    /// measured. With <paramref name="stateGossip"/> false, StateGossipInterval is set to a day
    /// (state gossip effectively off; the keys do not spread), which separates the state share.
    /// </summary>
    public static StateIdleResult Idle(int n, bool stateGossip, TimeSpan quiet, TimeSpan window, ulong seed, GossipOptions? options = null)
    {
        Stopwatch wall = Stopwatch.StartNew();
        GossipOptions gossip = options ?? GossipOptions.Lan;
        if (!stateGossip)
        {
            gossip = gossip with { StateGossipInterval = TimeSpan.FromDays(1) };
        }

        SimCluster cluster = Joined(n, seed, gossip);
        foreach (SimNode node in cluster.Nodes)
        {
            node.Command((g, now) => g.SetValue("service/endpoint", Encoding.UTF8.GetBytes($"http://{node.Name}:8080/"), now));
        }

        if (stateGossip)
        {
            Converge(cluster, TimeSpan.FromSeconds(300), $"one key per node, N = {n}");
        }

        cluster.RunFor(quiet);
        long bytes = TotalBytes(cluster);
        long packets = cluster.Network.PacketsSent;
        long skipped = cluster.Nodes.Sum(x => x.LiveNode.Counters.StateExchangesSkipped);
        cluster.RunFor(window);
        double perNodeSecond = n * window.TotalSeconds;
        return new StateIdleResult(
            n,
            stateGossip,
            window,
            (TotalBytes(cluster) - bytes) / perNodeSecond,
            (cluster.Network.PacketsSent - packets) / perNodeSecond,
            cluster.Nodes.Sum(x => x.LiveNode.Counters.StateExchangesSkipped) - skipped,
            wall.Elapsed);
    }

    /// <summary>
    /// The efficiency scenario: <paramref name="writers"/> nodes write <paramref name="keysPerWriter"/>
    /// keys each (compressible text values of <paramref name="valueBytes"/> bytes); bytes until equal
    /// state everywhere, then idle bytes per node per second over <paramref name="idleWindow"/>.
    /// </summary>
    public static StateEfficiencyResult Efficiency(string variant, int n, int writers, int keysPerWriter, int valueBytes, TimeSpan idleWindow, ulong seed, GossipOptions options)
    {
        Stopwatch wall = Stopwatch.StartNew();
        SimCluster cluster = Joined(n, seed, options);
        long datagrams = cluster.Network.BytesSent;
        long streams = cluster.Network.StreamBytesSent;
        long saved = cluster.Nodes.Sum(x => x.LiveNode.Counters.CompressionBytesSaved);
        for (int w = 0; w < writers; w++)
        {
            SimNode writer = cluster.Nodes[w * n / writers];
            writer.Command((node, now) =>
            {
                for (int k = 0; k < keysPerWriter; k++)
                {
                    node.SetValue($"app/config/{k:D3}", Value(k, valueBytes), now);
                }

                return 0;
            });
        }

        TimeSpan took = Converge(cluster, TimeSpan.FromSeconds(600), $"{variant}: {writers} × {keysPerWriter} keys, N = {n}");
        long datagramBytes = cluster.Network.BytesSent - datagrams;
        long streamBytes = cluster.Network.StreamBytesSent - streams;
        long savedBytes = cluster.Nodes.Sum(x => x.LiveNode.Counters.CompressionBytesSaved) - saved;
        cluster.RunFor(TimeSpan.FromSeconds(10));
        long idleStart = TotalBytes(cluster);
        cluster.RunFor(idleWindow);
        double idle = (TotalBytes(cluster) - idleStart) / (n * idleWindow.TotalSeconds);
        return new StateEfficiencyResult(variant, n, took, datagramBytes, streamBytes, savedBytes, idle, wall.Elapsed);
    }

    /// <summary>Datagram plus stream bytes sent so far, cluster-wide.</summary>
    private static long TotalBytes(SimCluster cluster) => cluster.Network.BytesSent + cluster.Network.StreamBytesSent;

    /// <summary>A compressible text value of about <paramref name="bytes"/> bytes (configuration-like).</summary>
    private static byte[] Value(int i, int bytes)
    {
        StringBuilder text = new();
        while (text.Length < bytes)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{{\"setting\":{i},\"enabled\":true,\"region\":\"eu-west\"}}");
        }

        return Encoding.UTF8.GetBytes(text.ToString(0, bytes));
    }

    /// <summary>N nodes joined, membership agreed, join news drained.</summary>
    private static SimCluster Joined(int n, ulong seed, GossipOptions gossip) => ExperimentCluster.Joined(n, seed, gossip);

    /// <summary>Runs until every node reports the same state checksum (equal checksums: equal states).</summary>
    private static TimeSpan Converge(SimCluster cluster, TimeSpan bound, string what)
    {
        bool Equal()
        {
            ulong first = cluster.Nodes[0].LiveNode.StateChecksum;
            foreach (SimNode node in cluster.Nodes)
            {
                if (node.LiveNode.StateChecksum != first)
                {
                    return false;
                }
            }

            return true;
        }

        return cluster.RunUntil(Equal, bound, _checkEvery) ?? throw new InvalidOperationException($"{what}: states did not converge within {bound.TotalSeconds} s (seed {cluster.Seed})");
    }
}
