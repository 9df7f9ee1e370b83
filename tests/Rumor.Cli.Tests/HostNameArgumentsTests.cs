using System.Net;
using Rumor.Agent;
using Rumor.Core;

namespace Rumor.Cli.Tests;

/// <summary>Host names in <c>--join</c> and <c>--bind</c> (resolved; every address used), and event handlers on the command line.</summary>
public sealed class HostNameArgumentsTests
{
    private static readonly System.Collections.Hashtable NoEnvironment = [];

    private static string[] LocalhostAddresses(int port) =>
        [.. Dns.GetHostAddresses("localhost").Select(a => NodeAddress.From(new IPEndPoint(a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a, port)).ToString()).Distinct()];

    [Fact]
    public void A_host_name_seed_becomes_every_address_of_the_host()
    {
        string[] expected = LocalhostAddresses(7001);

        AgentSettings settings = AgentCommand.ParseArguments(["--join", "localhost:7001", "--join", "127.0.0.2:7002"])!.Load(NoEnvironment);

        Assert.NotEmpty(expected);
        Assert.Equal([.. expected, "127.0.0.2:7002"], settings.Rumor.Seeds);
    }

    [Fact]
    public void A_host_name_bind_lists_every_address_to_try_first_one_first()
    {
        string[] expected = LocalhostAddresses(0);

        AgentCommand.AgentConfig config = AgentCommand.ParseArguments(["--bind", "localhost:0"])!;

        Assert.Equal(expected, config.BindCandidates);
        Assert.Equal(expected[0], config.Load(NoEnvironment).Rumor.Bind);
        Assert.Empty(AgentCommand.ParseArguments(["--bind", "127.0.0.1:0"])!.BindCandidates);
    }

    [Theory]
    [InlineData("--join", "no-such-host.invalid:7946", "'no-such-host.invalid' cannot be resolved")]
    [InlineData("--join", "localhost:notaport", "is not an address")]
    [InlineData("--bind", "under_score:7946", "is not an address")]
    [InlineData("--event-handler", "member-jion=./x.sh", "unknown filter 'member-jion'")]
    [InlineData("--log-level", "loud", "LogLevel is 'loud'; it must be debug, information, warning or error")]
    public void Bad_names_and_handlers_are_usage_errors_naming_the_problem(string option, string value, string problem)
    {
        UsageException e = Assert.Throws<UsageException>(() => AgentCommand.ParseArguments([option, value]));
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Event_handlers_and_their_timeout_reach_the_settings()
    {
        AgentSettings settings = AgentCommand.ParseArguments(
            ["--event-handler", "member-join=./a.sh", "--event-handler", "query:load=uptime", "--event-handler-timeout", "5s"])!.Load(NoEnvironment);

        Assert.Equal(["member-join=./a.sh", "query:load=uptime"], settings.EventHandlers.Select(h => h.Text));
        Assert.Equal(TimeSpan.FromSeconds(5), settings.EventHandlerOptions.Timeout);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Information, settings.LogLevel);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, AgentCommand.ParseArguments(["--log-level", "WARN"])!.Load(NoEnvironment).LogLevel);
    }
}
