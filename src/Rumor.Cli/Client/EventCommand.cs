using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rumor.Cli.Client;

/// <summary>
/// <c>rumor event NAME [PAYLOAD]</c>: sends a user event to the whole cluster (<c>POST /v1/events</c>);
/// <c>rumor events</c>: the recent events this agent delivered (<c>GET /v1/events</c>).
/// </summary>
internal static class EventCommand
{
    public static readonly ClientCommand Send = new(
        "event",
        "Sends a user event to every member. The payload is the argument, '-' for standard input, or --file PATH (bytes that are not UTF-8 text go as base64). --coalesce lets members keep only the newest event of this name.",
        () =>
        [
            new Argument<string>("NAME") { Description = "The event's name." },
            Payload(),
            CliOptions.Flag("--coalesce", "Members may drop older undelivered events of the same name."),
            CliOptions.Text("--file", "PATH", "Read the payload from this file ('-' for standard input)."),
        ],
        SendAsync);

    public static readonly ClientCommand Recent = new(
        "events",
        "Lists the most recent user events this agent delivered, newest last.",
        () => [CliOptions.Text("--limit", "N", "At most this many (default: the agent's, 100).")],
        RecentAsync);

    /// <summary>The optional payload of an event or a query: inline, or '-' for standard input.</summary>
    internal static Argument<string> Payload() =>
        new("PAYLOAD|-") { Description = "The payload, or '-' to read it from standard input.", Arity = ArgumentArity.ZeroOrOne };

    private static async Task<int> SendAsync(ClientContext context)
    {
        string name = context.Args.Positionals[0];
        string? inline = context.Args.Positionals.Count > 1 ? context.Args.Positionals[1] : null;
        byte[]? payload = await ValueInput.ReadAsync(context, inline, "payload", required: false).ConfigureAwait(false);
        JsonObject body = new() { ["name"] = name };
        ValueInput.AddTo(body, "payload", payload ?? []);
        body["coalesce"] = context.Args.Has("coalesce");
        JsonElement answer = await context.Agent.SendAsync(HttpMethod.Post, "v1/events", body, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        await context.Output.WriteLineAsync($"sent event {Json.Cell(answer, "name")} (id {Json.Cell(answer, "id")}, lamport time {Json.Cell(answer, "lamportTime")})").ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static async Task<int> RecentAsync(ClientContext context)
    {
        string? limit = context.Args.Get("limit");
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count < 1))
        {
            throw new UsageException($"--limit: '{limit}' is not a positive whole number.");
        }

        JsonElement answer = await context.Agent.SendAsync(HttpMethod.Get, ApiPath.With("v1/events", ("limit", limit)), null, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        DateTimeOffset now = context.Environment.Time.GetUtcNow();
        Table table = new("AGE", "NAME", "ORIGIN", "LAMPORT", "ID", "PAYLOAD");
        foreach (JsonElement e in Json.Items(answer))
        {
            string age = Json.Time(e, "receivedAt") is { } at ? Format.Age(now - at) : "-";
            table.Add(age, Json.Cell(e, "name"), Json.Cell(e, "origin"), Json.Cell(e, "lamportTime"), Json.Cell(e, "id"), Format.Payload(e, "payload"));
        }

        if (table.Count == 0)
        {
            await context.Output.WriteLineAsync("no events").ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        await table.WriteAsync(context.Output).ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
