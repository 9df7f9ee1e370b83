using System.CommandLine;
using System.Globalization;
using Rumor.Core;
using Rumor.Simulation.Experiments;

namespace Rumor.Benchmarks;

/// <summary>
/// Replicated-state experiments in virtual time (<see cref="StateExperiments"/>). Usage:
/// <c>state [--only spread,bulk,idle,efficiency] [--nodes 100,1000] [--trials 3] [--idle-nodes 10,100,1000]
/// [--idle-duration 60s] [--idle-no-baseline] [--bulk-nodes 100] [--bulk-keys 1000] [--eff-nodes 100] [--full-sync-every 10] [--seed 1]</c>.
/// --full-sync-every sets StateFullSyncEveryRounds (1: no quiet rounds; a settled node then sends a checksum probe every round).
/// </summary>
public static class StateExperiment
{
    public static Command Create()
    {
        Option<string[]> only = BenchOptions.Names("--only", "Parts to run", ["spread", "bulk", "idle", "efficiency"]);
        Option<int[]> nodes = BenchOptions.Ints("--nodes", "Sizes for the spread rows", [100, 1000]);
        Option<int> trials = BenchOptions.Int("--trials", "Trials per spread row.", 3);
        Option<string[]> strategies = BenchOptions.Names("--strategies", "Strategies for the spread rows", ["push", "pull", "push-pull"]);
        Option<int[]> idleNodes = BenchOptions.Ints("--idle-nodes", "Sizes for the idle-traffic rows", [10, 100, 1000]);
        Option<TimeSpan?> idleDuration = BenchOptions.Duration("--idle-duration", "Virtual time measured per idle row (default 60s).");
        Option<bool> idleNoBaseline = new("--idle-no-baseline") { Description = "Skip the idle rows' second run with state gossip off (halves their cost; the membership share is then not shown)." };
        Option<int> bulkNodes = BenchOptions.Int("--bulk-nodes", "Cluster size for the bulk row.", 100);
        Option<int> bulkKeys = BenchOptions.Int("--bulk-keys", "Keys written in the bulk row.", 1000);
        Option<int> effNodes = BenchOptions.Int("--eff-nodes", "Cluster size for the efficiency rows.", 100);
        Option<int> fullSyncEvery = BenchOptions.Int("--full-sync-every", "StateFullSyncEveryRounds (1: no quiet rounds; a settled node then sends a checksum probe every round).", GossipOptions.Lan.StateFullSyncEveryRounds);
        Option<ulong> seed = BenchOptions.Seed();
        Command command = new("state", "Replicated-state experiments: spread of a key, bulk sync, idle traffic, digest efficiency.")
        {
            only, nodes, trials, strategies, idleNodes, idleDuration, idleNoBaseline, bulkNodes, bulkKeys, effNodes, fullSyncEvery, seed,
        };
        command.SetAction(parsed => Run(
            [.. parsed.GetValue(only)!], parsed.GetValue(nodes)!, parsed.GetValue(trials),
            [.. parsed.GetValue(strategies)!.Select(name => Enum.Parse<GossipStrategy>(name.Replace("-", "", StringComparison.Ordinal), ignoreCase: true))],
            parsed.GetValue(idleNodes)!, parsed.GetValue(idleDuration) ?? TimeSpan.FromSeconds(60), parsed.GetValue(idleNoBaseline), parsed.GetValue(bulkNodes), parsed.GetValue(bulkKeys), parsed.GetValue(effNodes), parsed.GetValue(seed), parsed.GetValue(fullSyncEvery)));
        return command;
    }

    private static int Run(HashSet<string> only, int[] sizes, int trials, GossipStrategy[] strategies, int[] idleSizes, TimeSpan idleDuration, bool idleNoBaseline, int bulkNodes, int bulkKeys, int effNodes, ulong seed, int fullSyncEvery)
    {
        GossipOptions lan = GossipOptions.Lan with { StateFullSyncEveryRounds = fullSyncEvery };
        Console.WriteLine($"# Replicated state, seed {seed}; LAN preset (GossipInterval {lan.GossipInterval.TotalMilliseconds} ms, StateGossipInterval {lan.StateGossipInterval.TotalSeconds} s, StateGossipFanout {lan.StateGossipFanout}, digest {lan.StateDigestMode}, compression threshold {lan.CompressionThresholdBytes} B, StateFullSyncEveryRounds {lan.StateFullSyncEveryRounds})");
        if (only.Contains("spread"))
        {
            Console.WriteLine();
            Console.WriteLine($"## One change to all N nodes ({trials} trials per row; rounds = StateGossipInterval)");
            Console.WriteLine("| N | strategy | mean rounds | min | max | log2 N | ln N | bytes until all had it | of which background (est.) | whole cost of the change (window − background) | background bytes/s | join wall | wall |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (int n in sizes)
            {
                foreach (GossipStrategy strategy in strategies)
                {
                    StateSpreadResult r = StateExperiments.Spread(n, strategy, trials, seed, lan);
                    double background = r.BackgroundBytesPerSecond * r.Rounds.Mean * lan.StateGossipInterval.TotalSeconds;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {n} | {strategy} | {r.Rounds.Mean:0.00} | {r.Rounds.Min:0.00} | {r.Rounds.Max:0.00} | {Math.Log2(n):0.00} | {Math.Log(n):0.00} | {Kb(r.Bytes.Mean)} | {Kb(background)} | {Kb(r.ExcessBytes.Mean)} ({r.Window.TotalSeconds:0} s) | {Kb(r.BackgroundBytesPerSecond)}/s | {r.JoinWallTime.TotalSeconds:0} s | {r.WallTime.TotalSeconds:0} s |"));
                }
            }
        }

        if (only.Contains("bulk"))
        {
            Console.WriteLine();
            Console.WriteLine($"## {bulkKeys} keys changed on one node at once");
            Console.WriteLine("| N | keys | value bytes | time to converge | datagram bytes | stream bytes | total | stream catch-ups | compression saved | wall |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
            StateBulkResult b = StateExperiments.BulkWrite(bulkNodes, bulkKeys, 40, seed, lan);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {b.Nodes} | {b.Keys} | {b.ValueBytes} | {b.Took.TotalSeconds:0.00} s | {Kb(b.DatagramBytes)} | {Kb(b.StreamBytes)} | {Kb(b.DatagramBytes + b.StreamBytes)} | {b.CatchUps} | {Kb(b.CompressionBytesSaved)} | {b.WallTime.TotalSeconds:0} s |"));
        }

        if (only.Contains("idle"))
        {
            Console.WriteLine();
            Console.WriteLine($"## Idle traffic ({DurationText.Format(idleDuration)} virtual after convergence and 30 s quiet; one key per node)");
            Console.WriteLine("| N | total bytes/node/s (Rumor payload) | with IPv4 + UDP headers (+28 B per datagram) | packets/node/s | state gossip off: bytes/node/s | state share bytes/node/s | exchanges skipped (equal checksum) | wall (on + off) |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            foreach (int n in idleSizes)
            {
                StateIdleResult on = StateExperiments.Idle(n, true, TimeSpan.FromSeconds(30), idleDuration, seed, lan);
                StateIdleResult? off = idleNoBaseline ? null : StateExperiments.Idle(n, false, TimeSpan.FromSeconds(30), idleDuration, seed, lan);
                string offBytes = off is null ? "—" : string.Create(CultureInfo.InvariantCulture, $"{off.BytesPerNodePerSecond:0}");
                string share = off is null ? "—" : string.Create(CultureInfo.InvariantCulture, $"{on.BytesPerNodePerSecond - off.BytesPerNodePerSecond:0}");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {n} | {on.BytesPerNodePerSecond:0} | {on.BytesPerNodePerSecond + (UdpIpv4HeaderBytes * on.PacketsPerNodePerSecond):0} | {on.PacketsPerNodePerSecond:0.0} | {offBytes} | {share} | {on.StateExchangesSkipped} | {(on.WallTime + (off?.WallTime ?? TimeSpan.Zero)).TotalSeconds:0} s |"));
            }
        }

        if (only.Contains("efficiency"))
        {
            Console.WriteLine();
            Console.WriteLine($"## Compression and Bloom digests (N = {effNodes}, 10 writers × 10 keys of 200-byte JSON-like text; idle measured over 30 s after convergence)");
            Console.WriteLine("| variant | time to converge | datagram bytes | stream bytes | total | compression saved | idle bytes/node/s | wall |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            (string Name, GossipOptions Options)[] variants =
            [
                ("default (Auto digest, compression ≥ 512 B)", lan),
                ("compression off (threshold 0)", lan with { CompressionThresholdBytes = 0 }),
                ("Full digest", lan with { StateDigestMode = DigestMode.Full }),
                ("Bloom digest (p = 0.01)", lan with { StateDigestMode = DigestMode.Bloom }),
                ("Bloom digest, compression off", lan with { StateDigestMode = DigestMode.Bloom, CompressionThresholdBytes = 0 }),
            ];
            foreach ((string name, GossipOptions options) in variants)
            {
                StateEfficiencyResult e = StateExperiments.Efficiency(name, effNodes, 10, 10, 200, TimeSpan.FromSeconds(30), seed, options);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {e.Variant} | {e.Took.TotalSeconds:0.00} s | {Kb(e.DatagramBytes)} | {Kb(e.StreamBytes)} | {Kb(e.DatagramBytes + e.StreamBytes)} | {Kb(e.CompressionBytesSaved)} | {e.IdleBytesPerNodePerSecond:0} | {e.WallTime.TotalSeconds:0} s |"));
            }
        }

        return 0;
    }

    /// <summary>What the network adds to every datagram below Rumor's bytes: an IPv4 header (20) and a UDP header (8). Stream bytes are counted as payload only (TCP/IP headers per segment are not modelled).</summary>
    private const int UdpIpv4HeaderBytes = 28;

    private static string Kb(double bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB");
}
