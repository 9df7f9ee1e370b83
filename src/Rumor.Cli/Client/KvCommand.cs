using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rumor.Cli.Client;

/// <summary>
/// <c>rumor kv get|set|delete|list|watch</c>: the replicated key-value state through the agent
/// (<c>/v1/kv…</c>). Every node owns its own map; reads see every owner's keys.
/// </summary>
internal static class KvCommand
{
    public const string Usage = """
        Usage: rumor kv <get|set|delete|list|watch> [options]

        The replicated key-value state: every member owns its own keys; every member sees every owner's keys.

        Subcommands:
          get KEY [--owner O]                     Show the key's value at every owner (or one owner).
          set KEY VALUE|- [--file PATH] [--ttl D]  Set a key of this agent ('-' or --file reads the value; binary goes as base64).
          delete KEY                              Delete a key of this agent (a tombstone spreads).
          list [--prefix P] [--owner O]           List keys, sorted by owner and key.
          watch [--prefix P]                      Print every change as it happens, until Ctrl+C.

        Run 'rumor kv <subcommand> --help' for its options.

        """;

    public static readonly ClientCommand Get = new(
        "kv get",
        "Shows a key's value at every owner that has it (or at one owner with --owner). Binary values show as base64:…; with --json, text is in 'value' and binary in 'valueBase64'.",
        "KEY",
        1,
        1,
        [new OptionSpec("owner", "NAME", "Only this owner's value.")],
        GetAsync);

    public static readonly ClientCommand Set = new(
        "kv set",
        "Sets a key in the agent's own map; it spreads to every member. The value is the argument, '-' for standard input, or --file PATH; bytes that are not UTF-8 text go as base64.",
        "KEY [VALUE|-]",
        1,
        2,
        [
            new OptionSpec("file", "PATH", "Read the value from this file ('-' for standard input)."),
            new OptionSpec("ttl", "DURATION", "Expire the key after this long (500ms, 30s, 10m, 1h)."),
        ],
        SetAsync);

    public static readonly ClientCommand Delete = new(
        "kv delete",
        "Deletes a key from the agent's own map: a tombstone spreads so every member forgets it.",
        "KEY",
        1,
        1,
        [],
        DeleteAsync);

    public static readonly ClientCommand List = new(
        "kv list",
        "Lists keys with their owner, version, time to live and value, sorted by owner and key.",
        null,
        0,
        0,
        [
            new OptionSpec("prefix", "PREFIX", "Only keys starting with this."),
            new OptionSpec("owner", "NAME", "Only this owner's keys."),
        ],
        ListAsync);

    public static readonly ClientCommand Watch = new(
        "kv watch",
        "Prints every key change the agent sees, one line each, until Ctrl+C (exit 0). With --json, one JSON object per line.",
        null,
        0,
        0,
        [new OptionSpec("prefix", "PREFIX", "Only keys starting with this.")],
        WatchAsync);

    private static readonly ClientCommand[] Subcommands = [Get, Set, Delete, List, Watch];

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, ClientEnvironment environment, CancellationToken stop)
    {
        if (args.Count == 0)
        {
            await error.WriteAsync(Usage).ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        if (args[0] is "-h" or "--help" or "help")
        {
            await output.WriteAsync(Usage).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        ClientCommand? command = Array.Find(Subcommands, c => c.Name == "kv " + args[0]);
        if (command is null)
        {
            await error.WriteLineAsync($"rumor kv: unknown subcommand '{args[0]}': expected get, set, delete, list or watch.").ConfigureAwait(false);
            await error.WriteLineAsync("Run 'rumor kv --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        return await command.RunAsync([.. args.Skip(1)], output, error, environment, stop).ConfigureAwait(false);
    }

    private static async Task<int> GetAsync(ClientContext context)
    {
        string key = context.Args.Positionals[0];
        JsonElement answer = await context.Agent.SendAsync(HttpMethod.Get, ApiPath.With("v1/kv/" + ApiPath.Key(key), ("owner", context.Args.Get("owner"))), null, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        Table table = new("OWNER", "VERSION", "TTL", "VALUE");
        foreach (JsonElement entry in Json.Items(answer))
        {
            table.Add(Json.Cell(entry, "owner"), Json.Cell(entry, "version"), Format.AgeOfMilliseconds(entry, "ttlMs"), Format.Payload(entry, "value"));
        }

        await table.WriteAsync(context.Output).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static async Task<int> SetAsync(ClientContext context)
    {
        string key = context.Args.Positionals[0];
        string? inline = context.Args.Positionals.Count > 1 ? context.Args.Positionals[1] : null;
        TimeSpan? ttl = context.Args.Get("ttl") is { } text ? Format.ParseDuration("ttl", text) : null;
        byte[] value = (await ValueInput.ReadAsync(context, inline, "value", required: true).ConfigureAwait(false))!;
        JsonObject body = [];
        ValueInput.AddTo(body, "value", value);
        if (ttl is { } t)
        {
            body["ttlMs"] = (long)t.TotalMilliseconds;
        }

        JsonElement answer = await context.Agent.SendAsync(HttpMethod.Put, "v1/kv/" + ApiPath.Key(key), body, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        string expiry = ttl is { } span ? $", expires in {Format.Age(span)}" : string.Empty;
        await context.Output.WriteLineAsync($"set {Json.Cell(answer, "key")} ({value.Length} bytes, owner {Json.Cell(answer, "owner")}, version {Json.Cell(answer, "version")}{expiry})").ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static async Task<int> DeleteAsync(ClientContext context)
    {
        string key = context.Args.Positionals[0];
        JsonElement answer = await context.Agent.SendAsync(HttpMethod.Delete, "v1/kv/" + ApiPath.Key(key), null, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        await context.Output.WriteLineAsync($"deleted {Json.Cell(answer, "key")} (owner {Json.Cell(answer, "owner")}, tombstone version {Json.Cell(answer, "version")})").ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static async Task<int> ListAsync(ClientContext context)
    {
        string path = ApiPath.With("v1/kv", ("prefix", context.Args.Get("prefix")), ("owner", context.Args.Get("owner")));
        JsonElement answer = await context.Agent.SendAsync(HttpMethod.Get, path, null, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        Table table = new("OWNER", "KEY", "VERSION", "TTL", "VALUE");
        foreach (JsonElement entry in Json.Items(answer))
        {
            table.Add(Json.Cell(entry, "owner"), Json.Cell(entry, "key"), Json.Cell(entry, "version"), Format.AgeOfMilliseconds(entry, "ttlMs"), Format.Payload(entry, "value"));
        }

        if (table.Count == 0)
        {
            await context.Output.WriteLineAsync("no keys").ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        await table.WriteAsync(context.Output).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static Task<int> WatchAsync(ClientContext context) =>
        StreamPrinter.RunAsync(context, ApiPath.With("v1/kv/watch", ("prefix", context.Args.Get("prefix"))));
}
