using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Rumor.Agent.Tests;

/// <summary>The HTTP API of docs/HTTP-API.md over real HTTP on 127.0.0.1, against in-process agents.</summary>
public sealed partial class ApiTests
{
    [Fact]
    public async Task Status_health_and_members_describe_the_cluster()
    {
        await using RumorAgent a = await Agents.StartAsync("api-a");
        await using RumorAgent b = await Agents.StartAsync("api-b", a);
        using HttpClient client = Agents.Client(a);

        await Agents.WaitForAliveAsync(client, 2);
        JsonElement health = await Agents.GetJsonAsync(client, "/v1/health");
        JsonElement status = await Agents.GetJsonAsync(client, "/v1/status");
        JsonElement members = await Agents.GetJsonAsync(client, "/v1/members");
        JsonElement detail = await Agents.GetJsonAsync(client, "/v1/members/api-b");

        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal("api-a", status.GetProperty("name").GetString());
        Assert.Equal("local", status.GetProperty("preset").GetString());
        Assert.Equal(a.Node.Address.ToString(), status.GetProperty("address").GetString());
        Assert.Equal(2, status.GetProperty("members").GetProperty("alive").GetInt32());
        // Counters come from the node's periodic sample: wait for one taken after the first sends.
        await Agents.EventuallyAsync("a status sample with packets sent", async () =>
        {
            JsonElement sampled = await Agents.GetJsonAsync(client, "/v1/status");
            return sampled.GetProperty("counters").GetProperty("packetsSent").GetInt64() > 0 ? "sent" : null;
        });
        Assert.Equal("api-a,api-b", string.Join(",", members.EnumerateArray().Select(m => m.GetProperty("name").GetString())));
        Assert.All(members.EnumerateArray(), m => Assert.Equal("alive", m.GetProperty("state").GetString()));
        Assert.Equal("api-b", detail.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Array, detail.GetProperty("verdicts").ValueKind);
    }

    [Fact]
    public async Task A_key_set_on_one_agent_is_read_on_the_other_and_deleted()
    {
        await using RumorAgent a = await Agents.StartAsync("kv-a");
        await using RumorAgent b = await Agents.StartAsync("kv-b", a);
        using HttpClient clientA = Agents.Client(a);
        using HttpClient clientB = Agents.Client(b);

        using HttpResponseMessage put = await clientA.PutAsJsonAsync("/v1/kv/config/db", new { value = "postgres://x" });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        JsonElement written = await put.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("kv-a", written.GetProperty("owner").GetString());
        Assert.Equal("config/db", written.GetProperty("key").GetString());

        JsonElement seen = await Agents.EventuallyAsync("config/db on kv-b", async () =>
        {
            using HttpResponseMessage response = await clientB.GetAsync("/v1/kv/config/db");
            return response.IsSuccessStatusCode ? (object)await response.Content.ReadFromJsonAsync<JsonElement>() : null;
        }) is JsonElement element ? element : default;
        Assert.Equal("postgres://x", seen[0].GetProperty("value").GetString());
        Assert.Equal("kv-a", seen[0].GetProperty("owner").GetString());
        JsonElement listed = await Agents.GetJsonAsync(clientB, "/v1/kv?prefix=config/");
        Assert.Equal(1, listed.GetArrayLength());

        using HttpResponseMessage binary = await clientA.PutAsJsonAsync("/v1/kv/bin", new { valueBase64 = Convert.ToBase64String([0xff, 0x00, 0xfe]) });
        Assert.Equal(HttpStatusCode.OK, binary.StatusCode);
        JsonElement binaryEntry = await Agents.GetJsonAsync(clientA, "/v1/kv/bin");
        Assert.Equal("/wD+", binaryEntry[0].GetProperty("valueBase64").GetString());

        using HttpResponseMessage deleted = await clientA.DeleteAsync("/v1/kv/config/db");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        await Agents.EventuallyAsync("config/db gone from kv-b", async () =>
        {
            using HttpResponseMessage response = await clientB.GetAsync("/v1/kv/config/db");
            return response.StatusCode == HttpStatusCode.NotFound ? "gone" : null;
        });
        using HttpResponseMessage notOwned = await clientB.DeleteAsync("/v1/kv/config/db");
        Assert.Equal(HttpStatusCode.NotFound, notOwned.StatusCode);
    }

    [Theory]
    [InlineData("PUT", "/v1/kv/k", "{\"value\": ", 400, "not valid JSON")]
    [InlineData("PUT", "/v1/kv/k", "", 400, "The body is empty")]
    [InlineData("PUT", "/v1/kv/k", "{\"value\":\"a\",\"valueBase64\":\"YQ==\"}", 400, "exactly one of value")]
    [InlineData("PUT", "/v1/kv/k", "{\"valueBase64\":\"***\"}", 400, "not valid base64")]
    [InlineData("PUT", "/v1/kv/k", "{\"value\":\"a\",\"ttlMs\":-1}", 400, "ttlMs is -1")]
    [InlineData("POST", "/v1/join", "{\"seeds\":[\"localhost:7946\"]}", 400, "seed 'localhost:7946' is not an address")]
    [InlineData("POST", "/v1/join", "{\"seeds\":[]}", 400, "seeds is missing or empty")]
    [InlineData("POST", "/v1/leave", "{\"timeoutMs\":0}", 400, "timeoutMs is 0")]
    [InlineData("GET", "/v1/members/nobody", null, 404, "No member named 'nobody'")]
    [InlineData("GET", "/v1/members?state=zombie", null, 400, "state 'zombie' is not a member state")]
    [InlineData("GET", "/v1/kv/missing", null, 404, "No member has a key 'missing'")]
    [InlineData("DELETE", "/v1/kv/missing", null, 404, "owns no key 'missing'")]
    [InlineData("GET", "/v1/stream?kinds=member,bogus", null, 400, "kind 'bogus' is not streamed")]
    public async Task Bad_input_gets_problem_details_naming_the_mistake(string method, string path, string? body, int status, string detail)
    {
        await using RumorAgent a = await Agents.StartAsync("bad-input");
        using HttpClient client = Agents.Client(a);
        using HttpRequestMessage request = new(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using HttpResponseMessage response = await client.SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_over_the_limit_is_refused_with_the_limit_named()
    {
        await using RumorAgent a = await Agents.StartAsync("long-key");
        using HttpClient client = Agents.Client(a);

        using HttpResponseMessage response = await client.PutAsJsonAsync("/v1/kv/" + new string('k', 600), new { value = "v" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("KeyMaxBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_watch_receives_a_change_made_on_another_agent()
    {
        await using RumorAgent a = await Agents.StartAsync("watch-a");
        await using RumorAgent b = await Agents.StartAsync("watch-b", a);
        using HttpClient clientA = Agents.Client(a);
        using HttpClient clientB = Agents.Client(b);
        using CancellationTokenSource bound = new(Agents.Bound);

        using HttpResponseMessage response = await clientA.GetAsync("/v1/kv/watch?prefix=feature/", HttpCompletionOption.ResponseHeadersRead, bound.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using StreamReader reader = new(await response.Content.ReadAsStreamAsync(bound.Token));
        Assert.Equal(": subscribed", await reader.ReadLineAsync(bound.Token));

        using HttpResponseMessage ignored = await clientB.PutAsJsonAsync("/v1/kv/other", new { value = "not watched" }, bound.Token);
        using HttpResponseMessage put = await clientB.PutAsJsonAsync("/v1/kv/feature/dark-mode", new { value = "on" }, bound.Token);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        (string name, JsonElement data) = await ReadEventAsync(reader, bound.Token);
        Assert.Equal("change", name);
        Assert.Equal("watch-b", data.GetProperty("owner").GetString());
        Assert.Equal("feature/dark-mode", data.GetProperty("key").GetString());
        Assert.Equal("on", data.GetProperty("newValue").GetString());
    }

    [Fact]
    public async Task The_stream_reports_a_member_joining_and_a_key_change()
    {
        await using RumorAgent a = await Agents.StartAsync("stream-a");
        using HttpClient client = Agents.Client(a);
        using CancellationTokenSource bound = new(Agents.Bound);
        using HttpResponseMessage response = await client.GetAsync("/v1/stream", HttpCompletionOption.ResponseHeadersRead, bound.Token);
        using StreamReader reader = new(await response.Content.ReadAsStreamAsync(bound.Token));
        Assert.Equal(": subscribed", await reader.ReadLineAsync(bound.Token));

        await using RumorAgent b = await Agents.StartAsync("stream-b", a);
        (string memberEvent, JsonElement member) = await ReadEventAsync(reader, bound.Token);
        using HttpResponseMessage put = await client.PutAsJsonAsync("/v1/kv/x", new { value = "1" }, bound.Token);
        (string kvEvent, JsonElement kv) = await ReadEventAsync(reader, bound.Token);

        Assert.Equal("member", memberEvent);
        Assert.Equal("stream-b", member.GetProperty("name").GetString());
        Assert.Equal("joined", member.GetProperty("kind").GetString());
        Assert.Equal("alive", member.GetProperty("state").GetString());
        Assert.Equal("kv", kvEvent);
        Assert.Equal("x", kv.GetProperty("key").GetString());
    }

    [Fact]
    public async Task Metrics_are_prometheus_text_with_the_members_gauge()
    {
        await using RumorAgent a = await Agents.StartAsync("metrics-a");
        await using RumorAgent b = await Agents.StartAsync("metrics-b", a);
        using HttpClient client = Agents.Client(a);
        await Agents.WaitForAliveAsync(client, 2);

        // OpenTelemetry writes a histogram once it holds a measurement: wait for a probe's round trip.
        await Agents.EventuallyAsync("a probe round trip in the histogram", async () =>
            (await client.GetStringAsync("/metrics")).Contains("rumor_probe_rtt_milliseconds_count", StringComparison.Ordinal) ? "yes" : null);
        using HttpResponseMessage response = await client.GetAsync("/metrics");
        string text = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("0.0.4", response.Content.Headers.ContentType?.Parameters.Single(p => p.Name == "version").Value);
        Dictionary<string, string> types = [];
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                string[] parts = line.Split(' ');
                Assert.Equal(4, parts.Length);
                Assert.Contains(parts[3], (string[])["counter", "gauge", "histogram"]);
                types[parts[2]] = parts[3];
            }
            else if (!line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                Assert.Matches(SampleLine(), line);
            }
        }

        Assert.Equal("gauge", types["rumor_members"]);
        Assert.Contains("rumor_members{state=\"alive\"} 2\n", text, StringComparison.Ordinal);
        Assert.Equal("counter", types["rumor_bytes_sent_bytes_total"]);
        Assert.Equal("counter", types["rumor_packets_received_total"]);
        Assert.Equal("counter", types["rumor_view_syncs_total"]);
        Assert.Equal("histogram", types["rumor_probe_rtt_milliseconds"]);
        Assert.Contains("rumor_probe_rtt_milliseconds_bucket{le=\"+Inf\"} ", text, StringComparison.Ordinal);
        Assert.Contains("rumor_drops_total{reason=\"broadcast_queue\"} ", text, StringComparison.Ordinal);
        Assert.All(types.Where(t => t.Value == "counter"), t => Assert.EndsWith("_total", t.Key, StringComparison.Ordinal));
        Assert.Contains("service_instance_id=\"metrics-a\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("metrics-b", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_a_leave_health_says_unavailable()
    {
        await using RumorAgent a = await Agents.StartAsync("leave-a");
        await using RumorAgent b = await Agents.StartAsync("leave-b", a);
        using HttpClient clientA = Agents.Client(a);
        using HttpClient clientB = Agents.Client(b);

        using HttpResponseMessage leave = await clientB.PostAsJsonAsync("/v1/leave", new { timeoutMs = 3000 });
        using HttpResponseMessage health = await clientB.GetAsync("/v1/health");

        Assert.Equal(HttpStatusCode.OK, leave.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        await Agents.EventuallyAsync("leave-b seen as left", async () =>
        {
            JsonElement member = await Agents.GetJsonAsync(clientA, "/v1/members/leave-b");
            return member.GetProperty("state").GetString() == "left" ? "left" : null;
        });
    }

    private static async Task<(string Name, JsonElement Data)> ReadEventAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        string? name = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && name is not null)
            {
                return (name, JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone());
            }
        }

        throw new EndOfStreamException("The event stream ended.");
    }

    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*=""([^""\\]|\\.)*"",?)*\})? (-?[0-9.eE+-]+|\+Inf|-Inf|NaN)( -?[0-9]+)?$")]
    private static partial Regex SampleLine();
}
