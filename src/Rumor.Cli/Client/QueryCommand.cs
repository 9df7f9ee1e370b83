using System.CommandLine;
using Rumor.Client;

namespace Rumor.Cli.Client;

/// <summary>
/// <c>rumor query NAME [PAYLOAD] [--tag k=v]... [--timeout D] [--node NAME]... [--relay-factor N]</c>:
/// asks the members a question and collects their answers (<c>POST /v1/query</c>), then names who
/// did not answer in time. <c>--node</c> and <c>--relay-factor</c> are Serf's; an agent in Rumor
/// mode refuses them (400) rather than ignoring them.
/// </summary>
internal static class QueryCommand
{
    public static readonly ClientCommand Command = new(
        "query",
        "Sends a query to the members (all, or those whose tags match every --tag) and prints each answer, then who did not answer within the timeout.",
        () =>
        [
            new Argument<string>("NAME") { Description = "The query's name." },
            EventCommand.Payload(),
            CliOptions.Repeated("--tag", "KEY=VALUE", "Ask only members with this tag; repeat for several (all must match)."),
            ClientCommand.Duration("--timeout", "How long to wait for answers (default: the agent's)."),
            CliOptions.Text("--file", "PATH", "Read the payload from this file ('-' for standard input)."),
            CliOptions.Repeated("--node", "NAME", "Ask only this member; repeat for several (Serf's -node; agents running --protocol serf only)."),
            CliOptions.Count("--relay-factor", "N", "Each answer also comes back through N other members (Serf's -relay-factor, 0 to 5; agents running --protocol serf only).", 0, 5, "a relay factor"),
        ],
        RunAsync);

    private static async Task<int> RunAsync(ClientContext context)
    {
        string name = context.Args.Positionals[0];
        string? inline = context.Args.Positionals.Count > 1 ? context.Args.Positionals[1] : null;
        TimeSpan? timeout = context.Args.Get<TimeSpan?>("timeout");
        Dictionary<string, string> filter = new(StringComparer.Ordinal);
        foreach (string tag in context.Args.GetAll("tag"))
        {
            int equals = tag.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new UsageException($"--tag: '{tag}' is not KEY=VALUE.");
            }

            string key = tag[..equals];
            if (!filter.TryAdd(key, tag[(equals + 1)..]))
            {
                throw new UsageException($"--tag: '{key}' is given twice; a member has one value per tag.");
            }
        }

        byte[]? payload = await ValueInput.ReadAsync(context, inline, "payload", required: false).ConfigureAwait(false);
        (string? text, string? base64) = ValueInput.Split(payload ?? []);
        string[] nodes = [.. context.Args.GetAll("node")];
        if (nodes.Any(n => n.Length == 0))
        {
            throw new UsageException("--node: a member's name is empty.");
        }

        int? relayFactor = context.Args.Get<int?>("relay-factor");
        QueryPostRequest request = new(name, text, base64, filter.Count > 0 ? filter : null, timeout is { } t ? (long)t.TotalMilliseconds : null,
            relayFactor is > 0 ? relayFactor : null, nodes.Length > 0 ? nodes : null);
        QueryResultDto answer = await context.Agent.QueryAsync(request, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        IReadOnlyList<QueryAnswerDto> responses = answer.Responses ?? [];
        IReadOnlyList<string> missing = answer.Missing ?? [];
        int expected = answer.Expected?.Count ?? 0;
        if (responses.Count > 0)
        {
            Table table = new("FROM", "PAYLOAD");
            foreach (QueryAnswerDto response in responses)
            {
                table.Add(Format.Cell(response.From), Format.Payload(response.Payload, response.PayloadBase64));
            }

            await table.WriteAsync(context.Output, context.Columns).ConfigureAwait(false);
        }

        await context.Output.WriteLineAsync($"{responses.Count} of {expected} answered").ConfigureAwait(false);
        if (missing.Count > 0)
        {
            await context.Output.WriteLineAsync($"no answer from: {string.Join(", ", missing.Select(Format.Cell))}").ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }
}
