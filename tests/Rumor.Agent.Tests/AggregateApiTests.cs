using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Rumor.Agent.Tests;

/// <summary>
/// The aggregate lifecycle over HTTP (docs/HTTP-API.md): POST starts with a lifetime, GET lists and
/// reads without starting anything, DELETE stops it on every member, and inputs that are missing or
/// not numbers are said so.
/// </summary>
public sealed class AggregateApiTests
{
    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<bool> RunsAsync(HttpClient client, string key)
    {
        using HttpResponseMessage response = await client.GetAsync("/v1/aggregates/" + key);
        return response.StatusCode == HttpStatusCode.OK;
    }

    [Fact]
    public async Task A_read_starts_nothing_a_post_starts_on_every_member_and_a_delete_stops_everywhere()
    {
        await using RumorAgent a = await Agents.StartAsync("agg-life-a");
        await using RumorAgent b = await Agents.StartAsync("agg-life-b", a);
        await using RumorAgent c = await Agents.StartAsync("agg-life-c", a);
        using HttpClient clientA = Agents.Client(a);
        using HttpClient clientB = Agents.Client(b);
        using HttpClient clientC = Agents.Client(c);
        await Agents.WaitForAliveAsync(clientA, 3);

        // A read of an aggregate nobody started is a 404 that says how to start one, and starts nothing.
        using (HttpResponseMessage missing = await clientA.GetAsync("/v1/aggregates/load"))
        {
            JsonElement problem = await ProblemAsync(missing, HttpStatusCode.NotFound);
            Assert.Contains("No aggregate of 'load' runs", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Contains("rumor aggregate start load", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(0, (await Agents.GetJsonAsync(clientA, "/v1/aggregates")).GetArrayLength());

        using HttpResponseMessage started = await clientB.PostAsJsonAsync("/v1/aggregates", new { key = "load", function = "sum", lifetimeMs = 600_000 });
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        JsonElement first = await started.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("load", first.GetProperty("key").GetString());
        Assert.Equal("sum", first.GetProperty("function").GetString());
        Assert.InRange(first.GetProperty("remainingMs").GetInt64(), 500_000, 600_000);

        // Starting it again answers the running one (200, not a second run).
        using (HttpResponseMessage again = await clientB.PostAsJsonAsync("/v1/aggregates", new { key = "load" }))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal("sum", (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("function").GetString());
        }

        // Every member joins it and lists it, with the starter's function.
        foreach (HttpClient client in new[] { clientA, clientB, clientC })
        {
            JsonElement listed = await Agents.EventuallyAsync("the aggregate listed on every member", async () =>
            {
                JsonElement list = await Agents.GetJsonAsync(client, "/v1/aggregates");
                return list.GetArrayLength() == 1 ? (object)list : null;
            }) is JsonElement l ? l : default;
            Assert.Equal("load", listed[0].GetProperty("key").GetString());
            Assert.Equal("sum", listed[0].GetProperty("function").GetString());
        }

        // Stopped at a member that did not start it: it ends on all three.
        using HttpResponseMessage stopped = await clientC.DeleteAsync("/v1/aggregates/load");
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        Assert.True((await stopped.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("stopped").GetBoolean());
        foreach (HttpClient client in new[] { clientA, clientB, clientC })
        {
            await Agents.EventuallyAsync("the aggregate gone from every member", async () => await RunsAsync(client, "load") ? null : "gone");
        }

        using HttpResponseMessage stopAgain = await clientC.DeleteAsync("/v1/aggregates/load");
        await ProblemAsync(stopAgain, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_aggregate_ends_by_itself_after_its_lifetime()
    {
        await using RumorAgent a = await Agents.StartAsync("agg-ttl-a");
        await using RumorAgent b = await Agents.StartAsync("agg-ttl-b", a);
        using HttpClient clientA = Agents.Client(a);
        using HttpClient clientB = Agents.Client(b);
        await Agents.WaitForAliveAsync(clientA, 2);

        using HttpResponseMessage started = await clientA.PostAsJsonAsync("/v1/aggregates", new { key = "load", lifetimeMs = 10_000 });
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        await Agents.EventuallyAsync("the aggregate on b", async () => await RunsAsync(clientB, "load") ? "there" : null);

        // Gone from both within the bound (10 s of lifetime plus a round), with no request to end it.
        await Agents.EventuallyAsync("the aggregate ended on a", async () => await RunsAsync(clientA, "load") ? null : "gone");
        await Agents.EventuallyAsync("the aggregate ended on b", async () => await RunsAsync(clientB, "load") ? null : "gone");
        Assert.Equal(0, (await Agents.GetJsonAsync(clientB, "/v1/aggregates")).GetArrayLength());
    }

    [Fact]
    public async Task Missing_and_non_numeric_inputs_are_reported_as_such()
    {
        await using RumorAgent a = await Agents.StartAsync("agg-input-a");
        using HttpClient client = Agents.Client(a);

        using HttpResponseMessage started = await client.PostAsJsonAsync("/v1/aggregates", new { key = "nothing" });
        JsonElement none = await started.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("missing", none.GetProperty("input").GetString());
        Assert.Contains("this member has no value of 'nothing'", none.GetProperty("note").GetString(), StringComparison.Ordinal);

        using HttpResponseMessage put = await client.PutAsJsonAsync("/v1/kv/text", new { value = "high" });
        using HttpResponseMessage text = await client.PostAsJsonAsync("/v1/aggregates", new { key = "text" });
        JsonElement notNumber = await text.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("notANumber", notNumber.GetProperty("input").GetString());
        Assert.Contains("is not a number", notNumber.GetProperty("note").GetString(), StringComparison.Ordinal);

        // Once the count is known, the note says no member has a number (a lone member holds the weight).
        JsonElement counted = await Agents.EventuallyAsync("the count of 'text' known", async () =>
        {
            JsonElement read = await Agents.GetJsonAsync(client, "/v1/aggregates/text");
            return read.TryGetProperty("count", out _) ? (object)read : null;
        }) is JsonElement e ? e : default;
        Assert.Contains("no member has a numeric value of 'text'", counted.GetProperty("note").GetString(), StringComparison.Ordinal);
        Assert.False(counted.TryGetProperty("average", out _));

        using HttpResponseMessage number = await client.PutAsJsonAsync("/v1/kv/cpu", new { value = "0.75" });
        using HttpResponseMessage cpu = await client.PostAsJsonAsync("/v1/aggregates", new { key = "cpu", function = "max" });
        JsonElement numeric = await cpu.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("number", numeric.GetProperty("input").GetString());
        Assert.False(numeric.TryGetProperty("note", out _));
        Assert.Equal(0.75, numeric.GetProperty("value").GetDouble());
    }

    [Theory]
    [InlineData("{}", "key is missing")]
    [InlineData("{\"key\":\"load\",\"function\":\"median\"}", "function is 'median'; it must be one of average, sum, count, min, max")]
    [InlineData("{\"key\":\"load\",\"lifetimeMs\":0}", "lifetimeMs is 0")]
    [InlineData("{\"key\":\"load\",\"lifetimeMs\":86400001}", "lifetimeMs is 86400001")]
    [InlineData("{\"key\":\"load\",\"lifetimeMs\":\"soon\"}", "not valid JSON")]
    public async Task A_bad_start_is_a_problem_naming_the_mistake(string body, string detail)
    {
        await using RumorAgent a = await Agents.StartAsync("agg-bad");
        using HttpClient client = Agents.Client(a);

        using HttpResponseMessage response = await client.PostAsync("/v1/aggregates", new StringContent(body, Encoding.UTF8, "application/json"));

        JsonElement problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await Agents.GetJsonAsync(client, "/v1/aggregates")).GetArrayLength());
    }
}
