using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace Rumor.Cli.Client;

/// <summary>
/// <c>rumor members [--state S]</c>: the member table (<c>GET /v1/members</c>);
/// <c>rumor members show NAME</c>: one member with its failure-detection verdict records
/// (<c>GET /v1/members/{name}</c>).
/// </summary>
internal static class MembersCommand
{
    private static readonly string[] States = ["alive", "suspect", "dead", "left"];

    public static readonly ClientCommand List = new(
        "members",
        "Lists the members the agent knows: name, address, state, incarnation, how long in that state, tags. 'rumor members show NAME' shows one member with its verdict records.",
        () => [CliOptions.Text("--state", "alive|suspect|dead|left", "Only members in this state.").Completing(States)],
        ListAsync);

    public static readonly ClientCommand Show = new(
        "members show",
        "Shows one member: its state, generation, incarnation, tags, and the failure-detection verdict records about it (who suspected or declared it, and when).",
        () => [new Argument<string>("NAME") { Description = "The member's name." }],
        ShowAsync);

    /// <summary><c>members</c> (the list) with its subcommand <c>show NAME</c>, which has its own options and help.</summary>
    public static Command Create(TextWriter output, TextWriter error, ClientEnvironment environment)
    {
        Command members = List.Create(output, error, environment);
        members.Add(Show.Create(output, error, environment));
        return members;
    }

    private static async Task<int> ListAsync(ClientContext context)
    {
        string? state = context.Args.Get("state")?.ToLowerInvariant();
        if (state is not null && !States.Contains(state))
        {
            throw new UsageException($"--state: '{state}' is not a state: expected alive, suspect, dead or left.");
        }

        JsonElement answer = await context.Agent.SendAsync(HttpMethod.Get, ApiPath.With("v1/members", ("state", state)), null, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        Table table = new("NAME", "ADDRESS", "STATE", "INCARNATION", "SINCE", "TAGS");
        foreach (JsonElement member in Json.Items(answer))
        {
            table.Add(
                Json.Cell(member, "name"),
                Json.Cell(member, "address"),
                Json.Cell(member, "state"),
                Json.Cell(member, "incarnation"),
                Format.AgeOfMilliseconds(member, "stateChangedMs"),
                Tags(member));
        }

        if (table.Count == 0)
        {
            await context.Output.WriteLineAsync(state is null ? "no members" : $"no {state} members").ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        await table.WriteAsync(context.Output).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static async Task<int> ShowAsync(ClientContext context)
    {
        string name = context.Args.Positionals[0];
        JsonElement member = await context.Agent.SendAsync(HttpMethod.Get, "v1/members/" + ApiPath.Segment(name), null, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(member).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        Fields fields = new();
        fields.Add("name", Json.Cell(member, "name"));
        fields.Add("address", Json.Cell(member, "address"));
        fields.Add("state", $"{Json.Cell(member, "state")} for {Format.AgeOfMilliseconds(member, "stateChangedMs")}");
        fields.Add("generation", Json.Cell(member, "generation"));
        fields.Add("incarnation", Json.Cell(member, "incarnation"));
        string tags = Tags(member);
        fields.Add("tags", tags.Length == 0 ? "none" : tags);
        await fields.WriteAsync(context.Output).ConfigureAwait(false);

        TimeProvider clock = context.Environment.Time;
        List<JsonElement> verdicts = [.. Json.Items(member, "verdicts")];
        if (verdicts.Count == 0)
        {
            await context.Output.WriteLineAsync("verdicts: none").ConfigureAwait(false);
            await WriteProbesAsync(context, member, clock).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        // The verdict record's fields belong to the failure detector, which may grow them: show
        // every field the agent sent, in the order it first appears, rather than a fixed guess.
        List<string> columns = [];
        foreach (JsonElement verdict in verdicts.Where(v => v.ValueKind == JsonValueKind.Object))
        {
            foreach (JsonProperty property in verdict.EnumerateObject())
            {
                if (!columns.Contains(property.Name))
                {
                    columns.Add(property.Name);
                }
            }
        }

        await context.Output.WriteLineAsync().ConfigureAwait(false);
        await context.Output.WriteLineAsync($"verdicts ({verdicts.Count}):").ConfigureAwait(false);
        Table table = new([.. columns.Select(c => c.ToUpperInvariant())]);
        foreach (JsonElement verdict in verdicts)
        {
            table.Add([.. columns.Select(c => VerdictCell(verdict, c, clock))]);
        }

        await table.WriteAsync(context.Output).ConfigureAwait(false);
        await WriteProbesAsync(context, member, clock).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The agent's latest probes of the member (<c>probes</c>), one row each, when it sent any: the
    /// evidence behind a verdict (a member that stopped acking, or acks that got slow).
    /// </summary>
    private static async Task WriteProbesAsync(ClientContext context, JsonElement member, TimeProvider clock)
    {
        List<JsonElement> probes = [.. Json.Items(member, "probes").Where(p => p.ValueKind == JsonValueKind.Object)];
        if (probes.Count == 0)
        {
            return;
        }

        await context.Output.WriteLineAsync().ConfigureAwait(false);
        await context.Output.WriteLineAsync($"latest probes by this agent ({probes.Count}):").ConfigureAwait(false);
        Table table = new("AT", "OUTCOME", "RTT", "INDIRECT", "NACKS");
        foreach (JsonElement probe in probes)
        {
            string rtt = Json.Number(probe, "roundTripMs") is { } ms ? ms.ToString("0.###", CultureInfo.InvariantCulture) + " ms" : "-";
            table.Add(VerdictCell(probe, "at", clock), Json.Cell(probe, "outcome"), rtt, Json.Cell(probe, "indirectSent"), Json.Cell(probe, "nacks"));
        }

        await table.WriteAsync(context.Output).ConfigureAwait(false);
    }

    /// <summary>
    /// One verdict field as a cell. The agent's records nest: times (ISO 8601) show as time of day,
    /// lists of names as <c>a,b</c>, the probe history behind the verdict as a count
    /// (<c>8 (2 failed)</c>) rather than a wall of JSON that breaks the table.
    /// </summary>
    private static string VerdictCell(JsonElement record, string name, TimeProvider clock)
    {
        if (Json.Child(record, name) is not { } value)
        {
            return "-";
        }

        if (value.ValueKind == JsonValueKind.String && value.GetString() is { Length: >= 19 } text && text[4] == '-' && text[10] == 'T' && Json.Time(record, name) is { } time)
        {
            return Format.TimeOfDay(time, clock);
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            return Json.Scalar(value);
        }

        List<JsonElement> items = [.. value.EnumerateArray()];
        if (items.Count == 0)
        {
            return "-";
        }

        if (items.All(i => i.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array)))
        {
            return string.Join(",", items.Select(i => Json.Scalar(i)));
        }

        int failed = items.Count(i => Json.Text(i, "outcome") == "failed");
        return failed > 0 ? $"{items.Count} ({failed} failed)" : items.Count.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Tags as <c>k=v,k=v</c>, sorted by key so the column reads the same on every member.</summary>
    private static string Tags(JsonElement member) =>
        Json.Child(member, "tags") is { ValueKind: JsonValueKind.Object } tags
            ? string.Join(",", tags.EnumerateObject().OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => t.Name + "=" + Json.Scalar(t.Value)))
            : string.Empty;
}
