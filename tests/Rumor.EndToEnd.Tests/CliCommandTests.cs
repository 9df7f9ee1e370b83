using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Rumor.EndToEnd.Tests.Support;

namespace Rumor.EndToEnd.Tests;

/// <summary>Every CLI command once against real agents: what they print, their JSON, their exit codes.</summary>
public sealed class CliCommandTests
{
    [Fact]
    public Task Events_queries_and_aggregates_cross_the_cluster() => Cluster.RunAsync(async cluster =>
    {
        AgentProcess a = await cluster.StartAgentAsync("a", extra: ["--tag", "role=db"]);
        AgentProcess b = await cluster.StartAgentAsync("b", join: a.GossipAddress, extra: ["--tag", "role=web"]);
        AgentProcess c = await cluster.StartAgentAsync("c", join: a.GossipAddress, extra: ["--tag", "role=web"]);
        await cluster.WaitForAllAliveAsync("a", "b", "c");

        // A user event sent on a reaches b and c exactly once, and c's monitor prints it.
        // A monitor prints nothing until something happens, so it cannot say when it is subscribed:
        // send a warm-up event every second until it prints one (bounded), then the real one.
        RumorProcess monitor = cluster.StartCli(c, "monitor", "--kinds", "event");
        int tick = 0;
        await cluster.WaitUntilAsync("monitor on c to print a warm-up event", Cluster.ConvergeBound, async () =>
        {
            if (monitor.Output.Contains("event warmup from a", StringComparison.Ordinal))
            {
                return null;
            }

            await cluster.CliOkAsync(a, "event", "warmup", $"{tick++}");
            await Task.Delay(1000);
            return $"{tick} warm-up events sent, none printed";
        });
        CliResult sent = await cluster.CliOkAsync(a, "event", "deploy", "v42");
        cluster.Check(sent.Output.Contains("sent event deploy (id a/", StringComparison.Ordinal), "event should print the id it was given.");
        foreach (AgentProcess observer in new[] { b, c })
        {
            await cluster.WaitUntilAsync($"the event listed on {observer.Name}", Cluster.ConvergeBound, async () =>
            {
                JsonElement events = await cluster.CliJsonAsync(observer, "events");
                JsonElement[] deploys = [.. events.EnumerateArray().Where(e => e.GetProperty("name").GetString() == "deploy")];
                return deploys.Length == 1 && deploys[0].GetProperty("payload").GetString() == "v42" && deploys[0].GetProperty("origin").GetString() == "a"
                    ? null
                    : $"{deploys.Length} deploy events: {events}";
            });
        }

        cluster.Check(
            await monitor.WaitForOutputAsync(output => output.Contains("event deploy from a: v42", StringComparison.Ordinal), Cluster.ConvergeBound),
            "monitor on c should print the deploy event.");

        // A query with a tag filter: exactly the web members answer rumor.ping.
        JsonElement query = await cluster.CliJsonAsync(a, "query", "rumor.ping", "--tag", "role=web", "--timeout", "10s");
        Assert.Equal(["b", "c"], query.GetProperty("responses").EnumerateArray().Select(r => r.GetProperty("from").GetString()!).Order(StringComparer.Ordinal).ToArray());
        Assert.Empty(query.GetProperty("missing").EnumerateArray());
        CliResult queryTable = await cluster.CliOkAsync(a, "query", "rumor.ping", "--tag", "role=web", "--timeout", "10s");
        cluster.Check(queryTable.Output.Contains("FROM", StringComparison.Ordinal) && queryTable.Output.Contains("b ", StringComparison.Ordinal), "query should print a table of answers.");

        // An aggregate over each member's own 'load' key: 1, 2 and 6 make sum 9, average 3.
        await cluster.CliOkAsync(a, "kv", "set", "load", "1");
        await cluster.CliOkAsync(b, "kv", "set", "load", "2");
        await cluster.CliOkAsync(c, "kv", "set", "load", "6");
        // Nothing runs until started: a read says so (exit 1), then a start on b runs it everywhere.
        CliResult notRunning = await cluster.CliAsync(b, "aggregate", "show", "load");
        cluster.Check(notRunning.ExitCode == 4 && notRunning.Error.Contains("No aggregate of 'load' runs", StringComparison.Ordinal), $"aggregate show before a start should fail clearly: {notRunning.Error}");
        await cluster.CliOkAsync(b, "aggregate", "start", "load", "--function", "sum", "--lifetime", "10m");
        JsonElement aggregate = default;
        await cluster.WaitUntilAsync("the aggregate of load converged to the true values", Cluster.ConvergeBound, async () =>
        {
            CliResult result = await cluster.CliAsync(b, "aggregate", "show", "load", "--wait", "5s", "--json");
            if (result.ExitCode != 0)
            {
                return $"exit {result.ExitCode}: {result.Output} {result.Error}";
            }

            aggregate = cluster.ParseJson(result.Output, "aggregate --json");
            double average = aggregate.GetProperty("average").GetDouble();
            double count = aggregate.GetProperty("count").GetDouble();
            double bound = aggregate.GetProperty("errorBound").GetDouble();

            // Values written after the epoch began enter at the next epoch: wait for the true inputs.
            return Math.Abs(average - 3) <= 3 * Math.Max(bound, 1e-3) && Math.Abs(count - 3) <= 3 * Math.Max(bound, 1e-3) ? null : result.Output;
        });
        Assert.Equal(9, aggregate.GetProperty("sum").GetDouble(), 1);
        Assert.Equal(1, aggregate.GetProperty("min").GetDouble());
        Assert.Equal(6, aggregate.GetProperty("max").GetDouble());
        Assert.Equal("sum", aggregate.GetProperty("function").GetString());
        CliResult table = await cluster.CliOkAsync(b, "aggregate", "show", "load");
        cluster.Check(table.Output.Contains("average", StringComparison.Ordinal) && table.Output.Contains("converged", StringComparison.Ordinal), "aggregate should print its fields.");

        // A stop on c ends it on every member.
        await cluster.CliOkAsync(c, "aggregate", "stop", "load");
        foreach (AgentProcess member in new[] { a, b, c })
        {
            await cluster.WaitUntilAsync($"the aggregate gone from {member.Name}", Cluster.ConvergeBound, async () =>
            {
                JsonElement list = await cluster.CliJsonAsync(member, "aggregate", "list");
                return list.GetArrayLength() == 0 ? null : list.ToString();
            });
        }
    });

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
        cluster.Check((await unknown).ExitCode == 4 && (await unknown).Error.Contains("No member named 'nobody' is known to a.", StringComparison.Ordinal), "members show of an unknown name should exit 4 (not found) with the agent's detail.");
        cluster.Check((await statusTable).Output.Contains("members:", StringComparison.Ordinal) && (await statusTable).Output.Contains("3 alive", StringComparison.Ordinal), "status should print the member counts.");
        JsonElement s = await status;
        Assert.Equal("c", s.GetProperty("name").GetString());
        Assert.Equal("local", s.GetProperty("preset").GetString());
        Assert.Equal(3, s.GetProperty("members").GetProperty("alive").GetInt32());
        Assert.Matches("^[0-9a-f]{16}$", s.GetProperty("convergence").GetProperty("checksum").GetString());
        Assert.True(s.GetProperty("counters").GetProperty("packetsReceived").GetInt64() > 0);
    });

    [Fact]
    public Task Refusals_unknown_paths_and_a_missing_agent_are_reported_clearly_with_their_exit_codes() => Cluster.RunAsync(async cluster =>
    {
        AgentProcess a = await cluster.StartAgentAsync("a");
        string closed = $"127.0.0.1:{ClosedPort()}";

        Task<CliResult> joinRefused = cluster.CliAsync(a, "join", closed);
        Task<CliResult> joinBad = cluster.CliAsync(a, "join", "not-an-address");
        Task<CliResult> noAgent = cluster.CliAsync("members", "--agent", "http://" + closed);
        Task<CliResult> usage = cluster.CliAsync(a, "kv", "get");
        Task<CliResult> kinds = cluster.CliAsync(a, "monitor", "--kinds", "bogus");
        Task<CliResult> emptyEvent = cluster.CliAsync(a, "event", "big", new string('x', 2000));
        await Task.WhenAll(joinRefused, joinBad, noAgent, usage, kinds, emptyEvent);

        Expect(cluster, await joinRefused, 1, $"rumor join: No seed answered: {closed}: connection refused.");
        Expect(cluster, await joinBad, 1, "seed 'not-an-address' is not an address");
        Expect(cluster, await noAgent, 3, $"rumor: no agent answered at http://{closed} (connection refused).");
        Expect(cluster, await usage, 2, "Run 'rumor kv get --help' for usage.");
        Expect(cluster, await kinds, 2, "'bogus' is not a kind");
        Expect(cluster, await emptyEvent, 1, "EventPayloadMaxBytes");

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
