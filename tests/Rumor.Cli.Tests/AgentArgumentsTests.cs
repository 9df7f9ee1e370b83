using System.Text;
using Rumor.Core;

namespace Rumor.Cli.Tests;

public sealed class AgentArgumentsTests
{
    [Fact]
    public void A_full_command_line_becomes_options()
    {
        AgentCommand.AgentConfig config = AgentCommand.ParseArguments(
            ["--name", "n1", "--bind", "127.0.0.1:7000", "--join", "127.0.0.1:7001", "--join", "[::1]:7002", "--preset", "LOCAL", "--meta", "role=web", "--meta", "zone=a=b"])!;

        Assert.Equal("n1", config.Options.Name);
        Assert.Equal(NodeAddress.Parse("127.0.0.1:7000"), config.Bind);
        Assert.True(config.Options.AdvertiseAddress.IsEmpty); // The transport advertises the bound address.
        Assert.Equal([NodeAddress.Parse("127.0.0.1:7001"), NodeAddress.Parse("[::1]:7002")], config.Options.Seeds);
        Assert.Equal(GossipOptions.Local.ProbeInterval, config.Options.ProbeInterval);
        Assert.Equal("local", config.Preset);
        Assert.Equal("role=web\nzone=a=b", Encoding.UTF8.GetString(config.Options.Metadata));
    }

    [Theory]
    [InlineData("--bind", "127.0.0.1")]
    [InlineData("--bind", "localhost:7946")]
    [InlineData("--join", "127.0.0.1:99999")]
    [InlineData("--advertise", "::1:7946")]
    public void A_bad_address_is_named(string option, string value)
    {
        UsageException error = Assert.Throws<UsageException>(() => AgentCommand.ParseArguments([option, value]));

        Assert.Equal($"{option}: '{value}' is not an address: expected IPv4:port (127.0.0.1:7946) or [IPv6]:port ([::1]:7946).", error.Message);
    }

    [Fact]
    public void An_unknown_preset_lists_the_known_ones()
    {
        UsageException error = Assert.Throws<UsageException>(() => AgentCommand.ParseArguments(["--bind", "127.0.0.1:0", "--preset", "fast"]));

        Assert.Equal("unknown preset 'fast': expected lan, wan or local.", error.Message);
    }

    [Theory]
    [InlineData("role")]
    [InlineData("=web")]
    public void A_malformed_tag_is_rejected(string tag)
    {
        Assert.Throws<UsageException>(() => AgentCommand.ParseArguments(["--bind", "127.0.0.1:0", "--meta", tag]));
    }

    [Fact]
    public void A_repeated_tag_is_rejected()
    {
        Assert.Throws<UsageException>(() => AgentCommand.ParseArguments(["--bind", "127.0.0.1:0", "--meta", "a=1", "--meta", "a=2"]));
    }

    [Fact]
    public void Tags_round_trip()
    {
        byte[] encoded = MetadataTags.Encode([new("role", "web"), new("zone", "eu=1")]);

        Assert.Equal([new("role", "web"), new("zone", "eu=1")], MetadataTags.Decode(encoded));
    }

    [Fact]
    public void Help_returns_no_config()
    {
        Assert.Null(AgentCommand.ParseArguments(["--help"]));
    }
}
