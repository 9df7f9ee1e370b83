using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Rumor.Cli.Client;

namespace Rumor.Cli;

/// <summary>
/// The <c>rumor</c> command tree on System.CommandLine: every command with its arguments, options,
/// help and tab completion; usage errors reported one way (<see cref="UsageErrors"/>, exit 2).
/// </summary>
internal static class RumorCommand
{
    private const string Summary = "Rumor: gossip membership and failure detection (SWIM with Lifeguard) for .NET.";

    private const string Epilog = """
        Commands for a running agent (members, join, leave, kv, event, events, query, aggregate,
        status, info, tags, force-leave, monitor) take --agent URL (default http://127.0.0.1:7373, or $RUMOR_AGENT), --token TOKEN
        (the agent's management token, or $RUMOR_TOKEN) and --json.
        Run 'rumor <command> --help' for a command's options; 'rumor completion bash' for tab completion.
        Exit codes: 0 ok, 1 failure (the agent refused), 2 usage error, 3 no agent answered (or not an agent's API),
        4 not found (no such member, key or aggregate), 130 interrupted. Tables fit $COLUMNS (or the terminal, else 100);
        cut cells end with '…' and --json prints everything.
        """;

    /// <summary>
    /// No response files: with them on, a value starting with '@' (a key, a payload) would be
    /// replaced by a file's contents.
    /// </summary>
    private static readonly ParserConfiguration ParserSettings = new() { ResponseFileTokenReplacer = null };

    public static Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken stop) =>
        RunAsync(args, output, error, ClientEnvironment.Default, stop);

    /// <summary>As above, with the client commands' environment (stdin, variables, clock) given: for tests.</summary>
    internal static Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, ClientEnvironment environment, CancellationToken stop) =>
        InvokeAsync(Parse(args, output, error, environment), output, error, stop);

    /// <summary>Parses <paramref name="args"/> against the whole tree (whose commands write to the writers given).</summary>
    internal static ParseResult Parse(IReadOnlyList<string> args, TextWriter output, TextWriter error, ClientEnvironment? environment = null) =>
        Create(output, error, environment ?? ClientEnvironment.Default).Parse(args, ParserSettings);

    /// <summary>True when the command line asks for help (which wins over any mistake on it).</summary>
    internal static bool IsHelp(ParseResult parsed) => parsed.Action is HelpWithEpilog;

    /// <summary>Runs what the command line asks for: help, completions, a usage error (exit 2), or the command.</summary>
    private static async Task<int> InvokeAsync(ParseResult parsed, TextWriter output, TextWriter error, CancellationToken stop)
    {
        // An option's own action (--help, --version, the suggest directive) runs whatever else is on the line.
        bool optionAction = parsed.Action is not null and not ParseErrorAction && parsed.Action != parsed.CommandResult.Command.Action;
        if (!optionAction && UsageErrors.Find(parsed) is { Count: > 0 } errors)
        {
            return await UsageErrors.ReportAsync(error, UsageErrors.CommandPath(parsed), errors).ConfigureAwait(false);
        }

        InvocationConfiguration invocation = new()
        {
            Output = output,
            Error = error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null, // ShutdownSignal owns Ctrl+C and SIGTERM.
        };
        return await parsed.InvokeAsync(invocation, stop).ConfigureAwait(false);
    }

    /// <summary>The command tree; every command writes to <paramref name="output"/> and <paramref name="error"/>.</summary>
    internal static RootCommand Create(TextWriter output, TextWriter error, ClientEnvironment environment)
    {
        RootCommand root = new(Summary)
        {
            AgentCommand.Create(output, error),
            DemoCommand.Create(output, error),
            ClusterCommand.Create(output, error),
            SimulateCommand.Create(output, error),
            VoprCommand.Create(output, error),
            MembersCommand.Create(output, error, environment),
            JoinCommand.Command.Create(output, error, environment),
            LeaveCommand.Command.Create(output, error, environment),
            KvCommand.Create(output, error, environment),
            EventCommand.Send.Create(output, error, environment),
            EventCommand.Recent.Create(output, error, environment),
            QueryCommand.Command.Create(output, error, environment),
            AggregateCommand.Create(output, error, environment),
            StatusCommand.Command.Create(output, error, environment),
            OperatorCommands.Info.Create(output, error, environment),
            OperatorCommands.CreateTags(output, error, environment),
            OperatorCommands.ForceLeave.Create(output, error, environment),
            OperatorCommands.CreateVersion(output),
            MonitorCommand.Command.Create(output, error, environment),
            CompletionCommand.Create(output),
            KeygenCommand.Create(output),
            KeysCommand.Create(output, error, environment),
            RttCommand.Command.Create(output, error, environment),
        };

        // The suggest directive's command line starts with the program's name, which is 'rumor'
        // when installed and something else in tests.
        if (root.Name != "rumor")
        {
            root.Aliases.Add("rumor");
        }
        HelpOption helpOption = root.Options.OfType<HelpOption>().Single();
        helpOption.Action = new HelpWithEpilog((HelpAction)helpOption.Action!);

        // A command that only groups others (rumor, rumor kv) prints its help to stderr and fails when none is named.
        foreach (Command group in new[] { root }.Concat(root.Subcommands).Where(c => c.Action is null && c.Subcommands.Count > 0))
        {
            group.SetAction(async (parsed, stop) =>
            {
                ParseResult help = root.Parse([.. UsageErrors.CommandWords(parsed), "--help"], ParserSettings);
                await help.InvokeAsync(new InvocationConfiguration { Output = error, Error = error, ProcessTerminationTimeout = null }, stop).ConfigureAwait(false);
                return ExitCodes.Usage;
            });
        }

        Command helpCommand = new("help", "Show help for a command: 'rumor help kv set'.") { Hidden = true };
        Argument<string[]> words = new("COMMAND") { Arity = ArgumentArity.ZeroOrMore };
        helpCommand.Add(words);
        helpCommand.SetAction((parsed, stop) => InvokeAsync(root.Parse([.. parsed.GetValue(words) ?? [], "--help"], ParserSettings), output, error, stop));
        root.Add(helpCommand);
        return root;
    }

    /// <summary>The library's help, and after the top-level help what applies to every command: the agent options and the exit codes.</summary>
    private sealed class HelpWithEpilog(HelpAction help) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            int code = help.Invoke(parseResult);
            if (parseResult.CommandResult.Command is RootCommand)
            {
                TextWriter output = parseResult.InvocationConfiguration.Output;
                output.WriteLine("  " + Epilog.TrimEnd().Replace("\n", "\n  ", StringComparison.Ordinal));
                output.WriteLine();
            }

            return code;
        }
    }
}
