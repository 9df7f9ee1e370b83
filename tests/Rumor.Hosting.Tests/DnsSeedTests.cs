using System.Net;
using System.Net.Sockets;
using Rumor.Core;

namespace Rumor.Hosting.Tests;

public sealed class DnsSeedTests
{
    [Theory]
    [InlineData("dns:rumor.default.svc.cluster.local", "rumor.default.svc.cluster.local", 7946)]
    [InlineData("dns:rumor-headless:8000", "rumor-headless", 8000)]
    [InlineData("DNS:Seeds.Example.COM.:7946", "seeds.example.com", 7946)]
    [InlineData("  dns:a_b.c  ", "a_b.c", 7946)]
    public void Parses_a_name_and_an_optional_port(string text, string host, int port)
    {
        Assert.True(DnsSeed.IsDnsSeed(text));
        Assert.True(DnsSeed.TryParse(text, out DnsSeed seed, out string? problem), problem);
        Assert.Equal(new DnsSeed(host, port), seed);
        Assert.Equal($"dns:{host}:{port}", seed.ToString());
        Assert.Equal(seed, DnsSeed.Parse(seed.ToString()));
    }

    [Theory]
    [InlineData("dns:", "empty")]
    [InlineData("dns::7946", "empty")]
    [InlineData("dns:rumor:0", "port '0'")]
    [InlineData("dns:rumor:65536", "port '65536'")]
    [InlineData("dns:rumor:http", "port 'http'")]
    [InlineData("dns:-bad.example", "not a host name")]
    [InlineData("dns:bad..example", "empty label")]
    [InlineData("dns:with space", "not a host name")]
    [InlineData("dns:[::1]:7946", "not a host name")]
    public void Refuses_what_is_not_a_name(string text, string reason)
    {
        Assert.False(DnsSeed.TryParse(text, out _, out string? problem));
        Assert.Contains(reason, problem, StringComparison.Ordinal);
        FormatException error = Assert.Throws<FormatException>(() => DnsSeed.Parse(text));
        Assert.Contains("dns:NAME[:PORT]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_address_is_not_a_dns_seed()
    {
        Assert.False(DnsSeed.IsDnsSeed("127.0.0.1:7946"));
        Assert.False(DnsSeed.IsDnsSeed(null));
        Assert.False(DnsSeed.TryParse("127.0.0.1:7946", out _, out _));
    }

    [Fact]
    public void Options_keep_dns_seeds_apart_and_name_a_bad_one()
    {
        RumorOptions options = new() { Name = "n", Bind = "127.0.0.1:0", Seeds = ["127.0.0.1:7001", "dns:rumor.local:7002", "dns:rumor.local"] };
        ResolvedRumorOptions resolved = ResolvedRumorOptions.Resolve(options);
        Assert.Equal([NodeAddress.Parse("127.0.0.1:7001")], resolved.Options.Seeds);
        Assert.Equal([new DnsSeed("rumor.local", 7002), new DnsSeed("rumor.local", 7946)], resolved.DnsSeeds);

        Assert.Null(ResolvedRumorOptions.TryResolve(new RumorOptions { Name = "n", Bind = "127.0.0.1:0", Seeds = ["dns:bad:port"] }, out IReadOnlyList<string> problems));
        Assert.Contains(problems, p => p.Contains("Seeds[0] 'dns:bad:port'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Resolves_every_record_of_the_family_asked_for_without_duplicates()
    {
        IPAddress[] records = [IPAddress.Parse("10.0.0.1"), IPAddress.Parse("fd00:1::1"), IPAddress.Parse("10.0.0.2"), IPAddress.Parse("10.0.0.1")];
        DnsSeed seed = new("rumor.local", 7946);
        Task<IPAddress[]> Resolver(string host, CancellationToken token) =>
            host == "rumor.local" ? Task.FromResult(records) : throw new SocketException((int)SocketError.HostNotFound);

        Assert.Equal(
            [NodeAddress.Parse("10.0.0.1:7946"), NodeAddress.Parse("[fd00:1::1]:7946"), NodeAddress.Parse("10.0.0.2:7946")],
            await seed.ResolveAsync(resolver: Resolver));
        Assert.Equal([NodeAddress.Parse("10.0.0.1:7946"), NodeAddress.Parse("10.0.0.2:7946")], await seed.ResolveAsync(AddressFamily.InterNetwork, Resolver));
        Assert.Equal([NodeAddress.Parse("[fd00:1::1]:7946")], await seed.ResolveAsync(AddressFamily.InterNetworkV6, Resolver));
        Assert.Empty(await new DnsSeed("missing.local", 7946).ResolveAsync(resolver: Resolver));
    }

    [Fact]
    public async Task Resolves_through_the_system_resolver()
    {
        IReadOnlyList<NodeAddress> addresses = await new DnsSeed("localhost", 7946).ResolveAsync(AddressFamily.InterNetwork);
        Assert.Contains(NodeAddress.Parse("127.0.0.1:7946"), addresses);
    }
}
