using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Rumor.Core;
using Rumor.Simulation.Charts;
using Rumor.Simulation.Experiments;

namespace Rumor.Cli;

/// <summary>
/// <c>rumor simulate</c>: spreads one rumor from a random node until every node has it, in virtual
/// time, trial after trial, and prints a summary table beside the synchronous ideal. Small clusters
/// run the real <see cref="GossipNode"/>s (full mode); large ones the compact dissemination engine
/// (shared read-only membership). The table holds nothing that depends on the machine (no wall
/// time), so one seed prints one table; <c>--verbose</c> adds wall time and memory after it.
/// Every run is bounded by <c>--max-rounds</c>.
/// </summary>
internal static class SimulateCommand
{
    private const int NodesMax = 10_000_000;
    private const int FullNodesMax = 5000;
    private const int TrialsMax = 10_000;
    private const int MaxRoundsMax = 100_000;

    /// <summary>The command for the parser, writing to the writers given.</summary>
    public static Command Create(TextWriter output, TextWriter error)
    {
        Command command = new("simulate", "Spreads one rumor through a simulated cluster (virtual time, seeded) and compares the rounds to reach everyone with the synchronous ideal.")
        {
            CliOptions.Count("--nodes", "N", $"Cluster size (2 to {NodesMax:N0}; default 1000).", 2, NodesMax, "a node count"),
            CliOptions.Parsed<GossipStrategy?>("--strategy", "S", "push (rumor mongering), pull or push-pull (default push).", ParseStrategy).Completing("push", "pull", "push-pull"),
            CliOptions.Count("--fanout", "F", "Peers contacted per node per round (1 to 64; default 3 for push, 1 for pull and push-pull).", 1, 64, "a fanout"),
            CliOptions.Duration("--interval", "The gossip round in virtual time, e.g. 200ms or 1s, at most 1h (default 200ms for push, 1s for pull and push-pull).", TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1)),
            CliOptions.Parsed<double?>("--loss", "FRACTION", "Probability that a message is lost, in [0, 1) (default 0).", ParseLoss),
            CliOptions.Parsed<PartitionPlan?>("--partition", "F@FROM-TO", "Cut off a fraction F of the nodes during rounds FROM to TO-1, e.g. 0.2@2-10.", ParsePartition),
            CliOptions.Parsed<ChurnPlan?>("--churn", "RATE[:DOWN[:UNTIL]]", "In rounds 1 to UNTIL every node crashes with probability RATE per round and restarts DOWN rounds later with fresh state (defaults: DOWN 5, UNTIL 20), e.g. 0.01:5:20.", ParseChurn),
            CliOptions.Parsed<ulong?>("--seed", "S", "The seed; one seed gives one result (default 1).", ParseSeed),
            CliOptions.Count("--trials", "T", $"Spreads to measure (1 to {TrialsMax:N0}; default 10).", 1, TrialsMax, "a trial count"),
            CliOptions.Parsed<SpreadMode?>("--mode", "M", $"full (real GossipNodes, up to {FullNodesMax:N0} nodes), dissemination (shared membership, any size) or auto (full up to {SpreadExperiment.FullModeMax:N0}; default).", ParseMode).Completing("full", "dissemination", "auto"),
            CliOptions.Count("--clusters", "C", "Full mode: split the trials over C clusters, each joined on its own (the first with --seed, the others with seeds drawn from it), so they can run on several cores; the table is the same for every --parallel (1 to the trial count; default 1: every trial on one cluster, one after another).", 1, TrialsMax, "a cluster count"),
            CliOptions.Count("--parallel", "N", "Threads for independent work: the clusters of --clusters, the dissemination engine's trials and the ideal's (1 to 64; default: the processor count). It never changes the table; full mode holds one joined cluster per thread in memory.", 1, 64, "a thread count"),
            CliOptions.Count("--max-rounds", "R", $"The bound: a trial still spreading after R rounds is reported as not converged (1 to {MaxRoundsMax:N0}; default 200).", 1, MaxRoundsMax, "a round count"),
            CliOptions.Text("--out", "DIR", $"Write {SpreadCharts.TrialsFile}, {SpreadCharts.CurvesFile} and {SpreadCharts.ChartFile} into DIR."),
            CliOptions.Flag("--verbose", "Also print wall time and peak memory (after the table)."),
        };
        command.SetAction((parsed, stop) => RunAsync(parsed, output, error, stop));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parsed, TextWriter output, TextWriter error, CancellationToken stop)
    {
        SpreadSettings settings;
        SpreadMode mode;
        string? outDir;
        bool verbose;
        int parallel;
        try
        {
            (settings, mode) = ParseSettings(parsed);
            parallel = parsed.GetValue<int?>("--parallel") ?? Environment.ProcessorCount;
            outDir = parsed.GetValue<string>("--out");
            if (outDir is { Length: 0 })
            {
                throw new UsageException("--out: the directory name is empty.");
            }

            verbose = parsed.GetValue<bool>("--verbose");
        }
        catch (UsageException e)
        {
            return await UsageErrors.ReportAsync(error, "rumor simulate", [e.Message]).ConfigureAwait(false);
        }

        SpreadReport report;
        try
        {
            int idealTrials = settings.Nodes <= 10_000 ? Math.Max(settings.Trials, 100) : settings.Trials;
            report = await Task.Run(() => SpreadExperiment.Run(settings, mode, idealTrials, parallel, stop), stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("rumor simulate: interrupted.").ConfigureAwait(false);
            return ExitCodes.Interrupted;
        }
        catch (InvalidOperationException e)
        {
            await error.WriteLineAsync($"rumor simulate: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }

        await output.WriteAsync(FormatTable(report)).ConfigureAwait(false);
        if (outDir is not null)
        {
            try
            {
                foreach (string path in SpreadCharts.Write(report, outDir))
                {
                    await output.WriteLineAsync($"wrote {path}").ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"rumor simulate: --out: cannot write to '{outDir}': {e.Message}").ConfigureAwait(false);
                return ExitCodes.Failure;
            }
        }

        if (verbose)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"wall time {report.WallTime.TotalSeconds:0.00} s (measured run, without the ideal) on up to {parallel} thread{(parallel == 1 ? string.Empty : "s")}, peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:0} MiB")).ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }

    /// <summary>The summary table: settings, mode, rounds beside the ideal, transmissions, convergence. Nothing machine-dependent.</summary>
    internal static string FormatTable(SpreadReport report)
    {
        SpreadSettings s = report.Settings;
        string strategy = SpreadReport.StrategyName(s.Strategy);
        StringBuilder text = new();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"rumor simulate: N = {s.Nodes:N0}, strategy {strategy}, fanout {s.Fanout}, interval {FormatDuration(s.EffectiveInterval)}, loss {s.Loss:0.###}, seed {s.Seed}, trials {s.Trials}"));
        text.AppendLine("mode: " + report.ModeDescription);
        if (s.Clusters > 1)
        {
            int fewest = Enumerable.Range(0, s.Clusters).Min(g => s.FirstTrialOf(g + 1) - s.FirstTrialOf(g));
            int most = Enumerable.Range(0, s.Clusters).Max(g => s.FirstTrialOf(g + 1) - s.FirstTrialOf(g));
            string each = fewest == most ? $"{most}" : $"{fewest} or {most}";
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"clusters: {s.Clusters}, each joined on its own (the first with seed {s.Seed}, the others with seeds drawn from it), {each} trials each, one after another"));
        }

        text.AppendLine("faults: " + Faults(s));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"bound: {s.MaxRounds} rounds ({FormatDuration(s.EffectiveInterval * s.MaxRounds)} of virtual time) per trial"));
        text.AppendLine();

        SpreadStatistics measured = report.Rounds;
        SpreadStatistics ideal = report.IdealRounds;
        string format = report.Mode == SpreadMode.Full ? "0.00" : "0.##";
        List<(string Metric, string Measured, string Ideal)> rows =
        [
            ("rounds to everyone, mean", Number(measured.Mean, "0.00"), Number(ideal.Mean, "0.00")),
            ("rounds to everyone, p50", Number(measured.P50, format), Number(ideal.P50, "0")),
            ("rounds to everyone, p99", Number(measured.P99, format), Number(ideal.P99, "0")),
            ("rounds to everyone, max", Number(measured.Max, format), Number(ideal.Max, "0")),
            ("trials that reached everyone", $"{report.Converged}/{report.Trials.Count}", $"{ideal.Count}/{report.IdealTrials.Count}"),
            ("never informed (mean fraction)", Number(report.NeverInformedFraction, "0.######"), "0"),
            (report.Mode == SpreadMode.Full ? "datagrams per node to everyone (all traffic)" : "transmissions per node to everyone", Number(report.TransmissionsPerNode, "0.00"), Number(report.IdealTransmissionsPerNode, "0.00")),
        ];
        int w0 = rows.Max(r => r.Metric.Length);
        int w1 = Math.Max("measured".Length, rows.Max(r => r.Measured.Length));
        int w2 = Math.Max("ideal".Length, rows.Max(r => r.Ideal.Length));
        text.Append("metric".PadRight(w0)).Append("  ").Append("measured".PadLeft(w1)).Append("  ").AppendLine("ideal".PadLeft(w2));
        text.Append(new string('-', w0)).Append("  ").Append(new string('-', w1)).Append("  ").AppendLine(new string('-', w2));
        foreach ((string metric, string m, string i) in rows)
        {
            text.Append(metric.PadRight(w0)).Append("  ").Append(m.PadLeft(w1)).Append("  ").AppendLine(i.PadLeft(w2));
        }

        text.AppendLine();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"ideal: synchronous {strategy}, fanout {s.Fanout}, {(s.Strategy == GossipStrategy.Push ? "pushing until everyone (no retransmit limit)" : "anti-entropy")}, no loss or faults; {report.IdealTrials.Count} runs. Mean-field estimate: {MeanFieldSpread.RoundsToEveryone(s.Nodes, s.Strategy, s.Fanout)} rounds."));
        foreach (string line in IdealNote(report))
        {
            text.AppendLine(line);
        }

        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"memberlist's retransmit limit 4·ceil(log10(N+1)) = {report.MemberlistLimit} per node{(s.Strategy == GossipStrategy.Push ? $"; this run's limit RetransmitMultiplier × ceil(log10(N+1)) = {s.TransmitLimit}" : string.Empty)}."));
        if (report.Converged < report.Trials.Count)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"did not converge within {s.MaxRounds} rounds in {report.Trials.Count - report.Converged} of {report.Trials.Count} trials (or the damped rumor died out first); the rounds above are over the {report.Converged} that did."));
        }

        return text.ToString();
    }

    /// <summary>
    /// Why the measured rounds differ from the ideal's, in the direction they can differ for the mode
    /// that ran: a reader seeing the real protocol beat "the ideal" (4.43 against 8.19 rounds at
    /// N = 1,000) should not have to guess that the ideal is a yardstick, not a bound.
    /// </summary>
    internal static IEnumerable<string> IdealNote(SpreadReport report)
    {
        SpreadSettings s = report.Settings;
        string interval = FormatDuration(s.EffectiveInterval);
        if (report.Mode == SpreadMode.Full)
        {
            yield return $"why measured can beat ideal: a measured round is {interval} of virtual time, and the real nodes' timers are";
            yield return "not in step, so a node that hears the rumor early in a round passes it on in the same round (several hops per";
            yield return s.Strategy == GossipStrategy.Push
                ? "round); probes, acks and push-pulls carry it too, beyond the fanout's gossip messages. The ideal is synchronous:"
                : "round), and every member also answers the exchanges others start with it. The ideal is synchronous:";
            yield return "one hop per round and exactly the fanout's messages per informed node. It is a yardstick, not a lower bound.";
        }
        else if (s.Strategy == GossipStrategy.Push)
        {
            yield return "why measured can trail ideal: both are synchronous rounds, but the measured push stops after the transmit limit";
            yield return "per node (like the real broadcast queue) and loses what --loss drops, while the ideal pushes until everyone knows.";
        }
        else
        {
            yield return "why measured can trail ideal: both are synchronous rounds of the same exchanges; the measured ones lose what --loss";
            yield return "drops and suffer the faults asked for, the ideal has neither.";
        }
    }

    private static (SpreadSettings Settings, SpreadMode Mode) ParseSettings(ParseResult parsed)
    {
        int nodes = parsed.GetValue<int?>("--nodes") ?? 1000;
        GossipStrategy strategy = parsed.GetValue<GossipStrategy?>("--strategy") ?? GossipStrategy.Push;
        int fanout = parsed.GetValue<int?>("--fanout") ?? (strategy == GossipStrategy.Push ? 3 : 1);
        TimeSpan? interval = parsed.GetValue<TimeSpan?>("--interval");
        double loss = parsed.GetValue<double?>("--loss") ?? 0;
        int trials = parsed.GetValue<int?>("--trials") ?? 10;
        int maxRounds = parsed.GetValue<int?>("--max-rounds") ?? 200;
        int clusters = parsed.GetValue<int?>("--clusters") ?? 1;
        ulong seed = parsed.GetValue<ulong?>("--seed") ?? 1;
        PartitionPlan? partition = parsed.GetValue<PartitionPlan?>("--partition");
        ChurnPlan? churn = parsed.GetValue<ChurnPlan?>("--churn");
        SpreadMode mode = parsed.GetValue<SpreadMode?>("--mode") ?? SpreadExperiment.AutoMode(nodes);
        if (mode == SpreadMode.Full && nodes > FullNodesMax)
        {
            throw new UsageException($"--mode full: {nodes:N0} nodes do not fit (N real nodes each hold N members); full mode takes at most {FullNodesMax:N0}. Use --mode dissemination.");
        }

        if (clusters > 1 && mode != SpreadMode.Full)
        {
            throw new UsageException($"--clusters: {nodes:N0} nodes run in dissemination mode, whose trials are independent already; --clusters splits full mode's trials (add --mode full, at most {FullNodesMax:N0} nodes).");
        }

        if (clusters > trials)
        {
            throw new UsageException($"--clusters: {clusters} clusters for {trials} trials; each cluster runs at least one trial (--trials).");
        }

        SpreadSettings settings = new()
        {
            Nodes = nodes,
            Strategy = strategy,
            Fanout = fanout,
            Interval = interval,
            Loss = loss,
            Partition = partition,
            Churn = churn,
            Seed = seed,
            Trials = trials,
            MaxRounds = maxRounds,
            Clusters = clusters,
        };
        if (partition is { } cut && cut.FromRound > maxRounds)
        {
            throw new UsageException($"--partition: it starts at round {cut.FromRound}, after the bound of {maxRounds} rounds (--max-rounds).");
        }

        return (settings, mode);
    }

    private static GossipStrategy? ParseStrategy(string text) => text switch
    {
        "push" => GossipStrategy.Push,
        "pull" => GossipStrategy.Pull,
        "push-pull" or "pushpull" => GossipStrategy.PushPull,
        _ => throw new UsageException($"--strategy: '{text}' is not a strategy (push, pull or push-pull)."),
    };

    /// <summary>full or dissemination; null for auto, which the node count decides.</summary>
    private static SpreadMode? ParseMode(string text) => text switch
    {
        "auto" => null,
        "full" => SpreadMode.Full,
        "dissemination" => SpreadMode.Dissemination,
        _ => throw new UsageException($"--mode: '{text}' is not a mode (full, dissemination or auto)."),
    };

    private static double? ParseLoss(string text) =>
        double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) && value >= 0 && value < 1
            ? value
            : throw new UsageException($"--loss: '{text}' is not a fraction in [0, 1).");

    private static ulong? ParseSeed(string text) =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed)
            ? seed
            : throw new UsageException($"--seed: '{text}' is not a seed (a whole number from 0 to {ulong.MaxValue}).");

    private static PartitionPlan? ParsePartition(string text)
    {
        string[] parts = text.Split('@');
        string[] rounds = parts.Length == 2 ? parts[1].Split('-') : [];
        if (parts.Length == 2 && rounds.Length == 2
            && double.TryParse(parts[0], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double fraction) && fraction > 0 && fraction < 1
            && int.TryParse(rounds[0], NumberStyles.None, CultureInfo.InvariantCulture, out int from) && from >= 1
            && int.TryParse(rounds[1], NumberStyles.None, CultureInfo.InvariantCulture, out int to) && to > from)
        {
            return new PartitionPlan(fraction, from, to);
        }

        throw new UsageException($"--partition: '{text}' is not F@FROM-TO (a fraction in (0, 1) of the nodes cut off from round FROM >= 1 until round TO > FROM), e.g. 0.2@2-10.");
    }

    private static ChurnPlan? ParseChurn(string text)
    {
        string[] parts = text.Split(':');
        int down = 5;
        int until = 20;
        if (parts.Length is >= 1 and <= 3
            && double.TryParse(parts[0], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double rate) && rate >= 0 && rate < 1
            && (parts.Length < 2 || (int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out down) && down is >= 1 and <= 10_000))
            && (parts.Length < 3 || (int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out until) && until is >= 1 and <= MaxRoundsMax)))
        {
            return new ChurnPlan(rate, down, until);
        }

        throw new UsageException($"--churn: '{text}' is not RATE[:DOWN[:UNTIL]] (a crash probability per node per round in [0, 1), 1 to 10,000 rounds down, churn until round 1 to {MaxRoundsMax:N0}), e.g. 0.01:5:20.");
    }

    private static string Faults(SpreadSettings s)
    {
        List<string> faults = [];
        if (s.Loss > 0)
        {
            faults.Add(string.Create(CultureInfo.InvariantCulture, $"{s.Loss:0.###} loss"));
        }

        if (s.Partition is { } p)
        {
            faults.Add(string.Create(CultureInfo.InvariantCulture, $"{p.CutCount(s.Nodes):N0} nodes ({p.Fraction:0.###}) cut off in rounds {p.FromRound} to {p.ToRound - 1}"));
        }

        if (s.Churn is { } c)
        {
            faults.Add(string.Create(CultureInfo.InvariantCulture, $"churn: in rounds 1 to {c.UntilRound} each node crashes with probability {c.CrashPerRound:0.####} per round, back {c.DownRounds} rounds later with fresh state"));
        }

        return faults.Count == 0 ? "none" : string.Join("; ", faults);
    }

    private static string Number(double value, string format) => double.IsNaN(value) ? "-" : value.ToString(format, CultureInfo.InvariantCulture);

    private static string FormatDuration(TimeSpan duration) => duration.TotalMilliseconds < 1000
        ? string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMilliseconds:0.###} ms")
        : string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.###} s");
}
