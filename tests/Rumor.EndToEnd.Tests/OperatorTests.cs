using System.Net;
using System.Text.Json;
using Rumor.EndToEnd.Tests.Support;

namespace Rumor.EndToEnd.Tests;

/// <summary>
/// What an operator does to running agents (processes, driven by the CLI and signals): SIGHUP
/// reloads the configuration instead of ending the agent, <c>rumor leave</c> stops the agent
/// (unless <c>--stay</c>), tags change at run time, a failed member is forced out, and
/// <c>info</c> and <c>version</c> describe what runs.
/// </summary>
public sealed class OperatorTests
{
    private static string TagOf(JsonElement member, string key) =>
        member.GetProperty("tags").TryGetProperty(key, out JsonElement value) ? value.GetString() ?? string.Empty : string.Empty;

    [Fact]
    public Task A_limit_reached_through_the_API_is_logged_on_the_agents_output() => Cluster.RunAsync(async cluster =>
    {
        DirectoryInfo scratch = Directory.CreateTempSubdirectory("rumor-limit-log-");
        try
        {
            // One request a second with a burst of one: the second of two quick calls is refused.
            string config = Path.Combine(scratch.FullName, "agent.json");
            await File.WriteAllTextAsync(config, """{"HttpRateLimit":1,"HttpRateBurst":1}""");
            AgentProcess a = await cluster.StartAgentAsync("a", extra: ["--config", config]);
            List<int> statuses = [];
            for (int i = 0; i < 5 && !statuses.Contains(429); i++)
            {
                statuses.Add((await cluster.SendJsonAsync(a, HttpMethod.Get, "/v1/members", null)).Status);
            }

            cluster.Check(statuses.Contains(429), $"five quick calls at one a second should meet the limit: {string.Join(", ", statuses)}");
            cluster.Check(
                await a.Process.WaitForOutputAsync(o => o.Contains("warning: Rumor.Agent.Api: GET /v1/members", StringComparison.Ordinal) && o.Contains("rate limited (HttpRateLimit 1/s", StringComparison.Ordinal), Cluster.ConvergeBound),
                "the agent should log the refusal on its output, naming the option.");
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    });

    [Fact]
    public Task Sighup_reloads_tags_and_handlers_logs_what_changed_and_keeps_the_agent_running() => Cluster.RunAsync(async cluster =>
    {
        DirectoryInfo scratch = Directory.CreateTempSubdirectory("rumor-reload-");
        try
        {
            string config = Path.Combine(scratch.FullName, "agent.json");
            await File.WriteAllTextAsync(config, """{"Tags":{"role":"web","old":"x"}}""");
            AgentProcess a = await cluster.StartAgentAsync("a");
            AgentProcess b = await cluster.StartAgentAsync("b", join: a.GossipAddress, extra: ["--config", config]);
            await cluster.WaitForAllAliveAsync("a", "b");

            await File.WriteAllTextAsync(config, """{"Tags":{"role":"db","zone":"z1"},"EventHandlers":["query:hi=printf hello"],"Advertise":"127.0.0.1:7999","LogLevel":"warning"}""");
            await b.Process.SignalAsync("HUP");

            cluster.Check(
                await b.Process.WaitForOutputAsync(o => o.Contains("reload: ", StringComparison.Ordinal), Cluster.ConvergeBound),
                "b should log what the reload changed.");
            string reload = b.Process.Output;
            cluster.Check(reload.Contains("tag role: web -> db", StringComparison.Ordinal), "the reload should log the changed tag.");
            cluster.Check(reload.Contains("tag zone=z1 added", StringComparison.Ordinal), "the reload should log the added tag.");
            cluster.Check(reload.Contains("tag old removed", StringComparison.Ordinal), "the reload should log the removed tag.");
            cluster.Check(reload.Contains("event handlers: query:hi=printf hello", StringComparison.Ordinal), "the reload should log the new handler.");
            cluster.Check(reload.Contains("Advertise changed but needs a restart", StringComparison.Ordinal), "the reload should name what needs a restart.");
            cluster.Check(reload.Contains("log level information -> warning", StringComparison.Ordinal), "the reload should log the new log level.");
            cluster.Check(!b.Process.HasExited, "SIGHUP must not end the agent.");

            // The new tags reach a; the new handler answers a query.
            await cluster.WaitUntilAsync("b's new tags seen by a", Cluster.ConvergeBound, async () =>
            {
                JsonElement seen = (await cluster.MembersAsync(a))["b"];
                return TagOf(seen, "role") == "db" && TagOf(seen, "zone") == "z1" && TagOf(seen, "old") == string.Empty ? null : seen.ToString();
            });
            JsonElement answered = await cluster.CliJsonAsync(a, "query", "hi", "--timeout", "15s");
            Assert.Equal("hello", Assert.Single(answered.GetProperty("responses").EnumerateArray()).GetProperty("payload").GetString());
            Assert.Equal("alive", (await cluster.MembersAsync(a))["b"].GetProperty("state").GetString());

            // A configuration that no longer loads is reported and the running one kept.
            await File.WriteAllTextAsync(config, "{ not json");
            await b.Process.SignalAsync("HUP");
            cluster.Check(
                await b.Process.WaitForOutputAsync(o => o.Contains("reload failed, keeping the running configuration", StringComparison.Ordinal), Cluster.ConvergeBound),
                "b should report a configuration that does not load.");
            JsonElement tags = await cluster.CliJsonAsync(b, "tags", "list");
            Assert.Equal("db", tags.GetProperty("tags").GetProperty("role").GetString());
            cluster.Check(!b.Process.HasExited, "a bad reload must not end the agent.");
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    });

    [Fact]
    public Task Sighup_rereads_the_token_files_and_the_api_takes_the_new_tokens_without_a_restart() => Cluster.RunAsync(async cluster =>
    {
        DirectoryInfo scratch = Directory.CreateTempSubdirectory("rumor-token-reload-");
        try
        {
            const string First = "first-token-0123456789", Second = "second-token-0123456789";
            const string Reader = "reader-token-0123456789", NewReader = "new-reader-token-0123456789";
            string tokenFile = Path.Combine(scratch.FullName, "token");
            string readTokenFile = Path.Combine(scratch.FullName, "read-token");
            await File.WriteAllTextAsync(tokenFile, First);
            await File.WriteAllTextAsync(readTokenFile, Reader);
            AgentProcess a = await cluster.StartAgentAsync("a", extra: ["--token-file", tokenFile, "--read-token-file", readTokenFile]);
            Assert.Equal(HttpStatusCode.OK, await MembersStatusAsync(cluster, a, First));
            Assert.Equal(HttpStatusCode.OK, await MembersStatusAsync(cluster, a, Reader));
            Assert.Equal(HttpStatusCode.Unauthorized, await MembersStatusAsync(cluster, a, Second));

            // Both files now hold other tokens. SIGHUP, no restart: the old ones stop working at once.
            await File.WriteAllTextAsync(tokenFile, Second);
            await File.WriteAllTextAsync(readTokenFile, NewReader);
            int pid = a.Process.Id;
            await a.Process.SignalAsync("HUP");
            cluster.Check(
                await a.Process.WaitForOutputAsync(o => o.Contains("API tokens changed", StringComparison.Ordinal), Cluster.ConvergeBound),
                "a should log that the reload changed the API tokens.");
            cluster.Check(a.Process.Output.Contains("API tokens changed (read-write: replaced, read-only: replaced)", StringComparison.Ordinal), "the reload should say the read-write token was replaced.");
            cluster.Check(!a.Process.Output.Contains(Second, StringComparison.Ordinal), "the reload must not log the token.");
            Assert.Equal(HttpStatusCode.Unauthorized, await MembersStatusAsync(cluster, a, First));
            Assert.Equal(HttpStatusCode.Unauthorized, await MembersStatusAsync(cluster, a, Reader));
            Assert.Equal(HttpStatusCode.OK, await MembersStatusAsync(cluster, a, Second));
            Assert.Equal(HttpStatusCode.OK, await MembersStatusAsync(cluster, a, NewReader));
            CliResult members = await cluster.CliAsync(a, "members", "--token", Second);
            cluster.Check(members.ExitCode == 0, $"the CLI with the new token should work: {members.Output}");
            Assert.Equal(pid, a.Process.Id);
            cluster.Check(!a.Process.HasExited, "SIGHUP must not end the agent.");
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    });

    private static async Task<HttpStatusCode> MembersStatusAsync(Cluster cluster, AgentProcess agent, string token)
    {
        using HttpRequestMessage request = new(HttpMethod.Get, agent.Agent + "/v1/members");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using HttpResponseMessage response = await cluster.Http.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public Task Leave_stops_the_agent_unless_it_stays_and_a_failed_member_is_forced_out() => Cluster.RunAsync(async cluster =>
    {
        await cluster.StartAsync("a", "b", "c", "d");
        AgentProcess a = cluster["a"], b = cluster["b"], c = cluster["c"], d = cluster["d"];

        // rumor leave: the leave spreads and the agent process ends by itself, exit 0.
        CliResult leave = await cluster.CliOkAsync(b, "leave");
        cluster.Check(leave.Output.Contains("the agent is stopping", StringComparison.Ordinal), $"leave should say the agent stops: {leave.Output}");
        int? code = await b.Process.TryWaitForExitAsync(Cluster.StartBound);
        cluster.Check(code == 0, $"agent b should exit 0 after 'rumor leave'; got {code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no exit"}.");
        await cluster.WaitForStateAsync(["a", "c"], ["b"], "left");

        // --stay: it leaves and keeps answering.
        await cluster.CliOkAsync(c, "leave", "--stay");
        await cluster.WaitForStateAsync(["a"], ["c"], "left");
        JsonElement info = await cluster.CliJsonAsync(c, "info");
        Assert.Equal("c", info.GetProperty("name").GetString());
        cluster.Check(!c.Process.HasExited, "agent c should keep running after 'leave --stay'.");

        // A crashed member is dead, then forced to left; a live one is refused.
        d.Process.Kill();
        await cluster.WaitForStateAsync(["a"], ["d"], "dead");
        CliResult forced = await cluster.CliOkAsync(a, "force-leave", "d");
        cluster.Check(forced.Output.Contains("d is now left", StringComparison.Ordinal), $"force-leave should print the new state: {forced.Output}");
        Assert.Equal("left", (await cluster.MembersAsync(a))["d"].GetProperty("state").GetString());
        CliResult refused = await cluster.CliAsync(a, "force-leave", "a");
        cluster.Check(refused.ExitCode == 1 && refused.Error.Contains("use POST /v1/leave", StringComparison.Ordinal), $"force-leave of the agent itself should be refused: {refused.Error}");
        CliResult unknown = await cluster.CliAsync(a, "force-leave", "nobody");
        cluster.Check(unknown.ExitCode == 4 && unknown.Error.Contains("No member named 'nobody'", StringComparison.Ordinal), $"force-leave of an unknown name should say so: {unknown.Error}");
    });

    [Fact]
    public Task Tags_change_at_run_time_and_info_and_version_describe_the_agent() => Cluster.RunAsync(async cluster =>
    {
        await cluster.StartAsync("a", "b");
        AgentProcess a = cluster["a"], b = cluster["b"];

        CliResult set = await cluster.CliOkAsync(a, "tags", "set", "env=prod", "tier=1");
        Assert.Equal("env=prod\ntier=1\n", set.Output);
        await cluster.WaitUntilAsync("a's tags seen by b", Cluster.ConvergeBound, async () =>
        {
            JsonElement seen = (await cluster.MembersAsync(b))["a"];
            return TagOf(seen, "env") == "prod" && TagOf(seen, "tier") == "1" ? null : seen.ToString();
        });
        CliResult deleted = await cluster.CliOkAsync(a, "tags", "delete", "tier");
        Assert.Equal("env=prod\n", deleted.Output);
        await cluster.WaitUntilAsync("a's deleted tag gone at b", Cluster.ConvergeBound, async () =>
            TagOf((await cluster.MembersAsync(b))["a"], "tier") == string.Empty ? null : "tier still there");
        CliResult bad = await cluster.CliAsync(a, "tags", "set", "novalue");
        Assert.Equal(2, bad.ExitCode);

        JsonElement info = await cluster.CliJsonAsync(a, "info");
        Assert.Equal("a", info.GetProperty("name").GetString());
        Assert.Equal("prod", info.GetProperty("tags").GetProperty("env").GetString());
        Assert.Equal(2, info.GetProperty("members").GetInt32());
        CliResult version = await cluster.CliAsync("version");
        Assert.Equal(0, version.ExitCode);
        cluster.Check(version.Output.StartsWith("rumor ", StringComparison.Ordinal) && version.Output.Contains("protocol 1", StringComparison.Ordinal), $"version should print 'rumor X (protocol 1, ...)': {version.Output}");
    });
}
