using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Rumor.Simulation.Vopr;

namespace Rumor.Cli;

/// <summary>
/// <c>rumor vopr</c>: sweeps seeds through the simulator (TigerBeetle's VOPR). Each seed draws a
/// cluster, options, faults and a workload, runs them in virtual time, heals and checks the
/// invariants (docs/TESTING.md). A failing seed prints its replay command, what it drew, every
/// violation and the last relevant trace records; the last line is <c>N seeds, F failed</c>. Exit 1
/// when any seed failed.
/// </summary>
internal static class VoprCommand
{
    /// <summary>The command for the parser, writing to the writers given.</summary>
    public static Command Create(TextWriter output, TextWriter error)
    {
        Command command = new("vopr", "Sweeps seeds through the simulator: random clusters, options, faults and workloads, then checks the invariants after heal.")
        {
            CliOptions.Parsed<IReadOnlyList<ulong>?>("--seeds", "SEEDS", "Seeds to run: 5, 1-1000 or 1,7,9-12 (default 1-40).", ParseSeeds),
            CliOptions.Count("--parallel", "N", "Seeds run at once (1 to 64; default: the processor count).", 1, 64, "a thread count"),
            CliOptions.Duration("--minutes", "Stop starting seeds after this much wall time, e.g. 10m or 90s (default: run every seed).", TimeSpan.FromSeconds(1), TimeSpan.FromDays(7)),
            CliOptions.Flag("--verbose", "Print one line per passing seed too."),
            CliOptions.Flag("--describe", "Print what each seed draws (cluster, options, faults, workload) without running it."),
        };
        command.SetAction((parsed, stop) => RunAsync(parsed, output, error, stop));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parsed, TextWriter output, TextWriter error, CancellationToken stop)
    {
        IReadOnlyList<ulong> seeds = parsed.GetValue<IReadOnlyList<ulong>?>("--seeds") ?? VoprSweep.ParseSeeds("1-40");
        int parallel = parsed.GetValue<int?>("--parallel") ?? Environment.ProcessorCount;
        TimeSpan? budget = parsed.GetValue<TimeSpan?>("--minutes");
        bool verbose = parsed.GetValue<bool>("--verbose");
        if (parsed.GetValue<bool>("--describe"))
        {
            // Drawing a scenario runs nothing, so this is quick even for 10,000 seeds: used to pick
            // the seeds a change can reach (scripts/vopr-sweep.sh's FILTER, e.g. PhiAccrual).
            foreach (ulong seed in seeds)
            {
                stop.ThrowIfCancellationRequested();
                await output.WriteLineAsync(VoprScenario.Generate(seed).Describe()).ConfigureAwait(false);
            }

            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{seeds.Count} seeds described, none run")).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        Stopwatch wall = Stopwatch.StartNew();
        int failed = 0;
        IReadOnlyList<VoprResult> results;
        try
        {
            // Reports are written from the sweep's threads in seed order, one at a time.
            results = await Task.Run(() => VoprSweep.Run(seeds, parallel, budget, result =>
            {
                if (!result.Passed)
                {
                    failed++;
                    output.Write(FormatFailure(result));
                }
                else if (verbose)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"seed {result.Seed} ok: {result.Scenario.NodeCount} nodes, {result.Scenario.Faults.Count} faults, {result.VirtualTime.TotalSeconds:0} s virtual, trace {result.TraceHash:x16}; checked {string.Join(", ", result.Coverage.Select(c => $"{c.Key} {c.Value}"))}"));
                }
            }, stop), stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("rumor vopr: interrupted.").ConfigureAwait(false);
            return ExitCodes.Interrupted;
        }

        if (results.Count < seeds.Count)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{seeds.Count - results.Count} seeds not run: the --minutes budget was spent")).ConfigureAwait(false);
        }

        if (verbose)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"wall time {wall.Elapsed.TotalSeconds:0.0} s on {parallel} threads")).ConfigureAwait(false);
        }

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{results.Count} seeds, {failed} failed")).ConfigureAwait(false);
        return failed == 0 ? ExitCodes.Ok : ExitCodes.Failure;
    }

    /// <summary>A failing seed: replay command, what it drew, the violations, the relevant trace.</summary>
    internal static string FormatFailure(VoprResult result)
    {
        using StringWriter text = new(CultureInfo.InvariantCulture);
        text.WriteLine($"FAIL seed {result.Seed}: replay with `{result.ReplayCommand}`");
        text.WriteLine("  " + result.Scenario.Describe());
        foreach (string violation in result.Violations.Take(10))
        {
            text.WriteLine("  violation: " + violation);
        }

        text.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  at virtual {result.VirtualTime.TotalSeconds:0.000} s, trace hash {result.TraceHash:x16}; last relevant trace records:"));
        foreach (string record in result.Trace)
        {
            text.WriteLine("    " + record);
        }

        return text.ToString();
    }

    private static IReadOnlyList<ulong>? ParseSeeds(string text)
    {
        try
        {
            return VoprSweep.ParseSeeds(text);
        }
        catch (FormatException e)
        {
            throw new UsageException($"--seeds: {e.Message}");
        }
    }
}
