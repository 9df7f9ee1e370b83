using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Rumor.EndToEnd.Tests.Support;

namespace Rumor.EndToEnd.Tests;

/// <summary>Every CLI command once against real agents: what they print, their JSON, their exit codes.</summary>
public sealed class CliCommandTests
{
    [Fact]
    public Task Join_members_status_and_their_json_agree_with_the_agent() => Cluster.RunAsync(async cluster =>
    {
        // c starts alone; 'rumor join' brings it in.
        AgentProcess a = await cluster.StartAgentAsync("a");
        AgentProcess b = await cluster.StartAgentAsync("b", join: a.GossipAddress, extra: ["--tag", "role=web"]);
        AgentProcess c = await cluster.StartAgentAsync("c");
        CliResult joined = await cluster.CliOkAsync(c, "join", a.GossipAddress);
        cluster.Check(joined.Output.Contains($"joined through {a.GossipAddress} (", StringComparison.Ordinal), "join should print 'joined through ADDR (N members known)'.");
        await cluster.WaitForAllAliveAsync("a", "b", "c");
        JsonElement again = await cluster.CliJsonAsync(c, "join", b.GossipAddress);
        Assert.Equal(b.GossipAddress, Assert.Single(again.GetProperty("joined").EnumerateArray()).GetProperty("seed").GetString());
        Assert.Empty(again.GetProperty("failed").EnumerateArray());

        Task<CliResult> table = cluster.CliOkAsync(a, "members");
        Task<JsonElement> json = cluster.CliJsonAsync(b, "members", "--state", "alive");
        Task<CliResult> show = cluster.CliOkAsync(c, "members", "show", "b");
        Task<JsonElement> showJson = cluster.CliJsonAsync(c, "members", "show", "b");
        Task<CliResult> unknown = cluster.CliAsync(a, "members", "show", "nobody");
        Task<CliResult> statusTable = cluster.CliOkAsync(c, "status");
        Task<JsonElement> status = cluster.CliJsonAsync(c, "status");
        await Task.WhenAll(table, json, show, showJson, unknown, statusTable, status);

        string[] rows = (await table).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        cluster.Check(rows[0].StartsWith("NAME", StringComparison.Ordinal) && rows.Length == 4, "members should print a header and three rows.");
        cluster.Check(rows.Any(r => r.StartsWith("b ", StringComparison.Ordinal) && r.Contains(" alive ", StringComparison.Ordinal) && r.TrimEnd().EndsWith("role=web", StringComparison.Ordinal)), "members should show b alive with its tag.");
        JsonElement[] members = [.. (await json).EnumerateArray()];
        Assert.Equal(["a", "b", "c"], members.Select(m => m.GetProperty("name").GetString()!).ToArray());
        Assert.All(members, m => Assert.Equal("alive", m.GetProperty("state").GetString()));
        Assert.Equal("web", members[1].GetProperty("tags").GetProperty("role").GetString());
        Assert.True(members[1].GetProperty("isLocal").GetBoolean());
        Assert.Equal(b.GossipAddress, members[1].GetProperty("address").GetString());
        cluster.Check((await show).Output.Contains("role=web", StringComparison.Ordinal) && (await show).Output.Contains("verdicts", StringComparison.Ordinal), "members show b should print its tags and its verdicts.");
        Assert.Equal("b", (await showJson).GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Array, (await showJson).GetProperty("verdicts").ValueKind);
        Assert.Equal(JsonValueKind.Array, (await showJson).GetProperty("probes").ValueKind);
        cluster.Check((await unknown).ExitCode == 1 && (await unknown).Error.Contains("No member named 'nobody' is known to a.", StringComparison.Ordinal), "members show of an unknown name should exit 1 with the agent's detail.");
        cluster.Check((await statusTable).Output.Contains("members:", StringComparison.Ordinal) && (await statusTable).Output.Contains("3 alive", StringComparison.Ordinal), "status should print the member counts.");
        JsonElement s = await status;
        Assert.Equal("c", s.GetProperty("name").GetString());
        Assert.Equal("local", s.GetProperty("preset").GetString());
        Assert.Equal(3, s.GetProperty("members").GetProperty("alive").GetInt32());
        Assert.Matches("^[0-9a-f]{16}$", s.GetProperty("convergence").GetProperty("checksum").GetString());
        Assert.True(s.GetProperty("counters").GetProperty("packetsReceived").GetInt64() > 0);
    });

    [Fact]
    public Task Refusals_unserved_endpoints_and_a_missing_agent_are_reported_clearly_with_their_exit_codes() => Cluster.RunAsync(async cluster =>
    {
        AgentProcess a = await cluster.StartAgentAsync("a");
        string closed = $"127.0.0.1:{ClosedPort()}";

        Task<CliResult> joinRefused = cluster.CliAsync(a, "join", closed);
        Task<CliResult> joinBad = cluster.CliAsync(a, "join", "not-an-address");
        Task<CliResult> noAgent = cluster.CliAsync("members", "--agent", "http://" + closed);
        Task<CliResult> usage = cluster.CliAsync(a, "kv", "get");
        Task<CliResult> kinds = cluster.CliAsync(a, "monitor", "--kinds", "event");
        Task<CliResult> sendEvent = cluster.CliAsync(a, "event", "deploy", "v42");
        Task<CliResult> events = cluster.CliAsync(a, "events");
        Task<CliResult> query = cluster.CliAsync(a, "query", "load");
        Task<CliResult> aggregate = cluster.CliAsync(a, "aggregate", "load");
        await Task.WhenAll(joinRefused, joinBad, noAgent, usage, kinds, sendEvent, events, query, aggregate);

        Expect(cluster, await joinRefused, 1, $"rumor join: No seed answered: {closed}: connection refused.");
        Expect(cluster, await joinBad, 1, "seed 'not-an-address' is not an address");
        Expect(cluster, await noAgent, 3, $"rumor: no agent answered at http://{closed} (connection refused).");
        Expect(cluster, await usage, 2, "Run 'rumor kv get --help' for usage.");
        Expect(cluster, await kinds, 1, "kind 'event' is not streamed");

        // Not served by this agent yet: the CLI passes on the agent's own explanation. When the
        // events, queries and aggregates are wired into the agent, these four expectations fail on
        // purpose: replace them with a scenario that sends an event and a query across the cluster.
        Expect(cluster, await sendEvent, 1, "rumor event: This agent does not serve POST /v1/events yet");
        Expect(cluster, await events, 1, "rumor events: This agent does not serve GET /v1/events yet");
        Expect(cluster, await query, 1, "rumor query: This agent does not serve POST /v1/query yet");
        Expect(cluster, await aggregate, 1, "rumor aggregate: This agent does not serve GET /v1/aggregates/load yet");

        // The rest of the HTTP surface a user meets: the dashboard, health, metrics, unknown paths.
        using HttpResponseMessage page = await cluster.Http.GetAsync(a.HttpUrl);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<html", await page.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("ok", (await cluster.GetJsonAsync(a, "v1/health")).GetProperty("status").GetString());
        string metrics = await cluster.Http.GetStringAsync(new Uri(a.HttpUrl, "metrics"));
        Assert.Contains("rumor_members{state=\"alive\"} 1", metrics, StringComparison.Ordinal);
        (int status, JsonElement problem) = await cluster.SendJsonAsync(a, HttpMethod.Get, "v1/nothing", null);
        Assert.Equal(404, status);
        Assert.Equal("This agent serves no GET /v1/nothing (the API is in docs/HTTP-API.md).", problem.GetProperty("detail").GetString());
        (status, problem) = await cluster.SendJsonAsync(a, HttpMethod.Post, "v1/members", null);
        Assert.Equal(405, status);
        Assert.Contains("POST is not allowed on /v1/members", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    });

    private static void Expect(Cluster cluster, CliResult result, int exitCode, string inError) =>
        cluster.Check(result.ExitCode == exitCode && result.Error.Contains(inError, StringComparison.Ordinal), $"expected exit {exitCode} and '{inError}' on stderr from:\n{result.Description}");

    private static int ClosedPort()
    {
        using Socket probe = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
