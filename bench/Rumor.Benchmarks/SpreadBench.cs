using System.CommandLine;
using System.Globalization;
using Rumor.Core;
using Rumor.Simulation.Charts;
using Rumor.Simulation.Experiments;

namespace Rumor.Benchmarks;

/// <summary>
/// Spread of one rumor, N = 10^3 … 10^6 (issue 5, item 5): mean and p99 rounds until everyone has
/// it for push fanout 1 and 3, pull and push-pull, in the compact dissemination engine, beside our
/// Monte-Carlo ideal and the published ideals; transmissions per node beside memberlist's
/// 4·ceil(log10(N + 1)); wall time and peak working set per row. Writes one SVG per strategy.
/// Usage: <c>spread [--nodes 1000,10000,100000,1000000] [--trials 20] [--trials-large 5]
/// [--large-from 1000000] [--seed 1] [--strategies push1,push3,pull,push-pull] [--modes dissemination,full] [--charts DIR]</c>.
/// Full mode runs real GossipNodes (the broadcast queue for push, the Scuttlebutt replicated state for pull and push-pull).
/// </summary>
public static class SpreadBench
{
    private static readonly Dictionary<string, double[]> _published = new(StringComparer.Ordinal)
    {
        ["push1"] = [18.0, 23.6, 29.4, 35.2],
        ["push3"] = [8.2, 10.6, 13.0, 15.4],
        ["pull"] = [13.8, 17.6, 21.1, 25.0],
        ["push-pull"] = [9.1, 11.6, 13.9, 16.4],
    };

    private static readonly string[] _colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

    public static Command Create()
    {
        Option<int[]> nodes = BenchOptions.Ints("--nodes", "Cluster sizes", [1000, 10000, 100000, 1000000]);
        Option<int> trials = BenchOptions.Int("--trials", "Trials per row.", 20);
        Option<int> trialsLarge = BenchOptions.Int("--trials-large", "Trials per row from --large-from nodes.", 5);
        Option<int> largeFrom = BenchOptions.Int("--large-from", "The size from which --trials-large applies.", 1000000);
        Option<ulong> seed = BenchOptions.Seed();
        Option<string[]> strategies = BenchOptions.Names("--strategies", "Strategies", ["push1", "push3", "pull", "push-pull"]);
        Option<string[]> modes = BenchOptions.Names("--modes", "Engines: dissemination (the compact model) and/or full (real GossipNodes: the broadcast queue for push, Scuttlebutt replicated state for pull and push-pull)", ["dissemination", "full"], ["dissemination"]);
        Option<string> charts = new("--charts") { Description = "Write one SVG per strategy into this directory.", HelpName = "DIR" };
        Command command = new("spread", "Spread of one rumor at 10^3 to 10^6 nodes per strategy, beside the ideal; SVG charts.") { nodes, trials, trialsLarge, largeFrom, seed, strategies, modes, charts };
        command.SetAction(parsed => Run(parsed.GetValue(nodes)!, parsed.GetValue(trials), parsed.GetValue(trialsLarge), parsed.GetValue(largeFrom), parsed.GetValue(seed), parsed.GetValue(strategies)!, parsed.GetValue(modes)!, parsed.GetValue(charts)));
        return command;
    }

    private static int Run(int[] sizes, int trials, int trialsLarge, int largeFrom, ulong seed, string[] strategies, string[] modes, string? charts)
    {
        Console.WriteLine($"# Spread of one rumor, seed {seed}, {trials} trials ({trialsLarge} from N = {largeFrom:N0}); dissemination = the compact engine in synchronous rounds (RetransmitMultiplier 4), full = real GossipNodes at their own phases; ideal = the compact engine undamped, same trial count; mean-field = the recurrences of MeanFieldSpread");
        Console.WriteLine("| N | strategy | engine | mean rounds | p50 | p99 | max | our ideal mean | ideal p99 | mean-field rounds | issue's ideal | mean − issue's | converged | never informed | tx/node to everyone | ideal tx/node | 4·ceil(log10(N+1)) | wall | peak working set |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (string name in strategies)
        {
            (GossipStrategy strategy, int fanout) = name switch
            {
                "push1" => (GossipStrategy.Push, 1),
                "push3" => (GossipStrategy.Push, 3),
                "pull" => (GossipStrategy.Pull, 1),
                "push-pull" => (GossipStrategy.PushPull, 1),
                _ => throw new ArgumentException($"unknown strategy {name} (push1, push3, pull, push-pull)"),
            };
            List<ChartSeries> series = [];
            foreach (string modeName in modes)
            {
                SpreadMode mode = modeName == "full" ? SpreadMode.Full : SpreadMode.Dissemination;
                for (int k = 0; k < sizes.Length; k++)
                {
                    int n = sizes[k];
                    int t = n >= largeFrom ? trialsLarge : trials;
                    SpreadSettings settings = new() { Nodes = n, Strategy = strategy, Fanout = fanout, Seed = seed, Trials = t, MaxRounds = 500 };
                    SpreadReport r = SpreadExperiment.Run(settings, mode, t);
                    string engine = mode == SpreadMode.Full ? (strategy == GossipStrategy.Push ? "full: broadcast queue" : "full: Scuttlebutt state") : "compact model";
                    int meanField = MeanFieldSpread.RoundsToEveryone(n, strategy, fanout);
                    int decade = (int)Math.Round(Math.Log10(n)) - 3;
                    double? published = decade is >= 0 and < 4 && Math.Pow(10, decade + 3) == n ? _published[name][decade] : null;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {n:N0} | {name} | {engine} | {r.Rounds.Mean:0.00} | {r.Rounds.P50:0} | {r.Rounds.P99:0} | {r.Rounds.Max:0} | {r.IdealRounds.Mean:0.00} | {r.IdealRounds.P99:0} | {meanField} | {(published is { } p ? p.ToString("0.0", CultureInfo.InvariantCulture) : "–")} | {(published is { } q ? (r.Rounds.Mean - q).ToString("+0.00;−0.00", CultureInfo.InvariantCulture) : "–")} | {r.Converged}/{t} | {r.NeverInformedFraction:0.######} | {r.TransmissionsPerNode:0.00} | {r.IdealTransmissionsPerNode:0.00} | {r.MemberlistLimit} | {r.WallTime.TotalSeconds:0.00} s | {r.PeakWorkingSetBytes / 1048576.0:0} MiB |"));
                    string color = _colors[k % _colors.Length];
                    series.Add(new ChartSeries(string.Create(CultureInfo.InvariantCulture, $"N = {n:N0}, {modeName} ({t} trials)"), SpreadCharts.Points(r.MeanCurve()), color));
                    series.Add(new ChartSeries(string.Create(CultureInfo.InvariantCulture, $"N = {n:N0}, ideal"), SpreadCharts.Points(r.IdealCurve()), color, "6 4"));
                }
            }

            if (charts is not null)
            {
                Directory.CreateDirectory(charts);
                new SvgLineChart
                {
                    Title = string.Create(CultureInfo.InvariantCulture, $"Spread of one rumor: {name}, dissemination mode, seed {seed}"),
                    XLabel = "round",
                    YLabel = "informed fraction (mean over trials)",
                    YRange = (0, 1),
                    Series = series,
                }.Save(Path.Combine(charts, $"spread-{name}.svg"));
            }
        }

        return 0;
    }
}
