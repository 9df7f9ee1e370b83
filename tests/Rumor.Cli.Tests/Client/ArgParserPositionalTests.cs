namespace Rumor.Cli.Tests.Client;

/// <summary>Positional arguments, added to the parser for the client commands (<c>kv set KEY VALUE</c>).</summary>
public sealed class ArgParserPositionalTests
{
    private static ArgParser Parser() =>
        new ArgParser("rumor kv set", "Sets a key.", new OptionSpec("ttl", "DURATION", "Expiry.")).WithPositionals("KEY [VALUE]", 1, 2);

    [Fact]
    public void Positionals_mix_with_options_in_order()
    {
        ParsedArgs parsed = Parser().Parse(["color", "--ttl", "5s", "-"]);

        Assert.Equal(["color", "-"], parsed.Positionals);
        Assert.Equal("5s", parsed.Get("ttl"));
    }

    [Fact]
    public void A_double_dash_lets_a_value_start_with_dashes()
    {
        ParsedArgs parsed = Parser().Parse(["--ttl", "5s", "--", "key", "--not-an-option"]);

        Assert.Equal(["key", "--not-an-option"], parsed.Positionals);
    }

    [Fact]
    public void Too_few_or_too_many_are_usage_errors_but_help_still_works()
    {
        Assert.Equal("missing arguments: expected KEY [VALUE].", Assert.Throws<UsageException>(() => Parser().Parse([])).Message);
        Assert.Equal("unexpected argument 'c' for 'rumor kv set'.", Assert.Throws<UsageException>(() => Parser().Parse(["a", "b", "c"])).Message);
        Assert.True(Parser().Parse(["--help"]).Help);
        Assert.StartsWith("Usage: rumor kv set KEY [VALUE] [--ttl DURATION]", Parser().FormatUsage(), StringComparison.Ordinal);
    }
}
