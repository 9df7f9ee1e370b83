using System.CommandLine;
using System.Globalization;
using Rumor.Simulation.Experiments;

namespace Rumor.Benchmarks;

/// <summary>
/// Convergence experiment in virtual time: rounds for one broadcast to reach all N nodes, beside the
/// simulated ideal of synchronous push with the same fanout, plus the simulator's wall time and
/// memory. Usage: <c>convergence [--nodes 1000,10000] [--trials 20] [--seed 1] [--full-max 2000]</c>.
/// Sizes up to --full-max run the full protocol (and the dissemination-only mode beside it);
/// larger sizes run the dissemination-only mode.
/// </summary>
public static class ConvergenceExperiment
{
    public static Command Create()
    {
        Option<int[]> nodes = BenchOptions.Ints("--nodes", "Cluster sizes", [1000, 10000]);
        Option<int> trials = BenchOptions.Int("--trials", "Spreads per row.", 20);
        Option<ulong> seed = BenchOptions.Seed();
        Option<int> fullMax = BenchOptions.Int("--full-max", "Sizes up to this run the full protocol too.", 2000);
        Command command = new("convergence", "Rounds for one broadcast to reach all N nodes, beside the ideal of synchronous push.") { nodes, trials, seed, fullMax };
        command.SetAction(parsed => Run(parsed.GetValue(nodes)!, parsed.GetValue(trials), parsed.GetValue(seed), parsed.GetValue(fullMax)));
        return command;
    }

    private static int Run(int[] sizes, int trials, ulong seed, int fullMax)
    {
        Console.WriteLine($"# Broadcast spread, seed {seed}, {trials} trials per row; LAN preset (GossipInterval 200 ms, fanout 3, RetransmitMultiplier 4)");
        Console.WriteLine("| N | mode | mean rounds | p50 | p99 | ideal push mean | ideal p99 | packets/node | wall time | managed heap | peak working set |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (int n in sizes)
        {
            int[] ideal = IdealPush.Rounds(n, 3, 2000, seed);
            SpreadStatistics idealStats = SpreadStatistics.Of(ideal.Select(r => (double)r).ToArray());
            if (n <= fullMax)
            {
                Print(BroadcastSpread.FullProtocol(n, trials, seed), idealStats);
            }

            Print(BroadcastSpread.DisseminationOnly(n, trials, seed), idealStats);
            Print(BroadcastSpread.DisseminationOnly(n, trials, seed, synchronous: true), idealStats);
        }

        return 0;
    }

    private static void Print(BroadcastSpreadResult r, SpreadStatistics ideal) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {r.Nodes} | {r.Mode} | {r.Rounds.Mean:0.00} | {r.Rounds.P50:0.00} | {r.Rounds.P99:0.00} | {ideal.Mean:0.00} | {ideal.P99:0} | {r.PacketsPerNode:0.0} | {r.WallTime.TotalSeconds:0.0} s | {r.ManagedBytes / 1048576.0:0} MiB | {r.PeakWorkingSetBytes / 1048576.0:0} MiB |"));
}
