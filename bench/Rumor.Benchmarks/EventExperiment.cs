using System.CommandLine;
using System.Globalization;
using Rumor.Simulation.Experiments;

namespace Rumor.Benchmarks;

/// <summary>
/// User event residue with and without event anti-entropy (<see cref="EventExperiments"/>). Usage:
/// <c>events [--nodes 500] [--loss 0.05,0.2] [--multiplier 1,4] [--events 20] [--seed 1]</c>.
/// </summary>
public static class EventExperiment
{
    public static Command Create()
    {
        Option<int> nodes = BenchOptions.Int("--nodes", "Cluster size.", 500);
        Option<double[]> loss = BenchOptions.Doubles("--loss", "Message loss rates", [0.05, 0.20]);
        Option<int[]> multiplier = BenchOptions.Ints("--multiplier", "Retransmit multipliers", [1, 4]);
        Option<int> events = BenchOptions.Int("--events", "Events per run.", 20);
        Option<ulong> seed = BenchOptions.Seed();
        Command command = new("events", "User event residue with and without event anti-entropy.") { nodes, loss, multiplier, events, seed };
        command.SetAction(parsed => Run(parsed.GetValue(nodes), parsed.GetValue(loss)!, parsed.GetValue(multiplier)!, parsed.GetValue(events), parsed.GetValue(seed)));
        return command;
    }

    private static int Run(int nodes, double[] losses, int[] multipliers, int events, ulong seed)
    {
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
