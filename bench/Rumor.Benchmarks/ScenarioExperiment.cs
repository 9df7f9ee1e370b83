using System.CommandLine;
using System.Globalization;
using Rumor.Core;
using Rumor.Simulation.Experiments;

namespace Rumor.Benchmarks;

/// <summary>
/// The simulator's prediction for <c>scripts/cluster-scale.py</c>'s real-socket run, step for step
/// (<see cref="ClusterScenario"/>), printed in seconds and in rounds so the two can be compared
/// (issue 16's "same round counts as the simulator predicts, ± 2 rounds"). Usage:
/// <c>scenario [--nodes 100,1000] [--repeat 5] [--settle 60s] [--seed 1]</c>.
/// </summary>
public static class ScenarioExperiment
{
    public static Command Create()
    {
        Option<int[]> nodes = BenchOptions.Ints("--nodes", "Cluster sizes", [100, 1000]);
        Option<int> repeat = BenchOptions.Int("--repeat", "Keys, events and crashes measured, one at a time.", 5);
        Option<TimeSpan?> settle = BenchOptions.Duration("--settle", "Virtual time between the join and the first key (default 60s: the real run's settle and idle windows).");
        Option<ulong> seed = BenchOptions.Seed();
        Command command = new("scenario", "The real-socket scale run (scripts/cluster-scale.py) in the simulator: join, keys, events and crashes, in seconds and rounds.") { nodes, repeat, settle, seed };
        command.SetAction(parsed => Run(parsed.GetValue(nodes)!, parsed.GetValue(repeat), parsed.GetValue(settle) ?? TimeSpan.FromSeconds(60), parsed.GetValue(seed)));
        return command;
    }

    private static void Run(int[] sizes, int repeat, TimeSpan settle, ulong seed)
    {
        GossipOptions lan = GossipOptions.Lan;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"# The real-socket scale scenario in the simulator: LAN preset (GossipInterval {lan.GossipInterval.TotalMilliseconds:0} ms, StateGossipInterval {lan.StateGossipInterval.TotalSeconds:0.#} s, ProbeInterval {lan.ProbeInterval.TotalSeconds:0.#} s), {repeat} keys, events and crashes one at a time after a {settle.TotalSeconds:0} s settle; seed {seed}"));
        Console.WriteLine("*seconds: mean (each sample); rounds: mean seconds / that step's interval*");
        Console.WriteLine("| N | joins answered (16 in flight) | converged (from the first join) | joins failed | key to all | in state rounds | event to all | in gossip rounds | first suspicion | dead: first | dead: all | in probe rounds | missed | wall |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (int n in sizes)
        {
            ClusterScenarioResult r = ClusterScenario.Run(n, repeat, settle, seed);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {n:N0} | {r.JoinsAnsweredSeconds:0.00} s | {r.JoinSeconds:0.00} s | {r.JoinsFailed} | {Samples(r.KeyAllSeconds)} | {Mean(r.KeyAllSeconds) / lan.StateGossipInterval.TotalSeconds:0.00} | {Samples(r.EventAllSeconds)} | {Mean(r.EventAllSeconds) / lan.GossipInterval.TotalSeconds:0.00} | {Samples(r.SuspectFirstSeconds)} | {Samples(r.DeadFirstSeconds)} | {Samples(r.DeadAllSeconds)} | {Mean(r.DeadAllSeconds) / lan.ProbeInterval.TotalSeconds:0.00} | {r.Missed} | {r.WallTime.TotalSeconds:0} s |"));
        }
    }

    private static double Mean(IReadOnlyList<double> values) => values.Count == 0 ? double.NaN : values.Average();

    private static string Samples(IReadOnlyList<double> values) =>
        values.Count == 0 ? "none" : string.Create(CultureInfo.InvariantCulture, $"{Mean(values):0.00} s ({string.Join(", ", values.Select(v => v.ToString("0.00", CultureInfo.InvariantCulture)))})");
}
