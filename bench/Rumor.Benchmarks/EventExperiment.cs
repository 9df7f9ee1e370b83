using System.Globalization;
using Rumor.Simulation.Experiments;

namespace Rumor.Benchmarks;

/// <summary>
/// User event residue with and without event anti-entropy (<see cref="EventExperiments"/>). Usage:
/// <c>events [--nodes 500] [--loss 0.05,0.2] [--multiplier 1,4] [--events 20] [--seed 1]</c>.
/// </summary>
public static class EventExperiment
{
    public static int Run(string[] args)
    {
        int nodes = 500;
        double[] losses = [0.05, 0.20];
        int[] multipliers = [1, 4];
        int events = 20;
        ulong seed = 1;
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--nodes":
                    nodes = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--loss":
                    losses = [.. value.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture))];
                    break;
                case "--multiplier":
                    multipliers = [.. value.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))];
                    break;
                case "--events":
                    events = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--seed":
                    seed = ulong.Parse(value, CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new ArgumentException($"unknown option {args[i]}");
            }

            i++;
        }

        Console.WriteLine("| N | loss | m | anti-entropy | residue at 2 s | 5 s | 10 s | 30 s | 60 s | duplicates | digests / node / s | repairs | wall |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (double loss in losses)
        {
            foreach (int m in multipliers)
            {
                foreach (bool antiEntropy in new[] { false, true })
                {
                    EventResidueResult r = EventExperiments.Residue(nodes, loss, m, antiEntropy, events, seed);
                    string cells = string.Join(" | ", r.ResidueAt.Select(c => c.Residue.ToString("0.0000", CultureInfo.InvariantCulture)));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {r.Nodes} | {r.Loss:P0} | {m} | {(antiEntropy ? "on" : "off")} | {cells} | {r.Duplicates} | {r.DigestsPerNodeSecond:0.00} | {r.Repairs} | {r.WallTime.TotalSeconds:0} s |"));
                }
            }
        }

        return 0;
    }
}
