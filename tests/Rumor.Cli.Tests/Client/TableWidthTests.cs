using System.Text.Json;
using Rumor.Cli.Client;

namespace Rumor.Cli.Tests.Client;

/// <summary>
/// Issue 13's rough edges: <c>kv list</c> printed a 60 KB value in full and padded the key column to
/// 512 characters; <c>members show</c> printed a ~200-column verdict table. Tables now fit
/// <c>COLUMNS</c> (or the terminal, else 100 columns), cut cells end with '…', and <c>--json</c>
/// still carries everything.
/// </summary>
public sealed class TableWidthTests
{
    private static readonly string LongKey = "app/" + new string('k', 508);
    private static readonly string LargeValue = new('v', 60_000);

    [Fact]
    public async Task Kv_list_with_a_60_KB_value_and_a_512_character_key_fits_100_columns()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("GET", "/v1/kv", 200, KvAnswer());

        (int code, string output, string error) = await ClientRun.RunAsync(["kv", "list", "--agent", agent.Url]);

        Assert.True(code == 0, error);
        string[] lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.All(lines, line => Assert.True(line.Length <= 100, $"a line of {line.Length} columns: {line[..Math.Min(line.Length, 120)]}"));
        Assert.StartsWith("OWNER   KEY", lines[0], StringComparison.Ordinal);

        // The cut cells end with the marker; the short columns are whole; the small entry is untouched.
        Assert.Contains("node-a  app/kkk", lines[1], StringComparison.Ordinal);
        Assert.Contains("\u2026  7        1m00s  vvvv", lines[1], StringComparison.Ordinal);
        Assert.EndsWith("\u2026", lines[1], StringComparison.Ordinal);
        Assert.Matches(@"^node-b  color +3        -      blue$", lines[2]);
    }

    [Fact]
    public async Task Kv_list_json_carries_every_byte()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("GET", "/v1/kv", 200, KvAnswer());

        (int code, string output, _) = await ClientRun.RunAsync(["kv", "list", "--json", "--agent", agent.Url]);

        Assert.Equal(0, code);
        JsonElement first = JsonDocument.Parse(output).RootElement[0];
        Assert.Equal(LongKey, first.GetProperty("key").GetString());
        Assert.Equal(LargeValue, first.GetProperty("value").GetString());
    }

    [Theory]
    [InlineData("60", 60)]
    [InlineData("160", 160)]
    public async Task COLUMNS_sets_the_width(string columns, int width)
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("GET", "/v1/kv", 200, KvAnswer());

        (int code, string output, _) = await ClientRun.RunAsync(["kv", "list", "--agent", agent.Url], variables: new() { ["COLUMNS"] = columns });

        Assert.Equal(0, code);
        string[] lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(width, lines[1].Length);
    }

    [Fact]
    public async Task The_terminal_width_applies_when_COLUMNS_is_not_set()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("GET", "/v1/kv", 200, KvAnswer());
        using StringWriter output = new();
        using StringWriter error = new();
        ClientEnvironment terminal = new(_ => null, () => new MemoryStream(), TimeSpan.FromSeconds(10), new FixedClock(ClientRun.Now), () => 72);

        int code = await RumorCommand.RunAsync(["kv", "list", "--agent", agent.Url], output, error, terminal, CancellationToken.None);

        Assert.Equal(0, code);
        Assert.Equal(72, output.ToString().Split('\n')[1].Length);
    }

    [Fact]
    public async Task Members_with_long_tags_fit_100_columns()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        string tags = string.Join(",", Enumerable.Range(0, 12).Select(i => $"\"tag{i}\":\"value-{i}-{new string('x', 10)}\""));
        agent.On("GET", "/v1/members", 200, $$"""[{"name":"node-a","address":"10.0.0.1:7946","state":"alive","generation":1,"incarnation":3,"tags":{{{tags}}},"stateChangedMs":12000,"isLocal":true}]""");

        (int code, string output, _) = await ClientRun.RunAsync(["members", "--agent", agent.Url]);

        Assert.Equal(0, code);
        string row = output.Split('\n')[1];
        Assert.Equal(100, row.Length);
        Assert.StartsWith("node-a  10.0.0.1:7946  alive  3            12s    tag0=value-0-", row, StringComparison.Ordinal);
        Assert.EndsWith("\u2026", row, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Members_show_with_every_verdict_field_fits_100_columns()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        const string Probes = """[{"at":"2025-06-01T11:59:50Z","outcome":"failed","indirectSent":3,"nacks":1},{"at":"2025-06-01T11:59:51Z","outcome":"ackedDirect","roundTripMs":0.8,"indirectSent":0,"nacks":0}]""";
        agent.On("GET", "/v1/members/node-c", 200, $$"""
            {"name":"node-c","address":"10.0.0.3:7946","state":"dead","generation":1717000000000,"incarnation":4,"tags":{"role":"db"},"stateChangedMs":65000,"isLocal":false,
             "verdicts":[
               {"at":"2025-06-01T11:59:52.125Z","kind":"suspect","source":"ownProbe","generation":1717000000000,"incarnation":4,"accuser":"node-a","accusers":["node-a"],"confirmations":0,"suspectedAt":"2025-06-01T11:59:52.125Z","suspicionDeadline":"2025-06-01T11:59:57.125Z","localHealthScore":2,"stallGuardActive":true,"probes":{{Probes}}},
               {"at":"2025-06-01T11:59:57.125Z","kind":"dead","source":"suspicionTimeout","generation":1716999999999,"incarnation":4,"accuser":"node-a","accusers":["node-b","node-a","node-c-with-a-long-name"],"confirmations":2,"suspectedAt":"2025-06-01T11:59:52.125Z","suspicionDeadline":"2025-06-01T11:59:57.125Z","localHealthScore":0,"stallGuardActive":false,"probes":{{Probes}}}],
             "probes":{{Probes}}}
            """);

        (int code, string output, string error) = await ClientRun.RunAsync(["members", "show", "node-c", "--agent", agent.Url]);

        Assert.True(code == 0, error);
        Assert.All(output.Split('\n'), line => Assert.True(line.Length <= 100, $"a line of {line.Length} columns: {line}"));

        // Every field set and three accusers: too wide for a table at 100 columns, so a block per verdict, nothing cut.
        Assert.DoesNotContain("\u2026", output, StringComparison.Ordinal);
        Assert.Contains(
            "verdict 2 of 2:\n"
            + "  at:                 11:59:57.125\n"
            + "  kind:               dead\n"
            + "  source:             suspicionTimeout\n"
            + "  generation:         1716999999999\n"
            + "  incarnation:        4\n"
            + "  accusers:           node-a, node-b, node-c-with-a-long-name\n"
            + "  confirmations:      2\n"
            + "  suspected:          5s before\n"
            + "  suspicion timeout:  5s\n"
            + "  probes:             2 (1 failed)\n",
            output,
            StringComparison.Ordinal);
        Assert.Contains("  local health:       2\n  stall guard:        on\n", output, StringComparison.Ordinal);

        // With room (COLUMNS=200) the same verdicts are one table, with the legend of its short headers.
        (_, string wide, _) = await ClientRun.RunAsync(["members", "show", "node-c", "--agent", agent.Url], variables: new() { ["COLUMNS"] = "200" });
        Assert.Contains("AT            KIND     SOURCE            GEN            INC  ACCUSERS                               CONF  SUSPECTED  SUSPICION  HEALTH  GUARD  PROBES\n", wide, StringComparison.Ordinal);
        Assert.Contains("11:59:57.125  dead     suspicionTimeout  1716999999999  4    node-a,node-b,node-c-with-a-long-name  2     5s before  5s         -       -      2 (1 failed)\n", wide, StringComparison.Ordinal);
        Assert.Contains("GEN generation; INC incarnation; CONF confirmations; SUSPECTED when the suspicion began; SUSPICION its", wide, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abcdef", 6, "abcdef")]
    [InlineData("abcdef", 5, "abcd\u2026")]
    [InlineData("abcdef", 1, "\u2026")]
    [InlineData("abcdef", 0, "")]
    [InlineData("ab\U0001F600cd", 4, "ab\u2026")]
    public void Truncate_cuts_with_the_marker_and_never_splits_a_surrogate_pair(string text, int width, string expected) =>
        Assert.Equal(expected, Table.Truncate(text, width));

    [Fact]
    public async Task A_table_that_fits_is_left_as_it_is()
    {
        Table table = new("A", "LONGER HEADER", "C");
        table.Add("1", "two", "three");
        using StringWriter wide = new();
        using StringWriter unbounded = new();

        await table.WriteAsync(wide, 100);
        await table.WriteAsync(unbounded);

        Assert.Equal("A  LONGER HEADER  C\n1  two            three\n", wide.ToString());
        Assert.Equal(unbounded.ToString(), wide.ToString());
    }

    [Fact]
    public async Task Narrowing_cuts_the_widest_columns_to_one_cap_and_keeps_headers_whole()
    {
        Table table = new("NAME", "KEY", "VALUE");
        table.Add("node-a", new string('k', 40), new string('v', 80));
        using StringWriter output = new();

        await table.WriteAsync(output, 50);

        string[] lines = output.ToString().TrimEnd('\n').Split('\n');
        Assert.Equal("NAME    KEY" + new string(' ', 19) + "VALUE", lines[0]);
        Assert.Equal("node-a  " + new string('k', 19) + "\u2026  " + new string('v', 19) + "\u2026", lines[1]);
        Assert.Equal(50, lines[1].Length);
    }

    private static string KvAnswer() =>
        $$"""
        [{"owner":"node-a","key":"{{LongKey}}","value":"{{LargeValue}}","version":7,"ttlMs":60000},
         {"owner":"node-b","key":"color","value":"blue","version":3}]
        """;
}
