namespace Rumor.Cli;

/// <summary>The <c>rumor</c> command: picks the subcommand and prints the top-level help.</summary>
internal static class RumorCommand
{
    public const string Usage = """
        Usage: rumor <command> [options]

        Rumor: gossip membership and failure detection (SWIM with Lifeguard) for .NET.

        Commands:
          agent     Run one node in the foreground; Ctrl+C leaves the cluster and exits.
          demo      Run a 5-node cluster on loopback, crash one node, watch the others detect it.
          simulate  Spread one rumor through a simulated cluster (up to 10^6 nodes) against theory; CSV and SVG.

        Run 'rumor <command> --help' for a command's options.

        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken stop)
    {
        if (args.Count == 0)
        {
            await error.WriteAsync(Usage).ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        string[] rest = [.. args.Skip(1)];
        switch (args[0])
        {
            case "-h" or "--help" or "help":
                await output.WriteAsync(Usage).ConfigureAwait(false);
                return ExitCodes.Ok;
            case "agent":
                return await AgentCommand.RunAsync(rest, output, error, stop).ConfigureAwait(false);
            case "demo":
                return await DemoCommand.RunAsync(rest, output, error, stop).ConfigureAwait(false);
            case "simulate":
                return await SimulateCommand.RunAsync(rest, output, error, stop).ConfigureAwait(false);
            default:
                await error.WriteLineAsync($"rumor: unknown command '{args[0]}'.").ConfigureAwait(false);
                await error.WriteLineAsync("Run 'rumor --help' for the commands.").ConfigureAwait(false);
                return ExitCodes.Usage;
        }
    }
}
