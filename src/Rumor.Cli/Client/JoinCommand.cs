using System.CommandLine;
using Rumor.Client;

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
        JoinResponse answer = await context.Agent.JoinAsync(context.Args.Positionals, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        foreach (JoinedDto joined in answer.Joined ?? [])
        {
            // The agent answers how many members the seed's push-pull brought.
            await context.Output.WriteLineAsync($"joined through {Format.Cell(joined.Seed)} ({joined.Members} members known)").ConfigureAwait(false);
        }

        foreach (JoinFailedDto failed in answer.Failed ?? [])
        {
            await context.Output.WriteLineAsync($"could not join through {Format.Cell(failed.Seed)}: {Format.Cell(failed.Reason)}").ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }
}
