using System.Collections;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Rumor.Agent.Tests;

/// <summary>The agent's clock and its OpenTelemetry options.</summary>
public sealed class AgentShellTests
{
    [Fact]
    public async Task Uptime_is_read_from_the_agents_TimeProvider()
    {
        FakeTimeProvider time = new(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        await using RumorAgent agent = await Agents.StartAsync("clock-a", leaveOnStop: false, time: time);
        using HttpClient client = Agents.Client(agent);

        JsonElement before = await Agents.GetJsonAsync(client, "/v1/status");
        time.Advance(TimeSpan.FromSeconds(90));
        JsonElement after = await Agents.GetJsonAsync(client, "/v1/status");

        Assert.Equal(0, before.GetProperty("uptimeMs").GetInt64());
        Assert.Equal(90_000, after.GetProperty("uptimeMs").GetInt64());
        Assert.Same(time, agent.Node.TimeProvider);
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData("http://collector:4317", null, "http://collector:4317/")]
    [InlineData(null, "http://standard:4317", "http://standard:4317/")]
    [InlineData("http://ours:4317", "http://standard:4317", "http://ours:4317/")]
    public void The_OTLP_endpoint_comes_from_RUMOR_OTLPENDPOINT_else_the_standard_variable(string? ours, string? standard, string? expected)
    {
        Hashtable environment = [];
        if (ours is not null)
        {
            environment["RUMOR_OTLPENDPOINT"] = ours;
        }

        if (standard is not null)
        {
            environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = standard;
        }

        AgentSettings settings = AgentConfiguration.Load(null, new Dictionary<string, string?>(), [], environment);

        Assert.Equal(expected, settings.OtlpEndpoint?.ToString());
    }

    [Fact]
    public void A_bad_OTLP_endpoint_is_refused_naming_the_option()
    {
        Hashtable environment = new() { ["RUMOR_OTLPENDPOINT"] = "collector:4317" };

        AgentConfigurationException error = Assert.Throws<AgentConfigurationException>(() => AgentConfiguration.Load(null, new Dictionary<string, string?>(), [], environment));

        Assert.StartsWith("OtlpEndpoint 'collector:4317' is not an http:// or https:// URL", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_agent_with_an_OTLP_endpoint_starts_and_still_serves_metrics()
    {
        // Nothing listens on the endpoint: export failures are the exporter's to log, never the agent's to fail on.
        Rumor.Hosting.RumorOptions options = new() { Name = "otlp-a", Bind = "127.0.0.1:0", Preset = "local", LeaveOnStop = false };
        await using RumorAgent agent = await RumorAgent.StartAsync(new AgentSettings(options, Rumor.Core.NodeAddress.Parse("127.0.0.1:0")) { OtlpEndpoint = new Uri("http://127.0.0.1:9") });
        using HttpClient client = Agents.Client(agent);

        string metrics = await client.GetStringAsync("/metrics");

        Assert.Contains("rumor_members{state=\"alive\"} 1", metrics, StringComparison.Ordinal);
    }
}
