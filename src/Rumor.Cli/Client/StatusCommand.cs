using System.Text.Json;

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
        JsonElement answer = await context.Agent.SendAsync(HttpMethod.Get, "v1/status", null, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        Fields fields = new();
        fields.Add("name", Json.Cell(answer, "name"));
        fields.Add("address", Json.Cell(answer, "address"));
        fields.Add("version", Json.Cell(answer, "version"));
        fields.Add("preset", Json.Cell(answer, "preset"));
        fields.Add("generation", Json.Cell(answer, "generation"));
        fields.Add("incarnation", Json.Cell(answer, "incarnation"));
        fields.Add("uptime", Format.AgeOfMilliseconds(answer, "uptimeMs"));
        if (Json.Child(answer, "members") is { } members)
        {
            fields.Add("members", string.Join(", ", new[] { "alive", "suspect", "dead", "left" }.Select(s => $"{Json.Cell(members, s)} {s}")));
        }

        if (Json.Child(answer, "localHealth") is { } health)
        {
            // Lifeguard's score: 0 is healthy; the probe interval is multiplied by score + 1.
            fields.Add("local health", $"{Json.Cell(health, "score")} of max {Json.Cell(health, "max")} (0 is healthy)");
        }

        if (Json.Child(answer, "convergence") is { } convergence)
        {
            fields.Add("convergence", Convergence(convergence));
        }

        if (Json.Child(answer, "counters") is { ValueKind: JsonValueKind.Object } counters)
        {
            foreach (JsonProperty counter in counters.EnumerateObject())
            {
                fields.Add(counter.Name, Json.Scalar(counter.Value));
            }
        }

        await fields.WriteAsync(context.Output).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static string Convergence(JsonElement convergence)
    {
        string checksum = Json.Child(convergence, "checksum") is { } c ? $" (checksum {Json.Scalar(c)})" : string.Empty;
        if (Json.Bool(convergence, "converged") == true)
        {
            return $"converged for {Format.AgeOfMilliseconds(convergence, "sinceMs")}{checksum}";
        }

        List<string> differing = [.. Json.Items(convergence, "differing").Select(d => Json.Scalar(d))];
        List<string> unknown = [.. Json.Items(convergence, "unknown").Select(u => Json.Scalar(u))];
        string text = "not converged";
        if (differing.Count > 0)
        {
            text += "; differing: " + string.Join(", ", differing);
        }

        if (unknown.Count > 0)
        {
            text += "; unknown: " + string.Join(", ", unknown);
        }

        return text + checksum;
    }
}
