using System.CommandLine;
using Rumor.Cli.Client;

namespace Rumor.Cli.Tests;

/// <summary>
/// The command line as System.CommandLine reads it with our rules: positionals mixed with options,
/// <c>--</c>, unknown options and missing values named, one duration grammar, and tab completion
/// through the suggest directive.
/// </summary>
public sealed class ParsingTests
{
    [Fact]
    public void Positionals_mix_with_options_in_order()
    {
        ParseResult parsed = Parse("kv", "set", "color", "--ttl", "5s", "-");

        Assert.Empty(UsageErrors.Find(parsed));
        CommandArgs args = new(parsed);
        Assert.Equal(["color", "-"], args.Positionals);
        Assert.Equal(TimeSpan.FromSeconds(5), args.Get<TimeSpan?>("ttl"));
    }

    [Fact]
    public void Values_come_separated_or_after_an_equals_sign_and_repeat()
    {
        ParseResult parsed = Parse("query", "load", "--tag", "role=web", "--tag=zone=a", "--timeout=1h30m", "--json");

        Assert.Empty(UsageErrors.Find(parsed));
        CommandArgs args = new(parsed);
        Assert.Equal(["role=web", "zone=a"], args.GetAll("tag"));
        Assert.Equal(TimeSpan.FromMinutes(90), args.Get<TimeSpan?>("timeout"));
        Assert.True(args.Has("json"));
        Assert.False(args.Has("file"));
    }

    [Fact]
    public void A_double_dash_lets_a_value_start_with_dashes()
    {
        ParseResult parsed = Parse("kv", "set", "--ttl", "5s", "--", "key", "--not-an-option");

        Assert.Empty(UsageErrors.Find(parsed));
        Assert.Equal(["key", "--not-an-option"], new CommandArgs(parsed).Positionals);
    }

    [Theory]
    [InlineData(new[] { "kv", "get", "--frobnicate" }, "unknown option '--frobnicate'.")]
    [InlineData(new[] { "kv", "get", "k", "--frobnicate" }, "unknown option '--frobnicate'.")]
    [InlineData(new[] { "agent", "--bnd", "127.0.0.1:1" }, "unknown option '--bnd'.")]
    [InlineData(new[] { "kv", "get", "k", "--owner", "--json" }, "option '--owner' needs a value (NAME).")]
    [InlineData(new[] { "kv", "get", "k", "--owner" }, "Required argument missing for option: '--owner'.")]
    [InlineData(new[] { "agent", "--bind", "127.0.0.1:1", "--bind", "127.0.0.1:2" }, "Option '--bind' expects a single argument but 2 were provided.")]
    [InlineData(new[] { "kv", "set" }, "Required argument missing for command: 'set'.")]
    [InlineData(new[] { "kv", "set", "a", "b", "c" }, "Unrecognized command or argument 'c'.")]
    [InlineData(new[] { "status", "extra" }, "Unrecognized command or argument 'extra'.")]
    public void Mistakes_are_named(string[] args, string message)
    {
        Assert.Equal(message, UsageErrors.Find(Parse(args))[0]);
    }

    [Theory]
    [InlineData("kv", "get", "--help")]
    [InlineData("kv", "set", "-h")]
    [InlineData("kv", "get", "--frobnicate", "--help")]
    public void Help_wins_over_mistakes(params string[] args)
    {
        Assert.True(RumorCommand.IsHelp(Parse(args)));
    }

    [Fact]
    public void A_value_starting_with_at_is_a_value_not_a_response_file()
    {
        Assert.Equal(["k", "@v"], new CommandArgs(Parse("kv", "set", "k", "@v")).Positionals);
    }

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("5s", 5_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("2m", 120_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("1d", 86_400_000)]
    public void Durations_read_as_people_write_them_in_every_command(string text, long milliseconds)
    {
        TimeSpan expected = TimeSpan.FromMilliseconds(milliseconds);

        Assert.Equal(expected, new CommandArgs(Parse("kv", "set", "k", "v", "--ttl", text)).Get<TimeSpan?>("ttl"));
        Assert.Equal(expected, new CommandArgs(Parse("leave", "--timeout", text)).Get<TimeSpan?>("timeout"));
        Assert.Equal(expected, new CommandArgs(Parse("aggregate", "show", "cpu", "--wait", text)).Get<TimeSpan?>("wait"));
        Assert.Equal(expected, new CommandArgs(Parse("aggregate", "start", "cpu", "--lifetime", text)).Get<TimeSpan?>("lifetime"));
    }

    [Theory]
    [InlineData("5", "is not a duration")]
    [InlineData("5 s", "is not a duration")]
    [InlineData("-1s", "is not a duration")]
    [InlineData("s", "is not a duration")]
    [InlineData("0s", "is out of range")]
    [InlineData("30d", "is out of range")]
    public void Durations_without_a_unit_or_out_of_range_are_refused(string text, string problem)
    {
        string error = Assert.Single(UsageErrors.Find(Parse("leave", $"--timeout={text}")));

        Assert.StartsWith($"--timeout: '{text}' {problem}", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Simulate_reads_the_same_grammar_with_its_own_bound()
    {
        Assert.Equal(TimeSpan.FromHours(1), Parse("simulate", "--interval", "1h").GetValue<TimeSpan?>("--interval"));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), Parse("simulate", "--interval", "1s500ms").GetValue<TimeSpan?>("--interval"));
        Assert.StartsWith("--interval: '1h1s' is out of range: expected between 1ms and 1h", UsageErrors.Find(Parse("simulate", "--interval", "1h1s"))[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rumor k", new[] { "keygen", "keys", "kv" })]
    [InlineData("rumor kv ", new[] { "delete", "get", "list", "set", "watch" })]
    [InlineData("rumor kv s", new[] { "set" })]
    [InlineData("rumor members --state a", new[] { "alive" })]
    [InlineData("rumor agent --pre", new[] { "--preset" })]
    [InlineData("rumor completion ", new[] { "bash", "fish", "pwsh", "zsh" })]
    public async Task The_suggest_directive_completes_commands_options_and_values(string line, string[] expected)
    {
        using StringWriter output = new();
        using StringWriter error = new();

        int code = await RumorCommand.RunAsync([$"[suggest:{line.Length}]", line], output, error, CancellationToken.None);

        Assert.Equal(0, code);
        string[] suggestions = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        // Prefix matches come first; words that merely contain the typed text follow.
        Assert.Equal(expected, suggestions.Where(s => s.StartsWith(line.Split(' ')[^1], StringComparison.Ordinal) && (s[0] is not ('-' or '/') || line[^1] != ' ')));
    }

    [Theory]
    [InlineData("bash", "complete -o default -F _rumor_complete rumor")]
    [InlineData("zsh", "compdef _rumor_complete rumor")]
    [InlineData("fish", "complete -c rumor")]
    [InlineData("pwsh", "Register-ArgumentCompleter -Native -CommandName rumor")]
    public async Task Completion_prints_a_script_that_asks_the_suggest_directive(string shell, string registration)
    {
        using StringWriter output = new();
        using StringWriter error = new();

        int code = await RumorCommand.RunAsync(["completion", shell], output, error, CancellationToken.None);

        Assert.Equal(0, code);
        Assert.Contains("[suggest:", output.ToString(), StringComparison.Ordinal);
        Assert.Contains(registration, output.ToString(), StringComparison.Ordinal);
    }

    private static ParseResult Parse(params string[] args) => RumorCommand.Parse(args, TextWriter.Null, TextWriter.Null);
}
