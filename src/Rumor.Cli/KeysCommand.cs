using System.CommandLine;
using System.Globalization;
using Rumor.Cli.Client;
using Rumor.Client;

namespace Rumor.Cli;

/// <summary>
/// <c>rumor keys list | install KEY | use KEY | remove KEY</c>: the gossip keyring of every member,
/// changed at run time as one cluster-wide operation (<c>/v1/keys</c>, as <c>serf keys</c>). Each
/// prints every refusal and names every member that did not answer, and fails (exit 1) unless all
/// answered and none refused. A rotation: install the new key, use it, remove the old one, checking
/// each report (docs/SECURITY.md).
/// </summary>
internal static class KeysCommand
{
    public static readonly ClientCommand List = new(
        "list",
        "Lists the gossip keys of every member: each key, how many members hold it and on how many it is primary.",
        () => [Timeout()],
        ListAsync);

    public static readonly ClientCommand Install = Change("install", "Installs KEY on every member: they decrypt with it from now on (the first step of a rotation).");

    public static readonly ClientCommand Use = Change("use", "Makes KEY (installed everywhere) the primary key of every member: they encrypt with it from now on.");

    public static readonly ClientCommand Remove = Change("remove", "Removes KEY from every member (the last step of a rotation). The primary key cannot be removed.");

    private static readonly ClientCommand[] Subcommands = [List, Install, Use, Remove];

    /// <summary><c>keys</c>: no action of its own; without a subcommand it prints its help and fails.</summary>
    public static Command Create(TextWriter output, TextWriter error, ClientEnvironment environment)
    {
        Command keys = new("keys", "Live gossip key rotation across the cluster: list, install, use, remove (each reports every member's answer).");
        foreach (ClientCommand command in Subcommands)
        {
            keys.Add(command.Create(output, error, environment));
        }

        return keys;
    }

    private static Option<TimeSpan?> Timeout() =>
        ClientCommand.Duration("--timeout", "How long to wait for the members' answers (default 5s).");

    private static ClientCommand Change(string operation, string summary) => new(
        operation,
        summary,
        () => [new Argument<string>("KEY") { Description = "The key, base64 of 16, 24 or 32 bytes (rumor keygen prints one)." }, Timeout()],
        context => ChangeAsync(context, operation));

    private static long? TimeoutMs(ClientContext context)
    {
        TimeSpan? timeout = context.Args.Get<TimeSpan?>("timeout");
        if (timeout is { } t && (t <= TimeSpan.Zero || t > TimeSpan.FromMinutes(1)))
        {
            throw new UsageException($"--timeout: {Format.Age(t)} is out of range; give 1ms to 1m.");
        }

        return timeout is { } value ? Math.Max(1, (long)value.TotalMilliseconds) : null;
    }

    private static async Task<int> ListAsync(ClientContext context)
    {
        KeysResponse answer = await context.Agent.ListKeysAsync(TimeoutMs(context), context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return answer.Succeeded ? ExitCodes.Ok : ExitCodes.Failure;
        }

        int answered = answer.Answers.Count(a => a.Ok);
        Table table = new("KEY", "MEMBERS", "PRIMARY ON");
        foreach (KeyHoldingDto key in answer.Keys)
        {
            table.Add(key.Key, string.Create(CultureInfo.InvariantCulture, $"{key.Members}/{answered}"), key.PrimaryOn.ToString(CultureInfo.InvariantCulture));
        }

        if (table.Count > 0)
        {
            await table.WriteAsync(context.Output).ConfigureAwait(false);
        }

        return await ReportAsync(context, answer, "listed their keys").ConfigureAwait(false);
    }

    private static async Task<int> ChangeAsync(ClientContext context, string operation)
    {
        string key = context.Args.Positionals[0];
        KeysResponse answer = await context.Agent.ChangeKeyAsync(operation, new KeyRequest(key, TimeoutMs(context)), context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return answer.Succeeded ? ExitCodes.Ok : ExitCodes.Failure;
        }

        string done = operation switch
        {
            "install" => "installed the key",
            "use" => "made the key primary",
            _ => "removed the key",
        };
        return await ReportAsync(context, answer, done).ConfigureAwait(false);
    }

    /// <summary>The summary line, each refusal, the members that did not answer; exit 1 unless all answered and none refused.</summary>
    private static async Task<int> ReportAsync(ClientContext context, KeysResponse answer, string done)
    {
        int ok = answer.Answers.Count(a => a.Ok);
        await context.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{ok} of {answer.Expected.Count} members {done}")).ConfigureAwait(false);
        foreach (KeyAnswerDto refused in answer.Answers.Where(a => !a.Ok))
        {
            await context.Output.WriteLineAsync($"refused by {Format.Cell(refused.Member)}: {refused.Error}").ConfigureAwait(false);
        }

        if (answer.Missing.Count > 0)
        {
            await context.Output.WriteLineAsync($"no answer from: {string.Join(", ", answer.Missing.Select(Format.Cell))}").ConfigureAwait(false);
        }

        return answer.Succeeded ? ExitCodes.Ok : ExitCodes.Failure;
    }
}
