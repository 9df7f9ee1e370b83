using System.CommandLine;
using System.Net.Sockets;
using Rumor.Agent;
using Rumor.Agent.Serf;
using Rumor.Serf;

namespace Rumor.Cli;

/// <summary>
/// <c>rumor agent --protocol serf</c>: the agent as a member of a HashiCorp Serf cluster
/// (<see cref="SerfModeAgent"/>). Same contract as the Rumor agent: joins through the seeds (exit 1
/// when none answers), logs member changes, and on Ctrl+C or SIGTERM leaves gracefully (Serf then
/// lists it <c>left</c>) and exits 0.
/// </summary>
internal static class SerfAgentCommand
{
    /// <summary>The <c>--protocol</c> option of <c>rumor agent</c>.</summary>
    public static Option<string> ProtocolOption()
    {
        Option<string> option = CliOptions.Text("--protocol", "rumor|serf", "The wire dialect (default rumor). serf: memberlist + Serf, a member of a real Serf cluster (members, join, leave, user events, queries, keys, event handlers; no KV or aggregates; docs/INTEROP.md).")
            .Completing("rumor", "serf");
        option.Validators.Add(result =>
        {
            string value = result.GetValueOrDefault<string>();
            if (!Enum.TryParse(value, ignoreCase: true, out AgentProtocol _) || int.TryParse(value, out _))
            {
                result.AddError($"unknown protocol '{value}': expected rumor or serf.");
            }
        });
        return option;
    }

    public static async Task<int> RunAsync(AgentSettings settings, TextWriter log, TextWriter error, CancellationToken stop)
    {
        SerfModeAgent agent;
        try
        {
            // Listeners first, so the log names every member the first join brings; the join goes
            // out while the HTTP API starts.
            agent = await SerfModeAgent.StartAsync(settings, beforeJoin: a =>
            {
                a.EventHandlers.Logged += (level, message) =>
                {
                    if (level >= settings.LogLevel)
                    {
                        AgentCommand.Log(log, message);
                    }
                };
                a.Node.MemberChanged += e => AgentCommand.Log(log, $"member {e.Member.Name} {e.Member.Address}:{e.Member.Port} {Describe(e.Kind)}");
            }, join: true, stop).ConfigureAwait(false);
        }
        catch (AgentConfigurationException e)
        {
            await error.WriteLineAsync($"rumor agent: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (SocketException e)
        {
            await error.WriteLineAsync($"rumor agent: the gossip address {settings.Rumor.Bind} cannot be bound: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (IOException e)
        {
            await error.WriteLineAsync($"rumor agent: the HTTP address {settings.Http} cannot be bound: {e.Message} (choose another with --http ADDR:PORT)").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Ok;
        }

        await using (agent.ConfigureAwait(false))
        {
            SerfNode node = agent.Node;
            AgentCommand.Log(log, $"agent {node.Name} running at {node.AdvertisedAddress}:{node.EndPoint.Port} (protocol serf: memberlist 0.2.2 + Serf 0.9.4, preset {settings.Rumor.Preset}); HTTP API at {agent.Url}; Ctrl+C leaves the cluster and exits");
            // The executable's start-up-only pages (Native AOT on Linux; a no-op otherwise), as the rumor-protocol agent does.
            StartupDataRelease.Result released = StartupDataRelease.Release();
            if (released.SkippedBecause is null)
            {
                AgentCommand.Log(log, $"Released {released.ReleasedBytes / 1024} KiB resident of the executable's start-up-only data (its {released.RangeBytes / 1024} KiB of dehydrated runtime data)");
            }

            if (agent.FirstJoin is { } firstJoin)
            {
                try
                {
                    int answered = await firstJoin.ConfigureAwait(false);
                    AgentCommand.Log(log, $"joined through {answered} seed(s): {node.Members.Count} member(s) known");
                }
                catch (IOException e)
                {
                    await error.WriteLineAsync($"rumor agent: {e.Message}").ConfigureAwait(false);
                    return ExitCodes.Failure;
                }
                catch (OperationCanceledException)
                {
                    return ExitCodes.Ok;
                }
            }

            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or SIGTERM: the graceful path.
            }

            AgentCommand.Log(log, $"leaving the cluster (waiting at most {settings.Rumor.LeaveTimeout.TotalSeconds:0} s per step)");
            await node.LeaveAsync(CancellationToken.None).ConfigureAwait(false);
            AgentCommand.Log(log, "left the cluster");
        }

        AgentCommand.Log(log, "stopped");
        return ExitCodes.Ok;
    }

    private static string Describe(SerfMemberEventKind kind) => kind switch
    {
        SerfMemberEventKind.Join => "joined",
        SerfMemberEventKind.Update => "updated",
        SerfMemberEventKind.Leave => "left",
        SerfMemberEventKind.Failed => "failed",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
