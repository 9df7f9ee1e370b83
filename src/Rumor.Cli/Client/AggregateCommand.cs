using System.Text.Json;

namespace Rumor.Cli.Client;

/// <summary><c>rumor aggregate KEY</c>: the cluster-wide push-sum estimate of a numeric key (<c>GET /v1/aggregates/{key}</c>).</summary>
internal static class AggregateCommand
{
    public static readonly ClientCommand Command = new(
        "aggregate",
        "Shows the cluster-wide sum, count, average, minimum and maximum of a numeric key, computed by gossip (push-sum), with its error bound. The first call starts the aggregate; ask again to watch it converge.",
        "KEY",
        1,
        1,
        [],
        RunAsync);

    private static async Task<int> RunAsync(ClientContext context)
    {
        string key = context.Args.Positionals[0];
        JsonElement answer = await context.Agent.SendAsync(HttpMethod.Get, "v1/aggregates/" + ApiPath.Segment(key), null, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        Fields fields = new();
        fields.Add("key", Json.Cell(answer, "key"));
        foreach (string name in new[] { "sum", "count", "average", "min", "max" })
        {
            fields.Add(name, Json.Cell(answer, name));
        }

        fields.Add("error bound", Json.Cell(answer, "errorBound"));
        fields.Add("converged", Json.Bool(answer, "converged") switch { true => "yes", false => "no", null => "-" });
        fields.Add("epoch", Json.Cell(answer, "epoch"));
        fields.Add("rounds", Json.Cell(answer, "rounds"));
        await fields.WriteAsync(context.Output).ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
