using System.Text.Json;
using Rumor.EndToEnd.Tests.Support;

namespace Rumor.EndToEnd.Tests;

/// <summary>Failures, restarts and departures of agent processes as the other agents report them through the CLI.</summary>
public sealed class MembershipTests
{
    [Fact]
    public Task A_killed_agent_is_suspected_then_declared_dead_and_rejoins_alive_after_a_restart_with_its_data_directory() => Cluster.RunAsync(async cluster =>
    {
        await cluster.StartAsync("a", "b", "c");
        AgentProcess a = cluster["a"], b = cluster["b"], c = cluster["c"];
        JsonElement before = await cluster.CliJsonAsync(a, "members", "show", "c");
        ulong generation = before.GetProperty("generation").GetUInt64();
        Assert.Equal("alive", before.GetProperty("state").GetString());
        Assert.True(File.Exists(Path.Combine(c.DataDirectory, "identity.json")), "the agent with --data-dir should have written identity.json");

        // Monitors on both survivors record the order of what they saw; a kv write tells when they are subscribed.
        RumorProcess monitorA = cluster.StartCli(a, "monitor", "--json");
        RumorProcess monitorB = cluster.StartCli(b, "monitor", "--json");
        int tick = 0;
        await cluster.WaitUntilAsync("the monitors on a and b to print a kv write", Cluster.ConvergeBound, async () =>
        {
            if (monitorA.Output.Contains("\"ready\"", StringComparison.Ordinal) && monitorB.Output.Contains("\"ready\"", StringComparison.Ordinal))
            {
                return null;
            }

            await cluster.SendJsonAsync(a, HttpMethod.Put, "v1/kv/ready", new { value = $"{++tick}" });
            return $"{tick} writes";
        });

        c.Process.Kill();
        await cluster.WaitForStateAsync(["a", "b"], ["c"], "dead");

        foreach ((string name, RumorProcess monitor) in new[] { ("a", monitorA), ("b", monitorB) })
        {
            // The API answering "dead" does not mean the monitor (its own CLI process reading the
            // agent's stream) has printed it yet: wait, bounded, for its line before checking the order.
            List<string> states = [];
            await cluster.WaitUntilAsync($"the monitor on {name} to print c dead", Cluster.ConvergeBound, () =>
            {
                states = [.. KeyValueTests.MonitorLines(cluster, monitor)
                    .Where(l => l.Event == "member" && l.Data.GetProperty("name").GetString() == "c")
                    .Select(l => l.Data.GetProperty("state").GetString()!)];
                return Task.FromResult<string?>(states.Contains("dead") ? null : $"it showed: {string.Join(", ", states)}");
            });
            cluster.Check(states.IndexOf("suspect") >= 0 && states.IndexOf("suspect") < states.IndexOf("dead"), $"monitor on {name} should show c suspect, then dead; it showed: {string.Join(", ", states)}");
            JsonElement members = await cluster.CliJsonAsync(cluster[name], "members");
            JsonElement reported = members.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "c");
            Assert.Equal("dead", reported.GetProperty("state").GetString());
        }

        // Whoever declared it keeps the verdict records: a suspicion, then the dead verdict.
        JsonElement shown = await cluster.CliJsonAsync(a, "members", "show", "c");
        string[] kinds = [.. shown.GetProperty("verdicts").EnumerateArray().Select(v => v.GetProperty("kind").GetString()!)];
        cluster.Check(kinds.Contains("dead"), $"members show c on a should list a dead verdict; verdicts: {string.Join(", ", kinds)}");
        CliResult showTable = await cluster.CliOkAsync(a, "members", "show", "c");
        cluster.Check(showTable.Output.Contains("state:       dead for", StringComparison.Ordinal) && showTable.Output.Contains("verdicts (", StringComparison.Ordinal) && showTable.Output.Contains("latest probes by this agent", StringComparison.Ordinal), "members show c on a should print its state, its verdicts and the latest probes.");
        cluster.Check(!showTable.Output.Contains("{\"", StringComparison.Ordinal), "members show should print tables, not raw JSON objects.");
        CliResult deadTable = await cluster.CliOkAsync(b, "members", "--state", "dead");
        cluster.Check(deadTable.Output.Split('\n').Any(l => l.StartsWith("c ", StringComparison.Ordinal) && l.Contains(" dead ", StringComparison.Ordinal)), "members --state dead on b should list c.");

        // The same name, data directory and addresses: the identity file makes the new run outrank the old.
        AgentProcess again = await cluster.StartAgentAsync("c", join: a.GossipAddress, bind: c.GossipAddress, http: c.HttpAddress);
        await cluster.WaitForAllAliveAsync("a", "b", "c");
        JsonElement status = await cluster.CliJsonAsync(again, "status");
        Assert.Equal("c", status.GetProperty("name").GetString());
        Assert.Equal(c.GossipAddress, status.GetProperty("address").GetString());
        ulong newGeneration = status.GetProperty("generation").GetUInt64();
        cluster.Check(newGeneration > generation, $"the restarted c should have a higher generation than {generation}; it has {newGeneration}.");
        cluster.Check(status.GetProperty("incarnation").GetUInt32() >= 1, "the restarted c should start at the stored incarnation + 1.");
        foreach (AgentProcess observer in new[] { a, b })
        {
            JsonElement seen = await cluster.CliJsonAsync(observer, "members", "show", "c");
            Assert.Equal("alive", seen.GetProperty("state").GetString());
            Assert.Equal(newGeneration, seen.GetProperty("generation").GetUInt64());
        }
    });

    [Fact]
    public Task A_terminated_agent_and_one_told_to_leave_are_reported_left_not_dead() => Cluster.RunAsync(async cluster =>
    {
        await cluster.StartAsync("a", "b", "c");
        AgentProcess a = cluster["a"], b = cluster["b"], c = cluster["c"];

        // SIGTERM: the agent leaves gracefully and exits 0.
        await c.Process.SignalAsync("TERM");
        int? code = await c.Process.TryWaitForExitAsync(Cluster.StartBound);
        cluster.Check(code == 0, $"agent c should exit 0 after SIGTERM; got {code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no exit"}.");
        cluster.Check(c.Process.Output.Contains("left the cluster", StringComparison.Ordinal), "agent c should log 'left the cluster' after SIGTERM.");
        await cluster.WaitForStateAsync(["a", "b"], ["c"], "left");
        JsonElement members = await cluster.CliJsonAsync(a, "members");
        Assert.Equal("left", members.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "c").GetProperty("state").GetString());

        // rumor leave --stay: the agent leaves, keeps serving its API, and says it is no longer healthy.
        JsonElement leave = await cluster.CliJsonAsync(b, "leave", "--timeout", "5s", "--stay");
        Assert.True(leave.GetProperty("left").GetBoolean(), "rumor leave should answer left: true once the leave spread");
        await cluster.WaitForStateAsync(["a"], ["b", "c"], "left");
        using (HttpResponseMessage health = await cluster.Http.GetAsync(new Uri(b.HttpUrl, "v1/health")))
        {
            Assert.Equal(503, (int)health.StatusCode);
            Assert.Equal("application/problem+json", health.Content.Headers.ContentType?.MediaType);
        }

        CliResult table = await cluster.CliOkAsync(a, "members");
        cluster.Check(table.Output.Split('\n').Count(l => l.Contains(" left ", StringComparison.Ordinal)) == 2, "members on a should show b and c left.");
        JsonElement status = await cluster.CliJsonAsync(a, "status");
        Assert.Equal(2, status.GetProperty("members").GetProperty("left").GetInt32());
        Assert.Equal(1, status.GetProperty("members").GetProperty("alive").GetInt32());
    });
}
