using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rumor.Cli.Client;

/// <summary>
/// <c>rumor query NAME [PAYLOAD] [--tag k=v]... [--timeout D]</c>: asks the members a question and
/// collects their answers (<c>POST /v1/query</c>), then names who did not answer in time.
/// </summary>
internal static class QueryCommand
{
    /// <summary>What the agent waits when not told (the contract's example value); also what the CLI adds to its request budget then.</summary>
    private static readonly TimeSpan AgentDefaultWait = TimeSpan.FromSeconds(2);

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
        ],
        RunAsync);

    private static async Task<int> RunAsync(ClientContext context)
    {
        string name = context.Args.Positionals[0];
        string? inline = context.Args.Positionals.Count > 1 ? context.Args.Positionals[1] : null;
        TimeSpan? timeout = context.Args.Get<TimeSpan?>("timeout");
        JsonObject filter = [];
        foreach (string tag in context.Args.GetAll("tag"))
        {
            int equals = tag.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new UsageException($"--tag: '{tag}' is not KEY=VALUE.");
            }

            string key = tag[..equals];
            if (filter.ContainsKey(key))
            {
                throw new UsageException($"--tag: '{key}' is given twice; a member has one value per tag.");
            }

            filter[key] = tag[(equals + 1)..];
        }

        byte[]? payload = await ValueInput.ReadAsync(context, inline, "payload", required: false).ConfigureAwait(false);
        JsonObject body = new() { ["name"] = name };
        ValueInput.AddTo(body, "payload", payload ?? []);
        if (filter.Count > 0)
        {
            body["filter"] = filter;
        }

        if (timeout is { } t)
        {
            body["timeoutMs"] = (long)t.TotalMilliseconds;
        }

        JsonElement answer = await context.Agent.SendAsync(HttpMethod.Post, "v1/query", body, context.Stop, timeout ?? AgentDefaultWait).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        List<JsonElement> responses = [.. Json.Items(answer, "responses")];
        List<string> missing = [.. Json.Items(answer, "missing").Select(m => Json.Scalar(m))];
        int expected = Json.Items(answer, "expected").Count();
        if (responses.Count > 0)
        {
            Table table = new("FROM", "PAYLOAD");
            foreach (JsonElement response in responses)
            {
                table.Add(Json.Cell(response, "from"), Format.Payload(response, "payload"));
            }

            await table.WriteAsync(context.Output).ConfigureAwait(false);
        }

        await context.Output.WriteLineAsync($"{responses.Count} of {expected} answered").ConfigureAwait(false);
        if (missing.Count > 0)
        {
            await context.Output.WriteLineAsync($"no answer from: {string.Join(", ", missing)}").ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }
}
