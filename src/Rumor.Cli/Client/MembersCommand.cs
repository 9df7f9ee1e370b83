using System.CommandLine;
using System.Globalization;
using Rumor.Client;

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

        MemberState? filter = state is null ? null : Enum.Parse<MemberState>(state, ignoreCase: true);
        IReadOnlyList<MemberDto> answer = await context.Agent.GetMembersAsync(filter, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        Table table = new("NAME", "ADDRESS", "STATE", "INCARNATION", "SINCE", "TAGS");
        foreach (MemberDto member in answer)
        {
            table.Add(
                Format.Cell(member.Name),
                Format.Cell(member.Address),
                Format.Name(member.State),
                Format.Cell(member.Incarnation),
                Format.AgeOfMilliseconds(member.StateChangedMs),
                Tags(member.Tags));
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
        MemberDetailDto member = await context.Agent.GetMemberAsync(name, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(member).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        Fields fields = new();
        fields.Add("name", Format.Cell(member.Name));
        fields.Add("address", Format.Cell(member.Address));
        fields.Add("state", $"{Format.Name(member.State)} for {Format.AgeOfMilliseconds(member.StateChangedMs)}");
        fields.Add("generation", Format.Cell(member.Generation));
        fields.Add("incarnation", Format.Cell(member.Incarnation));
        string tags = Tags(member.Tags);
        fields.Add("tags", tags.Length == 0 ? "none" : tags);
        await fields.WriteAsync(context.Output).ConfigureAwait(false);

        TimeProvider clock = context.Environment.Time;
        IReadOnlyList<VerdictDto> verdicts = member.Verdicts ?? [];
        if (verdicts.Count == 0)
        {
            await context.Output.WriteLineAsync("verdicts: none").ConfigureAwait(false);
            await WriteProbesAsync(context, member.Probes ?? [], clock).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        // Every field of the verdict record, with the times as time of day, the accusers as a,b and
        // the probe history behind the verdict as a count; a column no verdict has a value for is left out.
        (string Header, Func<VerdictDto, string> Cell)[] columns =
        [
            ("AT", v => Time(v.At, clock)),
            ("KIND", v => Format.Name(v.Kind)),
            ("SOURCE", v => Format.Name(v.Source)),
            ("GENERATION", v => Format.Cell(v.Generation)),
            ("INCARNATION", v => Format.Cell(v.Incarnation)),
            ("ACCUSER", v => Format.Cell(v.Accuser)),
            ("ACCUSERS", v => v.Accusers is { Count: > 0 } a ? string.Join(",", a.Select(Format.Cell)) : "-"),
            ("CONFIRMATIONS", v => Format.Cell(v.Confirmations)),
            ("SUSPECTEDAT", v => v.SuspectedAt is { } at ? Time(at, clock) : "-"),
            ("SUSPICIONDEADLINE", v => v.SuspicionDeadline is { } at ? Time(at, clock) : "-"),
            ("LOCALHEALTHSCORE", v => Format.Cell(v.LocalHealthScore)),
            ("STALLGUARDACTIVE", v => Format.Cell(v.StallGuardActive)),
            ("PROBES", v => ProbeCount(v.Probes)),
        ];
        string[][] cells = [.. verdicts.Select(v => columns.Select(c => c.Cell(v)).ToArray())];
        int[] shown = [.. Enumerable.Range(0, columns.Length).Where(i => cells.Any(row => row[i] != "-"))];

        await context.Output.WriteLineAsync().ConfigureAwait(false);
        await context.Output.WriteLineAsync($"verdicts ({verdicts.Count}):").ConfigureAwait(false);
        Table table = new([.. shown.Select(i => columns[i].Header)]);
        foreach (string[] row in cells)
        {
            table.Add([.. shown.Select(i => row[i])]);
        }

        await table.WriteAsync(context.Output).ConfigureAwait(false);
        await WriteProbesAsync(context, member.Probes ?? [], clock).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The agent's latest probes of the member, one row each, when it sent any: the evidence behind
    /// a verdict (a member that stopped acking, or acks that got slow).
    /// </summary>
    private static async Task WriteProbesAsync(ClientContext context, IReadOnlyList<ProbeDto> probes, TimeProvider clock)
    {
        if (probes.Count == 0)
        {
            return;
        }

        await context.Output.WriteLineAsync().ConfigureAwait(false);
        await context.Output.WriteLineAsync($"latest probes by this agent ({probes.Count}):").ConfigureAwait(false);
        Table table = new("AT", "OUTCOME", "RTT", "INDIRECT", "NACKS");
        foreach (ProbeDto probe in probes)
        {
            string rtt = probe.RoundTripMs is { } ms ? ms.ToString("0.###", CultureInfo.InvariantCulture) + " ms" : "-";
            table.Add(Time(probe.At, clock), Format.Name(probe.Outcome), rtt, Format.Cell(probe.IndirectSent), Format.Cell(probe.Nacks));
        }

        await table.WriteAsync(context.Output).ConfigureAwait(false);
    }

    /// <summary>A time of the API as time of day; "-" for the default (absent) time.</summary>
    private static string Time(DateTimeOffset time, TimeProvider clock) => time == default ? "-" : Format.TimeOfDay(time, clock);

    /// <summary>The probe history behind a verdict as a count (<c>8 (2 failed)</c>) rather than a wall of rows.</summary>
    private static string ProbeCount(IReadOnlyList<ProbeDto>? probes)
    {
        if (probes is not { Count: > 0 })
        {
            return "-";
        }

        int failed = probes.Count(p => p.Outcome == ProbeOutcome.Failed);
        return failed > 0 ? $"{probes.Count} ({failed} failed)" : probes.Count.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Tags as <c>k=v,k=v</c>, sorted by key so the column reads the same on every member.</summary>
    private static string Tags(IReadOnlyDictionary<string, string>? tags) =>
        tags is null ? string.Empty : string.Join(",", tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => t.Key + "=" + Format.Cell(t.Value)));
}
