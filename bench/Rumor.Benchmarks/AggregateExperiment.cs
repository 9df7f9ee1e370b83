using System.CommandLine;
using System.Globalization;
using Rumor.Simulation.Experiments;

namespace Rumor.Benchmarks;

/// <summary>
/// Push-sum experiments (<see cref="AggregateExperiments"/>). Usage:
/// <c>aggregates [--nodes 1000,10000,100000,1000000] [--trials 5] [--epsilon 1e-4] [--full-nodes 1000] [--full-trials 2]
/// [--loss-nodes 1000] [--loss 0.01,0.05] [--loss-rounds 60] [--seed 1] [--only shared,full,loss]</c>.
/// Shared-membership mode runs for every --nodes size; full mode (GossipNode clusters in the simulator) for --full-nodes.
/// </summary>
public static class AggregateExperiment
{
    public static Command Create()
    {
        Option<int[]> nodes = BenchOptions.Ints("--nodes", "Sizes for shared-membership mode", [1000, 10_000, 100_000, 1_000_000]);
        Option<int> trials = BenchOptions.Int("--trials", "Trials per row.", 5);
        Option<double> epsilon = BenchOptions.Double("--epsilon", "Target relative error (max over nodes).", 1e-4);
        Option<int[]> fullNodes = BenchOptions.Ints("--full-nodes", "Sizes for full mode (GossipNode clusters), or none", [1000], allowNone: true);
        Option<int> fullTrials = BenchOptions.Int("--full-trials", "Trials per full-mode row.", 2);
        Option<int[]> lossNodes = BenchOptions.Ints("--loss-nodes", "Sizes for the loss rows, or none", [1000], allowNone: true);
        Option<double[]> loss = BenchOptions.Doubles("--loss", "Message loss rates", [0.01, 0.05]);
        Option<int> lossRounds = BenchOptions.Int("--loss-rounds", "Rounds per loss row.", 60);
        Option<ulong> seed = BenchOptions.Seed();
        Option<string[]> only = BenchOptions.Names("--only", "Parts to run", ["shared", "full", "loss"]);
        Command command = new("aggregates", "Push-sum aggregates: rounds to a target error, in shared-membership and full mode, and under loss.")
        {
            nodes, trials, epsilon, fullNodes, fullTrials, lossNodes, loss, lossRounds, seed, only,
        };
        command.SetAction(parsed => Run(
            parsed.GetValue(nodes)!, parsed.GetValue(trials), parsed.GetValue(epsilon), parsed.GetValue(fullNodes)!, parsed.GetValue(fullTrials),
            parsed.GetValue(lossNodes)!, parsed.GetValue(loss)!, parsed.GetValue(lossRounds), parsed.GetValue(seed), [.. parsed.GetValue(only)!]));
        return command;
    }

    private static int Run(int[] sizes, int trials, double epsilon, int[] fullSizes, int fullTrials, int[] lossSizes, double[] losses, int lossRounds, ulong seed, HashSet<string> only)
    {
        Console.WriteLine($"# Push-sum aggregates, seed {seed}, target relative error {epsilon:G3} (max over nodes), {Environment.ProcessorCount} cores");
        if (only.Contains("shared") || only.Contains("full"))
        {
            Console.WriteLine();
            Console.WriteLine("| N | mode | trials | average: mean rounds | max | count & sum: mean rounds | max | target | wall | peak working set |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        }

        if (only.Contains("full"))
        {
            foreach (int n in fullSizes)
            {
                Print(AggregateExperiments.FullCluster(n, fullTrials, seed, epsilon), fullTrials);
            }
        }

        if (only.Contains("shared"))
        {
            foreach (int n in sizes)
            {
                Print(AggregateExperiments.SharedMembership(n, trials, seed, epsilon), trials);
            }
        }

        if (only.Contains("loss"))
        {
            Console.WriteLine();
            Console.WriteLine($"## Under datagram loss (full mode, {lossRounds} rounds after the start; errors are the max over nodes)");
            Console.WriteLine("| N | loss | flow repair | average error | count error | sum error | weight held (1 = none lost) | retransmissions | wall |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
            foreach (int n in lossSizes)
            {
                foreach (double loss in losses)
                {
                    foreach (bool repair in new[] { true, false })
                    {
                        PushSumLossResult r = AggregateExperiments.UnderLoss(n, loss, repair, lossRounds, seed);
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"| {r.Nodes} | {r.Loss:P0} | {(r.Repair ? "on" : "off (plain push-sum)")} | {r.AverageError:G3} | {r.CountError:G3} | {r.SumError:G3} | {r.WeightHeld:0.000000} | {r.Retransmissions} | {r.WallTime.TotalSeconds:0} s |"));
                    }
                }
            }
        }

        return 0;
    }

    private static void Print(PushSumRoundsResult r, int trials)
    {
        string target = r.Nodes switch
        {
            1000 => "≤ 35",
            10_000 => "≤ 37",
            100_000 or 1_000_000 => "≤ 40",
            _ => "—",
        };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {r.Nodes} | {r.Mode} | {trials} | {r.AverageRounds.Mean:0.0} | {r.AverageRounds.Max:0} | {r.CountRounds.Mean:0.0} | {r.CountRounds.Max:0} | {target} | {r.WallTime.TotalSeconds:0.0} s | {r.PeakWorkingSetBytes / 1048576.0:0} MiB |"));
    }
}
