using BenchmarkDotNet.Running;

namespace Rumor.Benchmarks;

/// <summary>
/// Entry point. <c>convergence ...</c> runs the broadcast-spread experiment in virtual time
/// (<see cref="ConvergenceExperiment"/>), <c>detection ...</c> the failure-detection experiments
/// (<see cref="DetectionExperiment"/>), <c>state ...</c> the replicated-state experiments
/// (<see cref="StateExperiment"/>), <c>spread ...</c> the spread of one rumor at 10^3 to 10^6 nodes
/// (<see cref="SpreadBench"/>); anything else goes to BenchmarkDotNet, for example
/// <c>dotnet run -c Release --project bench/Rumor.Benchmarks -- --filter '*Codec*' --job short</c>.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "convergence")
        {
            return ConvergenceExperiment.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "detection")
        {
            return DetectionExperiment.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "phi")
        {
            return PhiExperiment.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "spread")
        {
            return SpreadBench.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "events")
        {
            return EventExperiment.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "state")
        {
            return StateExperiment.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "aggregates")
        {
            return AggregateExperiment.Run(args[1..]);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
