using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rumor.Cli.Client;

/// <summary>
/// Prints a server-sent event stream of the agent (<c>rumor kv watch</c>, <c>rumor monitor</c>) as it
/// arrives: one line per event for people, or one compact JSON object per line with <c>--json</c>
/// (<c>{"event":"member","data":{…}}</c>, ready for <c>jq</c>). Ctrl+C is the normal end (exit 0);
/// the agent closing the stream is a failure (exit 1), since the watcher asked for more.
/// </summary>
internal static class StreamPrinter
{
    public static async Task<int> RunAsync(ClientContext context, string path)
    {
        try
        {
            await context.Agent.StreamAsync(path, e => PrintAsync(context, e), context.Stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.Stop.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }

        if (context.Stop.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }

        await context.Error.WriteLineAsync($"rumor {context.Command}: the agent at {ClientCommand.Display(context.Agent.BaseAddress)} closed the stream.").ConfigureAwait(false);
        return ExitCodes.Failure;
    }

    private static async Task PrintAsync(ClientContext context, ServerSentEvent serverEvent)
    {
        JsonElement? data = Parse(serverEvent.Data);
        if (context.Json)
        {
            JsonObject line = new()
            {
                ["event"] = serverEvent.Type,
                ["data"] = data is { } d ? JsonNode.Parse(d.GetRawText()) : JsonValue.Create(serverEvent.Data),
            };
            await context.Output.WriteLineAsync(line.ToJsonString()).ConfigureAwait(false);
            await context.Output.FlushAsync(context.Stop).ConfigureAwait(false);
            return;
        }

        await context.Output.WriteLineAsync(Describe(serverEvent, data, context.Environment.Time)).ConfigureAwait(false);
        await context.Output.FlushAsync(context.Stop).ConfigureAwait(false);
    }

    /// <summary>One event as one line: the time it happened (or arrived), its kind, what changed.</summary>
    internal static string Describe(ServerSentEvent serverEvent, JsonElement? data, TimeProvider clock)
    {
        if (data is not { ValueKind: JsonValueKind.Object } e)
        {
            return $"{Format.TimeOfDay(clock.GetUtcNow(), clock)}  {serverEvent.Type} {Format.Cell(serverEvent.Data)}";
        }

        DateTimeOffset at = Json.Time(e, "at") ?? Json.Time(e, "receivedAt") ?? clock.GetUtcNow();
        string when = Format.TimeOfDay(at, clock);
        switch (serverEvent.Type)
        {
            case "member":
                string previous = Json.Text(e, "previous") is { } p ? p + " -> " : string.Empty;
                return $"{when}  member {Json.Cell(e, "name")} {previous}{Json.Cell(e, "state")}";
            case "user":
                string payload = Format.Payload(e, "payload");
                return $"{when}  event {Json.Cell(e, "name")} from {Json.Cell(e, "origin")}: {(payload == "-" ? "(no payload)" : payload)} (lamport time {Json.Cell(e, "lamportTime")})";
            case "kv" or "change":
                string key = $"{Json.Cell(e, "owner")}/{Json.Cell(e, "key")}";
                string newValue = Format.Payload(e, "newValue");
                string oldValue = Format.Payload(e, "oldValue");
                string change = newValue == "-"
                    ? "deleted"
                    : oldValue == "-" ? $"= {newValue} (new)" : $"{oldValue} -> {newValue}";
                return $"{when}  kv {key} {change} (version {Json.Cell(e, "version")})";
            default:
                return $"{when}  {serverEvent.Type} {e.GetRawText()}";
        }
    }

    private static JsonElement? Parse(string data)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(data);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
