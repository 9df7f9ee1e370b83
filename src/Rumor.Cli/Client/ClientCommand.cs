using System.CommandLine;
using System.CommandLine.Parsing;
using Rumor.Client;

namespace Rumor.Cli.Client;

/// <summary>Everything one client command needs while it runs: its arguments, the agent, where to write, and how to stop.</summary>
internal sealed class ClientContext
{
    public required string Command { get; init; }

    public required CommandArgs Args { get; init; }

    /// <summary>The typed client of the agent's API: the only way the commands talk to the agent.</summary>
    public required RumorClient Agent { get; init; }

    /// <summary>True with <c>--json</c>: print the API's JSON instead of tables.</summary>
    public required bool Json { get; init; }

    public required TextWriter Output { get; init; }

    public required TextWriter Error { get; init; }

    public required ClientEnvironment Environment { get; init; }

    public required CancellationToken Stop { get; init; }

    /// <summary>The columns tables are fitted to (<see cref="ClientEnvironment.Columns"/>).</summary>
    public int Columns => Environment.Columns;

    /// <summary>Prints an answer as JSON (with <c>--json</c>): the model through the shared JSON metadata, indented, one document.</summary>
    public Task WriteJsonAsync<T>(T answer) => Output.WriteLineAsync(Format.PrettyJson(answer));
}

/// <summary>
/// One command that talks to a running agent: its name (<c>kv set</c>), its arguments and options,
/// and what it does. <see cref="Create"/> adds what every such command shares: <c>--agent</c>,
/// <c>--token</c> and <c>--json</c> (and <c>--help</c>, from the root); the run adds the exit codes: 2 for a usage
/// mistake (before any request), <see cref="ExitCodes.NoAgent"/> when nothing answers or what
/// answers is not the agent's API, <see cref="ExitCodes.NotFound"/> when the agent says the member,
/// key or aggregate named does not exist, 1 with the problem's detail when the agent refuses
/// (a 401 says where the token came from), 130 when interrupted.
/// </summary>
internal sealed class ClientCommand
{
    private readonly string _summary;
    private readonly Func<Symbol[]> _symbols;
    private readonly Func<ClientContext, Task<int>> _run;

    /// <param name="name">The words after <c>rumor</c>: <c>kv set</c>.</param>
    /// <param name="summary">The description its help shows.</param>
    /// <param name="symbols">Makes its own arguments and options (fresh for each command tree).</param>
    /// <param name="run">What it does once the command line is valid.</param>
    public ClientCommand(string name, string summary, Func<Symbol[]> symbols, Func<ClientContext, Task<int>> run)
    {
        Name = name;
        _summary = summary;
        _symbols = symbols;
        _run = run;
    }

    public string Name { get; }

    /// <summary>
    /// A duration option of a client command: from 1ms up to what the API's integer milliseconds
    /// hold (about 24 days), far past any sensible wait or time to live.
    /// </summary>
    public static Option<TimeSpan?> Duration(string name, string description) =>
        CliOptions.Duration(name, description, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(int.MaxValue));

    /// <summary>The command for the parser, running in <paramref name="environment"/> and writing to the writers given.</summary>
    public Command Create(TextWriter output, TextWriter error, ClientEnvironment environment)
    {
        Command command = new(Name.Split(' ')[^1], _summary);
        foreach (Symbol symbol in _symbols())
        {
            if (symbol is Argument argument)
            {
                command.Add(argument);
            }
            else
            {
                command.Add((Option)symbol);
            }
        }

        command.Add(CliOptions.Text("--agent", "URL", $"The agent to talk to (default {RumorClient.DefaultAddress}, or $RUMOR_AGENT)."));
        command.Add(CliOptions.Text("--token", "TOKEN", "The agent's management token, sent as 'Authorization: Bearer' (default $RUMOR_TOKEN; none on a loopback agent without one)."));
        command.Add(CliOptions.Flag("--json", "Print the API's JSON instead of a table."));
        command.SetAction((parsed, stop) => RunAsync(parsed, output, error, environment, stop));
        return command;
    }

    private async Task<int> RunAsync(ParseResult parsed, TextWriter output, TextWriter error, ClientEnvironment environment, CancellationToken stop)
    {
        Uri address;
        try
        {
            string? configured = parsed.GetValue<string>("--agent") ?? environment.GetVariable("RUMOR_AGENT");
            address = ParseAddress(string.IsNullOrWhiteSpace(configured) ? RumorClient.DefaultAddress : configured.Trim());
        }
        catch (UsageException e)
        {
            return await UsageErrorAsync(error, e).ConfigureAwait(false);
        }

        string? token = parsed.GetValue<string>("--token") ?? environment.GetVariable("RUMOR_TOKEN");
        token = string.IsNullOrWhiteSpace(token) ? null : token.Trim();
        using RumorClient agent = new(address, environment.RequestTimeout) { Token = token };
        ClientContext context = new()
        {
            Command = Name,
            Args = new CommandArgs(parsed),
            Agent = agent,
            Json = parsed.GetValue<bool>("--json"),
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
        catch (RumorUnreachableException e)
        {
            await error.WriteLineAsync($"rumor: no agent answered at {Display(address)} ({e.Message}). Start one with 'rumor agent' or pass --agent URL.").ConfigureAwait(false);
            return ExitCodes.NoAgent;
        }
        catch (RumorApiException e) when (e.NotAnAgent)
        {
            // The client's own guess ("is something other than a rumor agent listening at …?") is what this line says.
            string what = e.Message.Split(": is something other than a rumor agent", 2)[0].TrimEnd('.');
            await error.WriteLineAsync($"rumor: no rumor agent API at {Display(address)}: {what}. Check --agent (or RUMOR_AGENT): the agent's HTTP address, e.g. {RumorClient.DefaultAddress}.").ConfigureAwait(false);
            return ExitCodes.NoAgent;
        }
        catch (RumorApiException e) when (e.NotFound)
        {
            await error.WriteLineAsync($"rumor {Name}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.NotFound;
        }
        catch (RumorApiException e) when (e.Status == 401)
        {
            // Blame the token, and say where the one sent came from.
            string source = token is null ? "no token was sent: pass --token TOKEN or set RUMOR_TOKEN"
                : parsed.GetValue<string>("--token") is not null ? "the token came from --token"
                : "the token came from $RUMOR_TOKEN";
            await error.WriteLineAsync($"rumor {Name}: {e.Message} ({source}).").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (RumorApiException e)
        {
            await error.WriteLineAsync($"rumor {Name}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return ExitCodes.Interrupted;
        }
    }

    /// <summary>
    /// Parses what <c>--agent</c> or <c>RUMOR_AGENT</c> gave: an http(s) URL, or a bare
    /// <c>host:port</c> taken as http (<see cref="RumorClient.TryParseAddress"/>). Throws
    /// <see cref="UsageException"/> for anything else.
    /// </summary>
    internal static Uri ParseAddress(string text) =>
        RumorClient.TryParseAddress(text, out Uri address)
            ? address
            : throw new UsageException($"--agent: '{text}' is not an agent address: expected a URL like {RumorClient.DefaultAddress}.");

    /// <summary>The address as typed by people: without the slash a base URL needs.</summary>
    internal static string Display(Uri address) => address.AbsoluteUri.TrimEnd('/');

    private Task<int> UsageErrorAsync(TextWriter error, UsageException e) => UsageErrors.ReportAsync(error, "rumor " + Name, [e.Message]);
}

/// <summary>
/// A client command's parsed arguments by name (<c>Get("owner")</c> reads <c>--owner</c>), the
/// positional arguments in order; the values are already checked and typed by the parser.
/// </summary>
internal sealed class CommandArgs(ParseResult parsed)
{
    /// <summary>The positional arguments, in order.</summary>
    public IReadOnlyList<string> Positionals { get; } =
        [.. parsed.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens).Select(t => t.Value)];

    /// <summary>True when the option was given.</summary>
    public bool Has(string name) => parsed.GetResult("--" + name) is OptionResult { Implicit: false };

    /// <summary>The text value of <c>--name</c>, or null when absent.</summary>
    public string? Get(string name) => parsed.GetValue<string>("--" + name);

    /// <summary>The typed value of <c>--name</c> (a duration, a count), or its default when absent.</summary>
    public T? Get<T>(string name) => parsed.GetValue<T>("--" + name);

    /// <summary>Every value of a repeatable option, in order.</summary>
    public IReadOnlyList<string> GetAll(string name) => parsed.GetValue<string[]>("--" + name) ?? [];
}
