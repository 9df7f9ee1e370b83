namespace Rumor.Cli.Tests;

public sealed class ArgParserTests
{
    private static readonly ArgParser Parser = new(
        "rumor test",
        "A test command.",
        new OptionSpec("bind", "ADDR:PORT", "Where to bind."),
        new OptionSpec("join", "ADDR:PORT", "A seed.", Repeatable: true),
        new OptionSpec("verbose", null, "Say more."));

    [Fact]
    public void Values_come_separated_or_after_an_equals_sign()
    {
        ParsedArgs parsed = Parser.Parse(["--bind", "127.0.0.1:1", "--join=127.0.0.1:2", "--join", "127.0.0.1:3", "--verbose"]);

        Assert.Equal("127.0.0.1:1", parsed.Get("bind"));
        Assert.Equal(["127.0.0.1:2", "127.0.0.1:3"], parsed.GetAll("join"));
        Assert.True(parsed.Has("verbose"));
        Assert.False(parsed.Help);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public void Help_is_recognised_anywhere(string flag)
    {
        Assert.True(Parser.Parse(["--bind", "127.0.0.1:1", flag]).Help);
    }

    [Fact]
    public void An_unknown_option_is_named()
    {
        UsageException error = Assert.Throws<UsageException>(() => Parser.Parse(["--bnd", "127.0.0.1:1"]));

        Assert.Equal("unknown option '--bnd' for 'rumor test'.", error.Message);
    }

    [Fact]
    public void A_missing_value_is_reported_with_its_shape()
    {
        UsageException error = Assert.Throws<UsageException>(() => Parser.Parse(["--bind", "--verbose"]));

        Assert.Equal("option '--bind' needs a value (ADDR:PORT).", error.Message);
    }

    [Fact]
    public void A_stray_argument_is_rejected()
    {
        UsageException error = Assert.Throws<UsageException>(() => Parser.Parse(["127.0.0.1:1"]));

        Assert.Contains("unexpected argument '127.0.0.1:1'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_single_valued_option_given_twice_is_rejected()
    {
        Assert.Throws<UsageException>(() => Parser.Parse(["--bind", "127.0.0.1:1", "--bind", "127.0.0.1:2"]));
    }

    [Fact]
    public void A_flag_takes_no_value()
    {
        Assert.Throws<UsageException>(() => Parser.Parse(["--verbose=yes"]));
    }

    [Fact]
    public void Usage_lists_every_option_and_help()
    {
        string usage = Parser.FormatUsage();

        Assert.StartsWith("Usage: rumor test [--bind ADDR:PORT] [--join ADDR:PORT ...] [--verbose]", usage, StringComparison.Ordinal);
        Assert.Contains("-h, --help", usage, StringComparison.Ordinal);
    }
}
