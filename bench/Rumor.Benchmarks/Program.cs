using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using BenchmarkDotNet.Running;

namespace Rumor.Benchmarks;

/// <summary>
/// Entry point, on System.CommandLine like the <c>rumor</c> command. <c>convergence</c> runs the
/// broadcast-spread experiment in virtual time (<see cref="ConvergenceExperiment"/>),
/// <c>detection loss|starved|latency</c> the failure-detection experiments
/// (<see cref="DetectionExperiment"/>), <c>state</c> the replicated-state experiments
/// (<see cref="StateExperiment"/>), <c>phi</c>, <c>spread</c>, <c>events</c> and
/// <c>aggregates</c> theirs, <c>scale</c> the simulator's own cost at scale
/// (<see cref="ScaleExperiment"/>), <c>agent-load</c> three agent processes under API load
/// (<see cref="AgentLoad.AgentLoadExperiment"/>), <c>report</c> the simulator experiments into docs/BENCHMARKS.md
/// (<see cref="ReportCommand"/>); anything else goes to BenchmarkDotNet, for example
/// <c>dotnet run -c Release --project bench/Rumor.Benchmarks -- --filter '*Codec*' --job short</c>.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        RootCommand root = new("Rumor's experiments in virtual time, and (with BenchmarkDotNet's own options, e.g. --filter '*Codec*') its micro-benchmarks.")
        {
            ConvergenceExperiment.Create(),
            DetectionExperiment.Create(),
            StateExperiment.Create(),
            PhiExperiment.Create(),
            SpreadBench.Create(),
            EventExperiment.Create(),
            AggregateExperiment.Create(),
            ScaleExperiment.Create(),
            AgentLoad.AgentLoadExperiment.Create(),
            ReportCommand.Create(),
            EnvelopeThroughputExperiment.Create(),
            ClusterBench.Create(),
            TransportThroughputExperiment.Create(),
            ScenarioExperiment.Create(),
        };

        // What names no experiment is BenchmarkDotNet's command line: hand it over unchanged.
        root.TreatUnmatchedTokensAsErrors = false;
        root.SetAction(parsed =>
        {
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. parsed.UnmatchedTokens]);
            return 0;
        });

        ParseResult result = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });

        // Only the root passes what it does not know on; an experiment refuses it (the library
        // applies the root's setting to every command).
        bool strayWords = result.CommandResult.Command is not RootCommand && result.UnmatchedTokens.Count > 0;
        if (result.Action is ParseErrorAction || strayWords)
        {
            string command = string.Join(' ', ["bench", .. Names(result.CommandResult)]);
            foreach (string error in result.Errors.Select(e => e.Message).Concat(result.UnmatchedTokens.Select(t => $"Unrecognized command or argument '{t}'.")).Distinct())
            {
                Console.Error.WriteLine($"{command}: {error}");
            }

            Console.Error.WriteLine("Run with --help for the options.");
            return 2;
        }

        return result.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    private static IEnumerable<string> Names(SymbolResult? result) =>
        result is CommandResult { Command: not RootCommand } command ? [.. Names(command.Parent), command.Command.Name] : [];
}
