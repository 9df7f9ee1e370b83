using System.Collections;
using System.Text;
using Rumor.Agent;
using Rumor.Core;
using Rumor.Hosting;

namespace Rumor.Cli.Tests;

public sealed class AgentArgumentsTests
{
    private static readonly Hashtable NoEnvironment = [];

    [Fact]
    public void A_full_command_line_becomes_options()
    {
        AgentCommand.AgentConfig config = AgentCommand.ParseArguments(
            ["--name", "n1", "--bind", "127.0.0.1:7000", "--join", "127.0.0.1:7001", "--join", "[::1]:7002", "--preset", "LOCAL", "--meta", "role=web", "--tag", "zone=a=b", "--http", "127.0.0.1:0", "--data-dir", "/tmp/rumor-n1"])!;
        AgentSettings settings = config.Load(NoEnvironment);
        ResolvedRumorOptions resolved = ResolvedRumorOptions.Resolve(settings.Rumor);

        Assert.Equal("n1", resolved.Options.Name);
        Assert.Equal(NodeAddress.Parse("127.0.0.1:7000"), resolved.Bind);
        Assert.True(resolved.Options.AdvertiseAddress.IsEmpty); // The transport advertises the bound address.
        Assert.Equal([NodeAddress.Parse("127.0.0.1:7001"), NodeAddress.Parse("[::1]:7002")], resolved.Options.Seeds);
        Assert.Equal(GossipOptions.Local.ProbeInterval, resolved.Options.ProbeInterval);
        Assert.Equal("local", resolved.Preset);
        Assert.Equal("role=web\nzone=a=b", Encoding.UTF8.GetString(resolved.Options.Metadata));
        Assert.Equal(NodeAddress.Parse("127.0.0.1:0"), settings.Http);
        Assert.Equal("/tmp/rumor-n1", settings.Rumor.DataDirectory);
        Assert.True(settings.Rumor.JoinRequired);
    }

    [Fact]
    public void Flags_beat_the_environment_which_beats_the_file()
    {
        string file = Path.Combine(Path.GetTempPath(), $"rumor-agent-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """{"name":"from-file","preset":"wan","http":"127.0.0.1:9001","seeds":["127.0.0.1:9100","127.0.0.1:9101"],"tags":{"role":"file","dc":"one"}}""");
        try
        {
            Hashtable environment = new() { ["RUMOR_PRESET"] = "local", ["RUMOR_TAGS__role"] = "env", ["RUMOR_HTTP"] = "127.0.0.1:9002", ["OTHER"] = "x" };

            AgentSettings fileOnly = AgentCommand.ParseArguments(["--config", file])!.Load(NoEnvironment);
            AgentSettings withEnvironment = AgentCommand.ParseArguments(["--config", file])!.Load(environment);
            AgentSettings withFlags = AgentCommand.ParseArguments(["--config", file, "--name", "flag", "--join", "127.0.0.1:9200", "--http", "127.0.0.1:9003"])!.Load(environment);

            Assert.Equal("from-file", fileOnly.Rumor.Name);
            Assert.Equal("wan", fileOnly.Rumor.Preset);
            Assert.Equal(["127.0.0.1:9100", "127.0.0.1:9101"], fileOnly.Rumor.Seeds);
            Assert.Equal("local", withEnvironment.Rumor.Preset);
            Assert.Equal("env", withEnvironment.Rumor.Tags["role"]);
            Assert.Equal("one", withEnvironment.Rumor.Tags["dc"]);
            Assert.Equal(NodeAddress.Parse("127.0.0.1:9002"), withEnvironment.Http);
            Assert.Equal("flag", withFlags.Rumor.Name);
            Assert.Equal(["127.0.0.1:9200"], withFlags.Rumor.Seeds); // Replaced, not merged by index.
            Assert.Equal(NodeAddress.Parse("127.0.0.1:9003"), withFlags.Http);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Seeds_from_the_environment_may_be_a_comma_list()
    {
        AgentSettings settings = AgentCommand.ParseArguments([])!.Load(new Hashtable { ["RUMOR_SEEDS"] = "127.0.0.1:1, 127.0.0.1:2" });

        Assert.Equal(["127.0.0.1:1", "127.0.0.1:2"], settings.Rumor.Seeds);
    }

    [Fact]
    public void A_missing_or_broken_config_file_is_named()
    {
        string file = Path.Combine(Path.GetTempPath(), $"rumor-agent-{Guid.NewGuid():N}.json");
        AgentConfigurationException missing = Assert.Throws<AgentConfigurationException>(() => AgentCommand.ParseArguments(["--config", file])!.Load(NoEnvironment));
        Assert.Contains($"{file} does not exist", missing.Message, StringComparison.Ordinal);

        File.WriteAllText(file, "{\"name\": ");
        try
        {
            AgentConfigurationException broken = Assert.Throws<AgentConfigurationException>(() => AgentCommand.ParseArguments(["--config", file])!.Load(NoEnvironment));
            Assert.Contains("is not valid JSON", broken.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_bad_http_address_from_the_environment_is_named()
    {
        AgentConfigurationException error = Assert.Throws<AgentConfigurationException>(() => AgentCommand.ParseArguments([])!.Load(new Hashtable { ["RUMOR_HTTP"] = "localhost" }));

        Assert.StartsWith("Http 'localhost' is not an address", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--bind", "127.0.0.1")]
    [InlineData("--bind", "bad_host:7946")]
    [InlineData("--join", "127.0.0.1:99999")]
    [InlineData("--advertise", "::1:7946")]
    [InlineData("--http", "127.0.0.1")]
    public void A_bad_address_is_named(string option, string value)
    {
        UsageException error = Assert.Throws<UsageException>(() => AgentCommand.ParseArguments([option, value]));

        string hostNames = option is "--bind" or "--join" ? " or host:port" : string.Empty;
        Assert.Equal($"{option}: '{value}' is not an address: expected IPv4:port (127.0.0.1:7946) or [IPv6]:port ([::1]:7946){hostNames}.", error.Message);
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
