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

        await table.WriteAsync(context.Output, context.Columns).ConfigureAwait(false);
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

        // Every field of the verdict record in a table when it fits the terminal (else a block per
        // verdict, below): the verdict's time as time of day, the suspicion's start relative to
        // it and its length (deadline - start), the accuser first among the accusers, the generation
        // only when it is not the member's own, confirmations, health and stall guard only when not
        // 0/off, the probe history as a count, short headers; a column no verdict has a value for is
        // left out. A legend under the table spells the short headers out.
        (string Header, Func<VerdictDto, string> Cell)[] columns =
        [
            ("AT", v => Time(v.At, clock)),
            ("KIND", v => Format.Name(v.Kind)),
            ("SOURCE", v => Format.Name(v.Source)),
            ("GEN", v => v.Generation == member.Generation ? "-" : Format.Cell(v.Generation)),
            ("INC", v => Format.Cell(v.Incarnation)),
            ("ACCUSERS", v => Accusers(v)),
            ("CONF", v => v.Confirmations == 0 ? "-" : Format.Cell(v.Confirmations)),
            ("SUSPECTED", v => v.SuspectedAt is { } at && at != default && at != v.At ? Format.Age(v.At - at) + " before" : "-"),
            ("SUSPICION", v => v.SuspectedAt is { } from && v.SuspicionDeadline is { } to && from != default && to != default ? Format.Age(to - from) : "-"),
            ("HEALTH", v => v.LocalHealthScore == 0 ? "-" : Format.Cell(v.LocalHealthScore)),
            ("GUARD", v => v.StallGuardActive ? "on" : "-"),
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

        if (table.NaturalWidth <= context.Columns)
        {
            await table.WriteAsync(context.Output).ConfigureAwait(false);
            foreach (string line in Wrap(Legend(shown.Select(i => columns[i].Header)), context.Columns))
            {
                await context.Output.WriteLineAsync(line).ConfigureAwait(false);
            }
        }
        else
        {
            // Too wide to read as a table (every column shown, many accusers): one block per
            // verdict, a field a line, long lists wrapped; nothing cut.
            foreach ((string[] row, int index) in cells.Select((row, index) => (row, index)))
            {
                await context.Output.WriteLineAsync($"verdict {index + 1} of {cells.Length}:").ConfigureAwait(false);
                int width = shown.Max(i => RecordNames[columns[i].Header].Length) + 1;
                foreach (int i in shown.Where(i => row[i] != "-"))
                {
                    string label = (RecordNames[columns[i].Header] + ":").PadRight(width + 2);
                    string[] lines = [.. Wrap(row[i].Replace(",", ", ", StringComparison.Ordinal), Math.Max(20, context.Columns - 2 - label.Length))];
                    for (int line = 0; line < lines.Length; line++)
                    {
                        await context.Output.WriteLineAsync("  " + (line == 0 ? label : new string(' ', label.Length)) + lines[line]).ConfigureAwait(false);
                    }
                }
            }
        }

        await WriteProbesAsync(context, member.Probes ?? [], clock).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    /// <summary>The verdict fields by name, for the one-block-per-verdict layout.</summary>
    private static readonly Dictionary<string, string> RecordNames = new(StringComparer.Ordinal)
    {
        ["AT"] = "at",
        ["KIND"] = "kind",
        ["SOURCE"] = "source",
        ["GEN"] = "generation",
        ["INC"] = "incarnation",
        ["ACCUSERS"] = "accusers",
        ["CONF"] = "confirmations",
        ["SUSPECTED"] = "suspected",
        ["SUSPICION"] = "suspicion timeout",
        ["HEALTH"] = "local health",
        ["GUARD"] = "stall guard",
        ["PROBES"] = "probes",
    };

    /// <summary>What the short headers of the verdict table mean (those shown).</summary>
    private static string Legend(IEnumerable<string> headers)
    {
        Dictionary<string, string> meanings = new(StringComparer.Ordinal)
        {
            ["GEN"] = "GEN generation",
            ["INC"] = "INC incarnation",
            ["CONF"] = "CONF confirmations",
            ["SUSPECTED"] = "SUSPECTED when the suspicion began",
            ["SUSPICION"] = "SUSPICION its timeout",
            ["HEALTH"] = "HEALTH local health score",
            ["GUARD"] = "GUARD stall guard",
        };
        return string.Join("; ", [.. headers.Where(meanings.ContainsKey).Select(h => meanings[h]), "--json: every field"]) + ".";
    }

    /// <summary>Words in lines of at most <paramref name="columns"/> characters (a longer word on a line of its own).</summary>
    internal static IEnumerable<string> Wrap(string text, int columns)
    {
        System.Text.StringBuilder line = new();
        foreach (string word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > columns)
            {
                yield return line.ToString();
                line.Clear();
            }

            line.Append(line.Length > 0 ? " " : string.Empty).Append(word);
        }

        if (line.Length > 0)
        {
            yield return line.ToString();
        }
    }

    /// <summary>The accusers, the one that made the verdict first.</summary>
    private static string Accusers(VerdictDto verdict)
    {
        List<string> names = [.. (verdict.Accusers ?? []).Select(Format.Cell)];
        if (!string.IsNullOrEmpty(verdict.Accuser))
        {
            names.Remove(Format.Cell(verdict.Accuser));
            names.Insert(0, Format.Cell(verdict.Accuser));
        }

        return names.Count == 0 ? "-" : string.Join(",", names);
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

        await table.WriteAsync(context.Output, context.Columns).ConfigureAwait(false);
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
