using System.Net;
using System.Net.Sockets;
using Rumor.Agent;

namespace Rumor.Client.Tests;

/// <summary>Base-address joining, and the two ways a call fails before the API answers.</summary>
public sealed class AddressTests
{
    [Theory]
    [InlineData("http://h:7373", "http://h:7373/")]
    [InlineData("http://h:7373/", "http://h:7373/")]
    [InlineData("http://h:7373/v1", "http://h:7373/")]
    [InlineData("http://h:7373/v1/", "http://h:7373/")]
    [InlineData("http://h:7373/rumor", "http://h:7373/rumor/")]
    [InlineData("http://h:7373/rumor/v1/", "http://h:7373/rumor/")]
    [InlineData("https://h/x/?q=1#f", "https://h/x/")]
    public void The_base_address_ends_with_a_slash_and_never_doubles_v1(string given, string expected)
    {
        Uri normalized = RumorClient.NormalizeBaseAddress(new Uri(given));

        Assert.Equal(expected, normalized.AbsoluteUri);
        Assert.Equal(expected + "v1/members", new Uri(normalized, "v1/members").AbsoluteUri);
    }

    [Theory]
    [InlineData("127.0.0.1:7373", "http://127.0.0.1:7373/")]
    [InlineData("http://[::1]:7373/v1/", "http://[::1]:7373/")]
    [InlineData("agent.local:80", "http://agent.local/")]
    public void Addresses_parse_as_people_type_them(string text, string expected)
    {
        Assert.True(RumorClient.TryParseAddress(text, out Uri address));
        Assert.Equal(expected, address.AbsoluteUri);
    }

    [Theory]
    [InlineData("ftp://h:21")]
    [InlineData("http://h:7373/?x=1")]
    [InlineData("http://")]
    public void Other_addresses_are_refused(string text)
    {
        Assert.False(RumorClient.TryParseAddress(text, out _));
        Assert.Throws<ArgumentException>(() => new RumorClient(new Uri("ftp://h:21")));
    }

    [Fact]
    public async Task A_base_address_with_v1_reaches_the_agent()
    {
        await using RumorAgent a = await Agents.StartAsync("addr-v1");
        using RumorClient client = new(new Uri(a.Url, "v1/"));
        using HttpClient http = new() { BaseAddress = new Uri(a.Url, "v1") };
        using RumorClient over = new(http);

        Assert.Equal("addr-v1", (await client.GetStatusAsync()).Name);
        Assert.Equal("ok", (await over.GetHealthAsync()).Status);
    }

    [Fact]
    public async Task Nothing_listening_is_unreachable_not_an_api_error()
    {
        using RumorClient client = new(new Uri($"http://127.0.0.1:{ClosedPort()}"), TimeSpan.FromSeconds(5));

        RumorUnreachableException e = await Assert.ThrowsAsync<RumorUnreachableException>(() => client.GetStatusAsync());
        RumorUnreachableException stream = await Assert.ThrowsAsync<RumorUnreachableException>(() => client.StreamAsync());

        Assert.Equal("connection refused", e.Message);
        Assert.Equal("connection refused", stream.Message);
    }

    [Fact]
    public async Task A_server_that_never_answers_is_unreachable_after_the_timeout()
    {
        using TcpListener silent = new(IPAddress.Loopback, 0);
        silent.Start();
        using RumorClient client = new(new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}"), TimeSpan.FromMilliseconds(500));

        RumorUnreachableException e = await Assert.ThrowsAsync<RumorUnreachableException>(() => client.GetHealthAsync());

        Assert.Equal("no answer within 0.5 s", e.Message);
    }

    [Fact]
    public async Task A_path_the_agent_does_not_serve_is_an_api_error_with_its_problem()
    {
        await using RumorAgent a = await Agents.StartAsync("addr-404");
        using RumorClient client = new(new Uri(a.Url, "elsewhere/"));

        RumorApiException e = await Assert.ThrowsAsync<RumorApiException>(() => client.GetStatusAsync());

        Assert.Equal(404, e.Status);
        Assert.Equal("This agent serves no GET /elsewhere/v1/status (the API is in docs/HTTP-API.md).", e.Detail);
    }

    private static int ClosedPort()
    {
        using TcpListener listener = new(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
