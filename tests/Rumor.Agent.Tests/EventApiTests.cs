using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Rumor.Agent.Tests;

/// <summary>User events and queries through the HTTP API of in-process agents on 127.0.0.1.</summary>
public sealed class EventApiTests
{
    [Fact]
    public async Task An_event_sent_on_one_agent_is_listed_on_the_others_and_streamed()
    {
        await using RumorAgent a = await Agents.StartAsync("ev-a");
        await using RumorAgent b = await Agents.StartAsync("ev-b", a);
        await using RumorAgent c = await Agents.StartAsync("ev-c", a);
        using HttpClient clientA = Agents.Client(a);
        using HttpClient clientC = Agents.Client(c);
        await Agents.WaitForAliveAsync(clientC, 3);

        using CancellationTokenSource streamCancel = new(Agents.Bound);
        using HttpClient streamClient = new() { BaseAddress = c.Url, Timeout = Timeout.InfiniteTimeSpan };
        using HttpResponseMessage stream = await streamClient.GetAsync("/v1/stream?kinds=event", HttpCompletionOption.ResponseHeadersRead, streamCancel.Token);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        using StreamReader reader = new(await stream.Content.ReadAsStreamAsync(streamCancel.Token));
        Assert.StartsWith(":", await reader.ReadLineAsync(streamCancel.Token)); // subscribed

        using HttpResponseMessage sent = await clientA.PostAsJsonAsync("/v1/events", new { name = "deploy", payload = "v42" });
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        JsonElement sentBody = await sent.Content.ReadFromJsonAsync<JsonElement>();
        string id = sentBody.GetProperty("id").GetString()!;
        Assert.StartsWith("ev-a/", id, StringComparison.Ordinal);
        Assert.True(sentBody.GetProperty("lamportTime").GetUInt64() > 0);

        string? eventLine = null;
        while (eventLine is null)
        {
            string? line = await reader.ReadLineAsync(streamCancel.Token);
            Assert.NotNull(line);
            if (line == "event: user")
            {
                eventLine = await reader.ReadLineAsync(streamCancel.Token);
            }
        }

        JsonElement streamed = JsonDocument.Parse(eventLine!["data: ".Length..]).RootElement;
        Assert.Equal("deploy", streamed.GetProperty("name").GetString());
        Assert.Equal("v42", streamed.GetProperty("payload").GetString());
        Assert.Equal(id, streamed.GetProperty("id").GetString());

        JsonElement listed = await Agents.EventuallyAsync("the event listed on ev-c", async () =>
        {
            JsonElement events = await Agents.GetJsonAsync(clientC, "/v1/events");
            return events.GetArrayLength() == 1 ? (object)events : null;
        }) is JsonElement e ? e : default;
        Assert.Equal("ev-a", listed[0].GetProperty("origin").GetString());
        Assert.Equal("v42", listed[0].GetProperty("payload").GetString());
    }

    [Fact]
    public async Task A_query_with_a_tag_filter_gets_exactly_the_matching_answers()
    {
        await using RumorAgent a = await Agents.StartAsync("q-a", tags: new() { ["role"] = "db" });
        await using RumorAgent b = await Agents.StartAsync("q-b", a, tags: new() { ["role"] = "web" });
        await using RumorAgent c = await Agents.StartAsync("q-c", a, tags: new() { ["role"] = "web" });
        using HttpClient clientA = Agents.Client(a);
        await Agents.WaitForAliveAsync(clientA, 3);
        using HttpClient clientB = Agents.Client(b);
        using HttpResponseMessage put = await clientB.PutAsJsonAsync("/v1/kv/load", new { value = "0.7" });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        // The expected set is q-a's view of the alive members with the tag at the moment of the
        // query. Under CI load (local preset, 200 ms probe timeout) q-a may suspect a member for a
        // moment (once in a fresh-clone run: expected "q-b" alone); the filter is what is tested
        // here, so a query taken in such a moment is asked again, a bounded number of times.
        JsonElement result = default;
        string expected = string.Empty;
        for (int attempt = 1; attempt <= 5; attempt++)
        {
            using HttpResponseMessage ping = await clientA.PostAsJsonAsync("/v1/query", new { name = "rumor.ping", filter = new Dictionary<string, string> { ["role"] = "web" }, timeoutMs = 5000 });
            Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
            result = await ping.Content.ReadFromJsonAsync<JsonElement>();
            expected = string.Join(",", result.GetProperty("expected").EnumerateArray().Select(x => x.GetString()).Order(StringComparer.Ordinal));
            if (expected == "q-b,q-c")
            {
                break;
            }

            await Agents.WaitForAliveAsync(clientA, 3);
        }

        Assert.Equal("q-b,q-c", expected);
        Assert.Equal("q-b,q-c", string.Join(",", result.GetProperty("responses").EnumerateArray().Select(r => r.GetProperty("from").GetString()).Order(StringComparer.Ordinal)));
        Assert.All(result.GetProperty("responses").EnumerateArray(), r => Assert.Equal(r.GetProperty("from").GetString(), r.GetProperty("payload").GetString()));
        Assert.Equal(0, result.GetProperty("missing").GetArrayLength());
        Assert.True(result.GetProperty("done").GetBoolean());

        // rumor.kv answers each member's own value of the key: only q-b has one.
        using HttpResponseMessage kv = await clientA.PostAsJsonAsync("/v1/query", new { name = "rumor.kv", payload = "load", timeoutMs = 5000 });
        JsonElement kvResult = await kv.Content.ReadFromJsonAsync<JsonElement>();
        Dictionary<string, string?> answers = kvResult.GetProperty("responses").EnumerateArray()
            .ToDictionary(r => r.GetProperty("from").GetString()!, r => r.TryGetProperty("payload", out JsonElement p) ? p.GetString() : null);
        Assert.Equal(3, answers.Count);
        Assert.Equal("0.7", answers["q-b"]);
        Assert.Equal(string.Empty, answers["q-a"]);
    }

    [Theory]
    [InlineData("/v1/events", "{\"payload\":\"x\"}", "name is missing")]
    [InlineData("/v1/events", "{\"name\":\"e\",\"payload\":\"x\",\"payloadBase64\":\"eA==\"}", "at most one of payload")]
    [InlineData("/v1/events", "{\"name\":\"e\",\"payloadBase64\":\"***\"}", "not valid base64")]
    [InlineData("/v1/query", "{\"name\":\"rumor.ping\",\"timeoutMs\":0}", "timeoutMs is 0")]
    [InlineData("/v1/query", "{}", "name is missing")]
    public async Task Bad_event_and_query_requests_get_problem_details(string path, string body, string detail)
    {
        await using RumorAgent a = await Agents.StartAsync("evbad-a");
        using HttpClient client = Agents.Client(a);
        using StringContent content = new(body, System.Text.Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await client.PostAsync(path, content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_event_payload_over_the_limit_is_refused_with_the_limit_named()
    {
        await using RumorAgent a = await Agents.StartAsync("evbig-a");
        using HttpClient client = Agents.Client(a);
        using HttpResponseMessage response = await client.PostAsJsonAsync("/v1/events", new { name = "big", payload = new string('x', 64 * 1024) });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("EventPayloadMaxBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
