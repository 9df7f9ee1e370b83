using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Rumor.Agent.Tests;

/// <summary>The operator endpoints over HTTP: info, tags at run time, force-leave, and a leave that stops the agent.</summary>
public sealed class OperatorApiTests
{
    [Fact]
    public async Task Tags_change_at_run_time_and_reach_the_other_member_and_info_shows_them()
    {
        await using RumorAgent a = await Agents.StartAsync("ops-tags-a", tags: new Dictionary<string, string> { ["role"] = "web", ["zone"] = "z1" });
        await using RumorAgent b = await Agents.StartAsync("ops-tags-b", a);
        using HttpClient clientA = Agents.Client(a);
        using HttpClient clientB = Agents.Client(b);

        using HttpResponseMessage patched = await clientA.PatchAsJsonAsync("/v1/tags", new { set = new Dictionary<string, string> { ["role"] = "db" }, delete = new[] { "zone" } });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        JsonElement tags = (await patched.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tags");
        Assert.Equal("db", tags.GetProperty("role").GetString());
        Assert.False(tags.TryGetProperty("zone", out _));

        await Agents.EventuallyAsync("a's new tags at b", async () =>
        {
            JsonElement seen = await Agents.GetJsonAsync(clientB, "/v1/members/ops-tags-a");
            JsonElement t = seen.GetProperty("tags");
            return t.TryGetProperty("role", out JsonElement role) && role.GetString() == "db" && !t.TryGetProperty("zone", out _) ? "seen" : null;
        });

        JsonElement info = await Agents.GetJsonAsync(clientA, "/v1/info");
        Assert.Equal("ops-tags-a", info.GetProperty("name").GetString());
        Assert.Equal("db", info.GetProperty("tags").GetProperty("role").GetString());
        Assert.False(info.GetProperty("encrypted").GetBoolean());
        Assert.Equal(0, info.GetProperty("eventHandlers").GetArrayLength());
        Assert.Equal(1, info.GetProperty("protocolVersion").GetInt32());

        using HttpResponseMessage nothing = await clientA.PatchAsync("/v1/tags", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, nothing.StatusCode);
        using HttpResponseMessage bad = await clientA.PatchAsJsonAsync("/v1/tags", new { set = new Dictionary<string, string> { ["a=b"] = "c" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using HttpResponseMessage both = await clientA.PatchAsJsonAsync("/v1/tags", new { set = new Dictionary<string, string> { ["x"] = "1" }, delete = new[] { "x" } });
        Assert.Contains("both set and deleted", (await both.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Force_leave_moves_a_failed_member_to_left_and_refuses_live_and_unknown_ones()
    {
        await using RumorAgent a = await Agents.StartAsync("ops-force-a");
        await using RumorAgent b = await Agents.StartAsync("ops-force-b", a);
        RumorAgent c = await Agents.StartAsync("ops-force-c", a, leaveOnStop: false);
        using HttpClient clientA = Agents.Client(a);
        await Agents.WaitForAliveAsync(clientA, 3);

        using (HttpResponseMessage alive = await clientA.PostAsync("/v1/members/ops-force-b/force-leave", null))
        {
            Assert.Equal(HttpStatusCode.Conflict, alive.StatusCode);
        }

        using (HttpResponseMessage self = await clientA.PostAsync("/v1/members/ops-force-a/force-leave", null))
        {
            Assert.Equal(HttpStatusCode.Conflict, self.StatusCode);
        }

        using (HttpResponseMessage unknown = await clientA.PostAsync("/v1/members/nobody/force-leave", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        // c stops without leaving: a sees it suspect, then dead; force-leave makes it left.
        await c.DisposeAsync();
        await Agents.EventuallyAsync("c failed at a", async () =>
        {
            JsonElement seen = await Agents.GetJsonAsync(clientA, "/v1/members/ops-force-c");
            return seen.GetProperty("state").GetString() is "dead" or "suspect" ? "failed" : null;
        });
        using HttpResponseMessage forced = await clientA.PostAsync("/v1/members/ops-force-c/force-leave", null);
        Assert.Equal(HttpStatusCode.OK, forced.StatusCode);
        Assert.Equal("left", (await forced.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());
        Assert.Equal("left", (await Agents.GetJsonAsync(clientA, "/v1/members/ops-force-c")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_leave_with_shutdown_stops_the_agent_after_answering()
    {
        await using RumorAgent a = await Agents.StartAsync("ops-leave-a");
        await using RumorAgent b = await Agents.StartAsync("ops-leave-b", a);
        using HttpClient clientB = Agents.Client(b);
        using HttpClient clientA = Agents.Client(a);
        await Agents.WaitForAliveAsync(clientA, 2);

        using HttpResponseMessage left = await clientB.PostAsJsonAsync("/v1/leave", new { timeoutMs = 5000, shutdown = true });

        Assert.Equal(HttpStatusCode.OK, left.StatusCode);
        JsonElement answer = await left.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(answer.GetProperty("stopping").GetBoolean());
        await Task.Delay(Timeout.InfiniteTimeSpan, b.Stopping).ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(Agents.Bound);
        Assert.True(b.Stopping.IsCancellationRequested);
        await Agents.EventuallyAsync("b left at a", async () =>
            (await Agents.GetJsonAsync(clientA, "/v1/members/ops-leave-b")).GetProperty("state").GetString() == "left" ? "left" : null);
    }
}
