using System.CommandLine;
using Rumor.Client;

namespace Rumor.Cli.Client;

/// <summary><c>rumor aggregate KEY</c>: the cluster-wide push-sum estimate of a numeric key (<c>GET /v1/aggregates/{key}</c>).</summary>
internal static class AggregateCommand
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public static readonly ClientCommand Command = new(
        "aggregate",
        "Shows the cluster-wide sum, count, average, minimum and maximum of a numeric key, computed by gossip (push-sum), with its error bound. The first call starts the aggregate; ask again to watch it converge, or pass --wait.",
        () =>
        [
            new Argument<string>("KEY") { Description = "The numeric key to aggregate." },
            ClientCommand.Duration("--wait", "Ask again every 500 ms until the estimate has converged or DURATION passed (exit 1 if it did not converge)."),
        ],
        RunAsync);

    private static async Task<int> RunAsync(ClientContext context)
    {
        string key = context.Args.Positionals[0];
        TimeSpan? wait = context.Args.Get<TimeSpan?>("wait");
        DateTimeOffset giveUp = context.Environment.Time.GetUtcNow() + (wait ?? TimeSpan.Zero);
        AggregateDto answer = await context.Agent.GetAggregateAsync(key, context.Stop).ConfigureAwait(false);
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
        fields.Add("sum", Format.Cell(answer.Sum));
        fields.Add("count", Format.Cell(answer.Count));
        fields.Add("average", Format.Cell(answer.Average));
        fields.Add("min", Format.Cell(answer.Min));
        fields.Add("max", Format.Cell(answer.Max));
        fields.Add("error bound", Format.Cell(answer.ErrorBound));
        fields.Add("converged", answer.Converged ? "yes" : "no");
        fields.Add("epoch", Format.Cell(answer.Epoch));
        fields.Add("rounds", Format.Cell(answer.Rounds));
        await fields.WriteAsync(context.Output).ConfigureAwait(false);
        if (exit != ExitCodes.Ok)
        {
            await context.Error.WriteLineAsync($"rumor aggregate: the estimate of '{key}' did not converge within {wait}.").ConfigureAwait(false);
        }

        return exit;
    }
}
