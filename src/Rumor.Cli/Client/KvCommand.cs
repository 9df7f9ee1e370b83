using System.CommandLine;
using Rumor.Client;
using Rumor.Core.AntiEntropy;

namespace Rumor.Cli.Client;

/// <summary>
/// <c>rumor kv get|set|delete|list|watch</c>: the replicated key-value state through the agent
/// (<c>/v1/kv…</c>). Every node owns its own map; reads see every owner's keys.
/// </summary>
internal static class KvCommand
{
    public static readonly ClientCommand Get = new(
        "kv get",
        "Shows a key's value at every owner that has it (or at one owner with --owner). Binary values show as base64:…; with --json, text is in 'value' and binary in 'valueBase64'.",
        () => [Key(), CliOptions.Text("--owner", "NAME", "Only this owner's value.")],
        GetAsync);

    public static readonly ClientCommand Set = new(
        "kv set",
        "Sets a key in the agent's own map; it spreads to every member. The value is the argument, '-' for standard input, or --file PATH; bytes that are not UTF-8 text go as base64.",
        () =>
        [
            Key(),
            new Argument<string>("VALUE|-") { Description = "The value, or '-' to read it from standard input.", Arity = ArgumentArity.ZeroOrOne },
            CliOptions.Text("--file", "PATH", "Read the value from this file ('-' for standard input)."),
            CliOptions.Duration("--ttl", $"Expire the key after this long (500ms, 30s, 10m, 1h; at most {StateLimits.TimeToLiveMaxText}, what the wire holds).", TimeSpan.FromMilliseconds(1), StateLimits.TimeToLiveMax),
        ],
        SetAsync);

    public static readonly ClientCommand Delete = new(
        "kv delete",
        "Deletes a key from the agent's own map: a tombstone spreads so every member forgets it.",
        () => [Key()],
        DeleteAsync);

    public static readonly ClientCommand List = new(
        "kv list",
        "Lists keys with their owner, version, time to live and value, sorted by owner and key.",
        () =>
        [
            CliOptions.Text("--prefix", "PREFIX", "Only keys starting with this."),
            CliOptions.Text("--owner", "NAME", "Only this owner's keys."),
        ],
        ListAsync);

    public static readonly ClientCommand Watch = new(
        "kv watch",
        "Prints every key change the agent sees, one line each, until Ctrl+C (exit 0); a line says how many were dropped when this reader fell behind. With --json, one JSON object per line.",
        () => [CliOptions.Text("--prefix", "PREFIX", "Only keys starting with this.")],
        WatchAsync);

    private static readonly ClientCommand[] Subcommands = [Get, Set, Delete, List, Watch];

    /// <summary><c>kv</c>: no action of its own; without a subcommand it prints its help and fails.</summary>
    public static Command Create(TextWriter output, TextWriter error, ClientEnvironment environment)
    {
        Command kv = new("kv", "The replicated key-value state: every member owns its own keys; every member sees every owner's keys.");
        foreach (ClientCommand command in Subcommands)
        {
            kv.Add(command.Create(output, error, environment));
        }

        return kv;
    }

    private static Argument<string> Key() => new("KEY") { Description = "The key." };

    private static async Task<int> GetAsync(ClientContext context)
    {
        string key = context.Args.Positionals[0];
        IReadOnlyList<KvEntryDto> answer = await context.Agent.GetKeyAsync(key, context.Args.Get("owner"), context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        Table table = new("OWNER", "VERSION", "TTL", "VALUE");
        foreach (KvEntryDto entry in answer)
        {
            table.Add(Format.Cell(entry.Owner), Format.Cell(entry.Version), Format.AgeOfMilliseconds(entry.TtlMs), Format.Payload(entry.Value, entry.ValueBase64));
        }

        await table.WriteAsync(context.Output, context.Columns).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static async Task<int> SetAsync(ClientContext context)
    {
        string key = context.Args.Positionals[0];
        string? inline = context.Args.Positionals.Count > 1 ? context.Args.Positionals[1] : null;
        TimeSpan? ttl = context.Args.Get<TimeSpan?>("ttl");
        byte[] value = (await ValueInput.ReadAsync(context, inline, "value", required: true).ConfigureAwait(false))!;
        (string? text, string? base64) = ValueInput.Split(value);
        KvWriteResponse answer = await context.Agent.SetKeyAsync(key, new KvPutRequest(text, base64, ttl is { } t ? (long)t.TotalMilliseconds : null), context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        string expiry = ttl is { } span ? $", expires in {Format.Age(span)}" : string.Empty;
        await context.Output.WriteLineAsync($"set {Format.Cell(answer.Key)} ({value.Length} {(value.Length == 1 ? "byte" : "bytes")}, owner {Format.Cell(answer.Owner)}, version {answer.Version}{expiry})").ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static async Task<int> DeleteAsync(ClientContext context)
    {
        string key = context.Args.Positionals[0];
        KvWriteResponse answer = await context.Agent.DeleteKeyAsync(key, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        await context.Output.WriteLineAsync($"deleted {Format.Cell(answer.Key)} (owner {Format.Cell(answer.Owner)}, tombstone version {answer.Version})").ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static async Task<int> ListAsync(ClientContext context)
    {
        IReadOnlyList<KvEntryDto> answer = await context.Agent.ListKeysAsync(context.Args.Get("prefix"), context.Args.Get("owner"), context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        Table table = new("OWNER", "KEY", "VERSION", "TTL", "VALUE");
        foreach (KvEntryDto entry in answer)
        {
            table.Add(Format.Cell(entry.Owner), Format.Cell(entry.Key), Format.Cell(entry.Version), Format.AgeOfMilliseconds(entry.TtlMs), Format.Payload(entry.Value, entry.ValueBase64));
        }

        if (table.Count == 0)
        {
            await context.Output.WriteLineAsync("no keys").ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        await table.WriteAsync(context.Output, context.Columns).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static Task<int> WatchAsync(ClientContext context) =>
        StreamPrinter.RunAsync(
            context,
            stop => context.Agent.WatchKeyEventsAsync(context.Args.Get("prefix"), stop),
            item => item);
}
