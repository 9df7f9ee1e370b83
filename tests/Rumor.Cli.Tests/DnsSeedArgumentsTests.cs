using System.Collections;
using Rumor.Agent;
using Rumor.Hosting;

namespace Rumor.Cli.Tests;

public sealed class DnsSeedArgumentsTests
{
    [Fact]
    public void Join_takes_a_dns_seed_next_to_addresses()
    {
        AgentSettings settings = AgentCommand.ParseArguments(["--name", "n", "--bind", "127.0.0.1:0", "--join", "dns:Rumor.Chaos:7946", "--join", "127.0.0.1:7001", "--join", "dns:seeds.local"])!.Load(new Hashtable());
        Assert.Equal(["dns:rumor.chaos:7946", "127.0.0.1:7001", "dns:seeds.local:7946"], settings.Rumor.Seeds);
        ResolvedRumorOptions resolved = ResolvedRumorOptions.Resolve(settings.Rumor);
        Assert.Equal([new DnsSeed("rumor.chaos", 7946), new DnsSeed("seeds.local", 7946)], resolved.DnsSeeds);
    }

    [Fact]
    public void A_bad_dns_seed_is_a_usage_error_naming_it()
    {
        UsageException error = Assert.Throws<UsageException>(() => AgentCommand.ParseArguments(["--join", "dns:rumor:99999"]));
        Assert.Contains("dns:rumor:99999", error.Message, StringComparison.Ordinal);
        Assert.Contains("port", error.Message, StringComparison.Ordinal);
    }
}
