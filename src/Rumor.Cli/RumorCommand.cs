using Rumor.Cli.Client;

namespace Rumor.Cli;

/// <summary>The <c>rumor</c> command: picks the subcommand and prints the top-level help.</summary>
internal static class RumorCommand
{
    public const string Usage = """
        Usage: rumor <command> [options]

        Rumor: gossip membership and failure detection (SWIM with Lifeguard) for .NET.

        Commands:
          agent      Run one node in the foreground; Ctrl+C leaves the cluster and exits.
          demo       Run a 5-node cluster on loopback, crash one node, watch the others detect it.
          simulate   Spread one rumor through a simulated cluster (up to 10^6 nodes) against theory; CSV and SVG.

        Commands for a running agent (--agent URL, default http://127.0.0.1:7373 or $RUMOR_AGENT; --json on each):
          members    List the members ('members show NAME': one member with its verdict records).
          join       Join a cluster through one or more seed addresses.
          leave      Leave the cluster gracefully.
          kv         Get, set, delete, list or watch replicated keys ('rumor kv --help').
          event      Send a user event to every member.
          events     List the recent user events the agent delivered.
          query      Ask the members a question; print the answers and who did not answer.
          aggregate  Show the cluster-wide sum, count, average, min and max of a numeric key.
          status     Show the agent's identity, member counts, health and convergence.
          monitor    Print membership changes, events and key changes as they happen.

        Run 'rumor <command> --help' for a command's options. Exit codes: 0 ok, 1 failure,
        2 usage error, 3 no agent answered, 130 interrupted.

        """;

    public static Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken stop) =>
        RunAsync(args, output, error, ClientEnvironment.Default, stop);

    /// <summary>As above, with the client commands' environment (stdin, variables, clock) given: for tests.</summary>
    internal static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, ClientEnvironment environment, CancellationToken stop)
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

            case "members":
                return await MembersCommand.RunAsync(rest, output, error, environment, stop).ConfigureAwait(false);
            case "join":
                return await JoinCommand.Command.RunAsync(rest, output, error, environment, stop).ConfigureAwait(false);
            case "leave":
                return await LeaveCommand.Command.RunAsync(rest, output, error, environment, stop).ConfigureAwait(false);
            case "kv":
                return await KvCommand.RunAsync(rest, output, error, environment, stop).ConfigureAwait(false);
            case "event":
                return await EventCommand.Send.RunAsync(rest, output, error, environment, stop).ConfigureAwait(false);
            case "events":
                return await EventCommand.Recent.RunAsync(rest, output, error, environment, stop).ConfigureAwait(false);
            case "query":
                return await QueryCommand.Command.RunAsync(rest, output, error, environment, stop).ConfigureAwait(false);
            case "aggregate":
                return await AggregateCommand.Command.RunAsync(rest, output, error, environment, stop).ConfigureAwait(false);
            case "status":
                return await StatusCommand.Command.RunAsync(rest, output, error, environment, stop).ConfigureAwait(false);
            case "monitor":
                return await MonitorCommand.Command.RunAsync(rest, output, error, environment, stop).ConfigureAwait(false);
            default:
                await error.WriteLineAsync($"rumor: unknown command '{args[0]}'.").ConfigureAwait(false);
                await error.WriteLineAsync("Run 'rumor --help' for the commands.").ConfigureAwait(false);
                return ExitCodes.Usage;
        }
    }
}
