using System.Text.Json;

namespace Rumor.Cli.Client;

/// <summary>Everything one client command needs while it runs: its arguments, the agent, where to write, and how to stop.</summary>
internal sealed class ClientContext
{
    public required string Command { get; init; }

    public required ParsedArgs Args { get; init; }

    public required AgentClient Agent { get; init; }

    /// <summary>True with <c>--json</c>: print the API's JSON instead of tables.</summary>
    public required bool Json { get; init; }

    public required TextWriter Output { get; init; }

    public required TextWriter Error { get; init; }

    public required ClientEnvironment Environment { get; init; }

    public required CancellationToken Stop { get; init; }

    /// <summary>Prints an answer as JSON (with <c>--json</c>): indented, one document.</summary>
    public Task WriteJsonAsync(JsonElement answer) => Output.WriteLineAsync(Format.PrettyJson(answer));
}

/// <summary>
/// One command that talks to a running agent: its name (<c>kv set</c>), its parser, and what it
/// does. <see cref="RunAsync"/> adds what every such command shares: <c>--agent</c> and
/// <c>--json</c>, <c>--help</c>, and the exit codes: 2 for a usage mistake (before any request),
/// <see cref="ExitCodes.NoAgent"/> when nothing answers, 1 with the problem's detail when the agent
/// refuses, 130 when interrupted.
/// </summary>
internal sealed class ClientCommand
{
    private readonly Func<ClientContext, Task<int>> _run;

    public ClientCommand(string name, string summary, string? positionals, int minPositionals, int maxPositionals, OptionSpec[] options, Func<ClientContext, Task<int>> run)
    {
        Name = name;
        _run = run;
        OptionSpec[] all =
        [
            .. options,
            new OptionSpec("agent", "URL", $"The agent to talk to (default {AgentClient.DefaultAddress}, or $RUMOR_AGENT)."),
            new OptionSpec("json", null, "Print the API's JSON instead of a table."),
        ];
        Parser = new ArgParser("rumor " + name, summary, all);
        if (positionals is not null)
        {
            Parser.WithPositionals(positionals, minPositionals, maxPositionals);
        }
    }

    public string Name { get; }

    public ArgParser Parser { get; }

    public async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, ClientEnvironment environment, CancellationToken stop)
    {
        ParsedArgs parsed;
        Uri address;
        try
        {
            parsed = Parser.Parse(args);
            if (parsed.Help)
            {
                await output.WriteAsync(Parser.FormatUsage()).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            string? configured = parsed.Get("agent") ?? environment.GetVariable("RUMOR_AGENT");
            address = AgentClient.ParseAddress(string.IsNullOrWhiteSpace(configured) ? AgentClient.DefaultAddress : configured.Trim());
        }
        catch (UsageException e)
        {
            return await UsageErrorAsync(error, e).ConfigureAwait(false);
        }

        using AgentClient agent = new(address, environment.RequestTimeout);
        ClientContext context = new()
        {
            Command = Name,
            Args = parsed,
            Agent = agent,
            Json = parsed.Has("json"),
            Output = output,
            Error = error,
            Environment = environment,
            Stop = stop,
        };
        try
        {
            return await _run(context).ConfigureAwait(false);
        }
        catch (UsageException e)
        {
            return await UsageErrorAsync(error, e).ConfigureAwait(false);
        }
        catch (AgentUnreachableException e)
        {
            await error.WriteLineAsync($"rumor: no agent answered at {Display(address)} ({e.Message}). Start one with 'rumor agent' or pass --agent URL.").ConfigureAwait(false);
            return ExitCodes.NoAgent;
        }
        catch (AgentErrorException e)
        {
            await error.WriteLineAsync($"rumor {Name}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return ExitCodes.Interrupted;
        }
    }

    /// <summary>The address as typed by people: without the slash a base URL needs.</summary>
    internal static string Display(Uri address) => address.AbsoluteUri.TrimEnd('/');

    private async Task<int> UsageErrorAsync(TextWriter error, UsageException e)
    {
        await error.WriteLineAsync($"rumor {Name}: {e.Message}").ConfigureAwait(false);
        await error.WriteLineAsync($"Run 'rumor {Name} --help' for usage.").ConfigureAwait(false);
        return ExitCodes.Usage;
    }
}
