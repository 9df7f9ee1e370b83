using System.CommandLine;
using Rumor.Client;

namespace Rumor.Cli.Client;

/// <summary>
/// <c>rumor aggregate start|show|list|stop</c>: cluster-wide push-sum estimates of a numeric key
/// (<c>/v1/aggregates…</c>). An aggregate runs from its start until its lifetime ends or it is stopped.
/// </summary>
internal static class AggregateCommand
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public static readonly ClientCommand Start = new(
        "aggregate start",
        "Starts the cluster-wide sum, count, average, minimum and maximum of a numeric key (each member's own value of it), computed by gossip (push-sum), for --lifetime (default 10m, at most 1 day); it ends by itself on every member then. Prints the first estimate, or with --wait the converged one. Starting a running aggregate shows it.",
        () =>
        [
            Key(),
            CliOptions.Text("--function", "NAME", "The quantity asked for: average (default), sum, count, min or max; all are computed and shown."),
            ClientCommand.Duration("--lifetime", "End it on every member after this long (default 10m, at most 24h)."),
            Wait(),
        ],
        StartAsync);

    public static readonly ClientCommand Show = new(
        "aggregate show",
        "Shows the agent's estimate of a running aggregate with its error bound (exit 1 when none runs: start one with 'rumor aggregate start').",
        () => [Key(), Wait()],
        ShowAsync);

    public static readonly ClientCommand List = new(
        "aggregate list",
        "Lists the aggregates running at the agent: key, function, value, convergence and time left.",
        () => [],
        ListAsync);

    public static readonly ClientCommand Stop = new(
        "aggregate stop",
        "Stops an aggregate on every member (the end spreads by gossip).",
        () => [Key()],
        StopAsync);

    private static readonly ClientCommand[] Subcommands = [Start, Show, List, Stop];

    /// <summary><c>aggregate</c>: no action of its own; without a subcommand it prints its help and fails.</summary>
    public static Command Create(TextWriter output, TextWriter error, ClientEnvironment environment)
    {
        Command aggregate = new("aggregate", "Cluster-wide aggregates of a numeric key (sum, count, average, min, max) computed by gossip, each with a lifetime.");
        foreach (ClientCommand command in Subcommands)
        {
            aggregate.Add(command.Create(output, error, environment));
        }

        return aggregate;
    }

    private static Argument<string> Key() => new("KEY") { Description = "The numeric key to aggregate (each member's own value of it)." };

    private static Option<TimeSpan?> Wait() =>
        ClientCommand.Duration("--wait", "Ask again every 500 ms until the estimate has converged or DURATION passed (exit 1 if it did not converge).");

    private static async Task<int> StartAsync(ClientContext context)
    {
        string key = context.Args.Positionals[0];
        TimeSpan? lifetime = context.Args.Get<TimeSpan?>("lifetime");
        AggregateDto answer = await context.Agent.StartAggregateAsync(
            new AggregateStartRequest(key, context.Args.Get("function"), lifetime is { } l ? (long)Math.Ceiling(l.TotalMilliseconds) : null),
            context.Stop).ConfigureAwait(false);
        return await WaitAndPrintAsync(context, key, answer).ConfigureAwait(false);
    }

    private static async Task<int> ShowAsync(ClientContext context)
    {
        string key = context.Args.Positionals[0];
        AggregateDto answer = await context.Agent.GetAggregateAsync(key, context.Stop).ConfigureAwait(false);
        return await WaitAndPrintAsync(context, key, answer).ConfigureAwait(false);
    }

    private static async Task<int> WaitAndPrintAsync(ClientContext context, string key, AggregateDto answer)
    {
        TimeSpan? wait = context.Args.Get<TimeSpan?>("wait");
        DateTimeOffset giveUp = context.Environment.Time.GetUtcNow() + (wait ?? TimeSpan.Zero);
        while (wait is not null && !answer.Converged && context.Environment.Time.GetUtcNow() < giveUp)
        {
            await Task.Delay(PollInterval, context.Stop).ConfigureAwait(false);
            answer = await context.Agent.GetAggregateAsync(key, context.Stop).ConfigureAwait(false);
        }

        int exit = wait is not null && !answer.Converged ? ExitCodes.Failure : ExitCodes.Ok;
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return exit;
        }

        Fields fields = new();
        fields.Add("key", Format.Cell(answer.Key));
        if (answer.Function is { } function)
        {
            fields.Add("function", function);
            fields.Add("value", Format.Cell(answer.Value));
        }

        fields.Add("sum", Format.Cell(answer.Sum));
        fields.Add("count", Format.Cell(answer.Count));
        fields.Add("average", Format.Cell(answer.Average));
        fields.Add("min", Format.Cell(answer.Min));
        fields.Add("max", Format.Cell(answer.Max));
        fields.Add("error bound", Format.Cell(answer.ErrorBound));
        fields.Add("converged", answer.Converged ? "yes" : "no");
        fields.Add("epoch", Format.Cell(answer.Epoch));
        fields.Add("rounds", Format.Cell(answer.Rounds));
        fields.Add("ends in", answer.RemainingMs is null ? "never (until stopped)" : Format.AgeOfMilliseconds(answer.RemainingMs));
        if (answer.Note is { } note)
        {
            fields.Add("note", note);
        }

        await fields.WriteAsync(context.Output).ConfigureAwait(false);
        if (exit != ExitCodes.Ok)
        {
            await context.Error.WriteLineAsync($"rumor {context.Command}: the estimate of '{key}' did not converge within {wait}.").ConfigureAwait(false);
        }

        return exit;
    }

    private static async Task<int> ListAsync(ClientContext context)
    {
        IReadOnlyList<AggregateDto> answer = await context.Agent.ListAggregatesAsync(context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        if (answer.Count == 0)
        {
            await context.Output.WriteLineAsync("no aggregates run at this agent (start one with 'rumor aggregate start KEY')").ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        Table table = new("KEY", "FUNCTION", "VALUE", "CONVERGED", "ENDS IN");
        foreach (AggregateDto aggregate in answer)
        {
            table.Add(Format.Cell(aggregate.Key), aggregate.Function ?? "average", Format.Cell(aggregate.Value), aggregate.Converged ? "yes" : "no",
                aggregate.RemainingMs is null ? "never" : Format.AgeOfMilliseconds(aggregate.RemainingMs));
        }

        await table.WriteAsync(context.Output, context.Columns).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static async Task<int> StopAsync(ClientContext context)
    {
        string key = context.Args.Positionals[0];
        AggregateStoppedDto answer = await context.Agent.StopAggregateAsync(key, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        await context.Output.WriteLineAsync($"stopped aggregate {answer.Key} (the end spreads to every member)").ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
