using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;

namespace Rumor.Agent.Tests;

/// <summary>
/// The agent builds its meter provider and Prometheus exporter at the first scrape of <c>/metrics</c>
/// (<see cref="PrometheusScrape"/>), not at start; what was counted before that scrape must still be in it.
/// </summary>
public sealed class LazyMetricsTests
{
    [Fact]
    public async Task The_first_scrape_builds_the_exporter_and_reports_what_was_counted_before_it()
    {
        await using RumorAgent a = await Agents.StartAsync("lazy-a");
        await using RumorAgent b = await Agents.StartAsync("lazy-b", a);
        using HttpClient client = Agents.Client(a);
        await Agents.WaitForAliveAsync(client, 2);

        // /v1/status takes samples, and each sample hands the probe round trips it finds to the
        // histogram: wait until some were found while nothing listened to it yet.
        await Agents.EventuallyAsync("probe round trips found before any scrape", async () =>
            (await Agents.GetJsonAsync(client, "/v1/status")).GetProperty("probeRttMs").GetArrayLength() > 0 ? "yes" : null);
        PrometheusScrape scrape = a.Services.GetRequiredService<PrometheusScrape>();
        Assert.False(scrape.Built, "the exporter was built before the first scrape");

        // No more round trips after this: b is gone, and one more sample takes what a still had.
        await b.DisposeAsync();
        JsonElement status = await Agents.GetJsonAsync(client, "/v1/status");
        long packetsSent = status.GetProperty("counters").GetProperty("packetsSent").GetInt64();
        Assert.True(packetsSent > 0);

        string text = await client.GetStringAsync("/metrics");
        Assert.True(scrape.Built);

        // The gossip counters (observable: read from the node at the scrape) hold everything since the start.
        Assert.True(Value(text, "rumor_packets_sent_total") >= packetsSent, text);
        Assert.True(Value(text, "rumor_packets_received_total") > 0, text);
        Assert.Contains("rumor_members{state=\"alive\"} ", text, StringComparison.Ordinal);

        // The histogram was recorded to before the exporter existed: those round trips are in the first scrape.
        Assert.True(Value(text, "rumor_probe_rtt_milliseconds_count") > 0, text);
    }

    /// <summary>The value of the one series named <paramref name="name"/> (no labels), or a failure naming it.</summary>
    private static double Value(string text, string name)
    {
        Match match = Regex.Match(text, "^" + Regex.Escape(name) + @"(?:\{[^}]*\})? (\S+)", RegexOptions.Multiline);
        Assert.True(match.Success, $"{name} is not in the scrape:\n{text}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
