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
    public static int Run(string[] args)
    {
        int[] sizes = [1000, 10_000, 100_000, 1_000_000];
        int trials = 5;
        double epsilon = 1e-4;
        int[] fullSizes = [1000];
        int fullTrials = 2;
        int[] lossSizes = [1000];
        double[] losses = [0.01, 0.05];
        int lossRounds = 60;
        ulong seed = 1;
        HashSet<string> only = ["shared", "full", "loss"];
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--nodes":
                    sizes = Ints(value);
                    break;
                case "--trials":
                    trials = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--epsilon":
                    epsilon = double.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--full-nodes":
                    fullSizes = value == "none" ? [] : Ints(value);
                    break;
                case "--full-trials":
                    fullTrials = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--loss-nodes":
                    lossSizes = value == "none" ? [] : Ints(value);
                    break;
                case "--loss":
                    losses = value.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                    break;
                case "--loss-rounds":
                    lossRounds = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--seed":
                    seed = ulong.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--only":
                    only = [.. value.Split(',')];
                    break;
                default:
                    throw new ArgumentException($"unknown option {args[i]}");
            }

            i++;
        }

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

    private static int[] Ints(string value) => value.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
}
