using Rumor.Client;

namespace Rumor.Cli.Client;

/// <summary><c>rumor status</c>: the agent's own view: identity, membership counts, local health, convergence, traffic (<c>GET /v1/status</c>).</summary>
internal static class StatusCommand
{
    public static readonly ClientCommand Command = new(
        "status",
        "Shows the agent: its name, address and version, member counts by state, local health (Lifeguard score), whether the cluster's state has converged, and its traffic counters.",
        () => [],
        RunAsync);

    private static async Task<int> RunAsync(ClientContext context)
    {
        StatusDto answer = await context.Agent.GetStatusAsync(context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        Fields fields = new();
        fields.Add("name", Format.Cell(answer.Name));
        fields.Add("address", Format.Cell(answer.Address));
        fields.Add("version", Format.Cell(answer.Version));
        fields.Add("preset", Format.Cell(answer.Preset));
        fields.Add("generation", Format.Cell(answer.Generation));
        fields.Add("incarnation", Format.Cell(answer.Incarnation));
        fields.Add("uptime", Format.AgeOfMilliseconds(answer.UptimeMs));
        if (answer.Members is { } members)
        {
            fields.Add("members", $"{members.Alive} alive, {members.Suspect} suspect, {members.Dead} dead, {members.Left} left");
        }

        if (answer.LocalHealth is { } health)
        {
            // Lifeguard's score: 0 is healthy; the probe interval is multiplied by score + 1.
            fields.Add("local health", $"{health.Score} of max {health.Max} (0 is healthy)");
        }

        if (answer.Convergence is { } convergence)
        {
            fields.Add("convergence", Convergence(convergence));
        }

        if (answer.Counters is { } c)
        {
            (string Name, long Value)[] counters =
            [
                ("packetsSent", c.PacketsSent), ("packetsReceived", c.PacketsReceived), ("bytesSent", c.BytesSent), ("bytesReceived", c.BytesReceived),
                ("streamsOpened", c.StreamsOpened), ("streamsAccepted", c.StreamsAccepted), ("streamFailures", c.StreamFailures), ("decodeFailures", c.DecodeFailures),
                ("probesSent", c.ProbesSent), ("probesFailed", c.ProbesFailed), ("suspicions", c.Suspicions), ("refutations", c.Refutations),
                ("broadcastsQueued", c.BroadcastsQueued), ("broadcastsDropped", c.BroadcastsDropped), ("stateDeltasSent", c.StateDeltasSent),
                ("stateEntriesApplied", c.StateEntriesApplied), ("eventsDropped", c.EventsDropped),
            ];
            foreach ((string name, long value) in counters)
            {
                fields.Add(name, Format.Cell(value));
            }
        }

        await fields.WriteAsync(context.Output).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static string Convergence(ConvergenceDto convergence)
    {
        string checksum = convergence.Checksum is { } c ? $" (checksum {Format.Cell(c)})" : string.Empty;
        if (convergence.Converged)
        {
            return $"converged for {Format.AgeOfMilliseconds(convergence.SinceMs)}{checksum}";
        }

        string text = "not converged";
        if (convergence.Differing is { Count: > 0 } differing)
        {
            text += "; differing: " + string.Join(", ", differing.Select(Format.Cell));
        }

        if (convergence.Unknown is { Count: > 0 } unknown)
        {
            text += "; unknown: " + string.Join(", ", unknown.Select(Format.Cell));
        }

        return text + checksum;
    }
}
