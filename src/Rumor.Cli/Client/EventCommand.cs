using System.CommandLine;
using System.Globalization;
using Rumor.Client;

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
        (string? text, string? base64) = ValueInput.Split(payload ?? []);
        EventSentDto answer = await context.Agent.SendEventAsync(new EventSendRequest(name, text, base64, context.Args.Has("coalesce")), context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        await context.Output.WriteLineAsync($"sent event {Format.Cell(answer.Name)} (id {Format.Cell(answer.Id)}, lamport time {answer.LamportTime})").ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static async Task<int> RecentAsync(ClientContext context)
    {
        string? limit = context.Args.Get("limit");
        int count = 0;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1))
        {
            throw new UsageException($"--limit: '{limit}' is not a positive whole number.");
        }

        IReadOnlyList<EventDto> answer = await context.Agent.GetEventsAsync(limit is null ? null : count, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        DateTimeOffset now = context.Environment.Time.GetUtcNow();
        Table table = new("AGE", "NAME", "ORIGIN", "LAMPORT", "ID", "PAYLOAD");
        foreach (EventDto e in answer)
        {
            string age = e.ReceivedAt != default ? Format.Age(now - e.ReceivedAt) : "-";
            table.Add(age, Format.Cell(e.Name), Format.Cell(e.Origin), Format.Cell(e.LamportTime), Format.Cell(e.Id), Format.Payload(e.Payload, e.PayloadBase64));
        }

        if (table.Count == 0)
        {
            await context.Output.WriteLineAsync("no events").ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        await table.WriteAsync(context.Output, context.Columns).ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
