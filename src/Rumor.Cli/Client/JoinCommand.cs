using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rumor.Cli.Client;

/// <summary><c>rumor join ADDR...</c>: asks the agent to join the cluster through seeds (<c>POST /v1/join</c>).</summary>
internal static class JoinCommand
{
    public static readonly ClientCommand Command = new(
        "join",
        "Asks the agent to join a cluster through one or more seed addresses (IPv4:port or [IPv6]:port). Succeeds when at least one seed answered; fails with the reasons when none did.",
        () => [new Argument<string[]>("ADDR") { Description = "Seed addresses: IPv4:port or [IPv6]:port.", Arity = ArgumentArity.OneOrMore }],
        RunAsync);

    private static async Task<int> RunAsync(ClientContext context)
    {
        JsonObject body = new() { ["seeds"] = new JsonArray([.. context.Args.Positionals.Select(seed => (JsonNode?)JsonValue.Create(seed))]) };

        // A join waits for push-pull exchanges with every seed: give it the agent's stream time on top.
        JsonElement answer = await context.Agent.SendAsync(HttpMethod.Post, "v1/join", body, context.Stop, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        foreach (JsonElement joined in Json.Items(answer, "joined"))
        {
            // The agent answers how many members the seed's push-pull brought.
            await context.Output.WriteLineAsync($"joined through {Json.Cell(joined, "seed")} ({Json.Cell(joined, "members")} members known)").ConfigureAwait(false);
        }

        foreach (JsonElement failed in Json.Items(answer, "failed"))
        {
            await context.Output.WriteLineAsync($"could not join through {Json.Cell(failed, "seed")}: {Json.Cell(failed, "reason")}").ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }
}
