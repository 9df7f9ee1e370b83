using System.CommandLine;
using System.Globalization;
using Rumor.Core;
using Rumor.Core.Membership;
using Rumor.Simulation;
using Rumor.Simulation.Experiments;

namespace Rumor.Benchmarks;

/// <summary>
/// φ-accrual mode in virtual time: for each seed, N nodes join, run a minute so the detectors learn
/// the heartbeat timing, then one member crashes; measures first suspicion and dead everywhere.
/// Usage: <c>phi [--nodes 40] [--seeds 10]</c>.
/// </summary>
public static class PhiExperiment
{
    public static Command Create()
    {
        Option<int> nodes = BenchOptions.Int("--nodes", "Cluster size.", 40);
        Option<int> seeds = BenchOptions.Int("--seeds", "Crashes, one per seed 1..N.", 10);
        Command command = new("phi", "φ-accrual mode: first suspicion and dead everywhere after one crash, per seed.") { nodes, seeds };
        command.SetAction(parsed => Run(parsed.GetValue(nodes), parsed.GetValue(seeds)));
        return command;
    }

    private static int Run(int nodes, int seeds)
    {
        GossipOptions options = GossipOptions.Lan with { FailureDetector = FailureDetectorKind.PhiAccrual };
        List<double> suspected = [];
        List<double> dead = [];
        for (ulong seed = 1; seed <= (ulong)seeds; seed++)
        {
            SimCluster cluster = new(new SimulationOptions { Seed = seed, Gossip = options, TraceRecent = 0 });
            cluster.AddNodes(nodes);
            cluster.StartAll(TimeSpan.FromMilliseconds(10));
            cluster.RunUntil(cluster.MembershipAgrees, TimeSpan.FromSeconds(60));
            cluster.RunFor(TimeSpan.FromSeconds(60 + (double)seed));
            SimNode victim = cluster.Nodes[nodes / 3];
            cluster.Crash(victim);
            TimeSpan? first = cluster.RunUntil(() => cluster.LiveNodes.Any(n => n.StateOf(victim.Name) == MemberState.Suspect), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
            TimeSpan? all = cluster.RunUntil(() => cluster.LiveNodes.All(n => n.StateOf(victim.Name) == MemberState.Dead), TimeSpan.FromSeconds(120), TimeSpan.FromMilliseconds(50));
            if (first is null || all is null)
            {
                Console.WriteLine($"seed {seed}: the crash was not detected in time");
                return 1;
            }

            suspected.Add(first.Value.TotalSeconds);
            dead.Add((first.Value + all.Value).TotalSeconds);
        }

        SpreadStatistics s = SpreadStatistics.Of(suspected);
        SpreadStatistics d = SpreadStatistics.Of(dead);
        Console.WriteLine($"# φ-accrual mode, N = {nodes}, {seeds} crashes (seeds 1..{seeds}); HeartbeatInterval {options.HeartbeatInterval.TotalSeconds} s, PhiThreshold {options.PhiThreshold}, PhiAcceptablePause {options.PhiAcceptablePause.TotalSeconds} s, PhiMinStdDeviation {options.PhiMinStdDeviation.TotalMilliseconds} ms");
        Console.WriteLine("| measure | mean | p50 | max |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| first suspicion after the crash | {s.Mean:0.00} s | {s.P50:0.00} s | {s.Max:0.00} s |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| dead in every view | {d.Mean:0.00} s | {d.P50:0.00} s | {d.Max:0.00} s |"));
        return 0;
    }
}
