using Rumor.Client;

namespace Rumor.Cli.Client;

/// <summary><c>rumor leave [--timeout D] [--stay]</c>: asks the agent to leave the cluster gracefully and then stop (<c>POST /v1/leave</c>).</summary>
internal static class LeaveCommand
{
    /// <summary>What the agent waits for the leave to spread when not told (the agent command's own bound).</summary>
    private static readonly TimeSpan AgentDefaultWait = TimeSpan.FromSeconds(5);

    public static readonly ClientCommand Command = new(
        "leave",
        "Asks the agent to leave the cluster gracefully: it announces the leave and waits (at most the timeout) for it to spread, so others see 'left', not 'dead'; then the agent stops, unless --stay.",
        () =>
        [
            ClientCommand.Duration("--timeout", "How long the agent waits for the leave to spread (default: the agent's, 5s)."),
            CliOptions.Flag("--stay", "Keep the agent process running after the leave (its API keeps answering; /v1/health says it left)."),
        ],
        RunAsync);

    private static async Task<int> RunAsync(ClientContext context)
    {
        TimeSpan? timeout = context.Args.Get<TimeSpan?>("timeout");
        bool stay = context.Args.Get<bool>("stay");
        LeaveResponse answer = await context.Agent.LeaveAsync(timeout, shutdown: !stay, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        string message = answer.Left
            ? "left the cluster"
            : $"the leave was not confirmed within {Format.Age(timeout ?? AgentDefaultWait)}; others will see this member leave or fail";
        await context.Output.WriteLineAsync(answer.Stopping == true ? message + "; the agent is stopping" : message).ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
