using System.Text.Json;
using System.Text.RegularExpressions;
using Rumor.EndToEnd.Tests.Support;

namespace Rumor.EndToEnd.Tests;

/// <summary>Replicated keys across three agent processes, written and read through the CLI and the HTTP API.</summary>
public sealed partial class KeyValueTests
{
    [Fact]
    public Task A_key_set_on_one_agent_is_read_on_the_others_and_its_delete_reaches_everyone() => Cluster.RunAsync(async cluster =>
    {
        await cluster.StartAsync("a", "b", "c");
        AgentProcess a = cluster["a"], b = cluster["b"], c = cluster["c"];

        // The CLI writes on b; a key with a slash travels as a path (the agent's catch-all route).
        CliResult set = await cluster.CliOkAsync(b, "kv", "set", "config/db", "postgres://db1");
        cluster.Check(set.Output.Contains("set config/db (14 bytes, owner b, version", StringComparison.Ordinal), "kv set did not report the write as 'set config/db (14 bytes, owner b, version N)'.");
        await WaitForKeyAsync(cluster, [a, c], "config/db", "b", "postgres://db1");
        foreach (AgentProcess reader in new[] { a, c })
        {
            JsonElement entries = await cluster.CliJsonAsync(reader, "kv", "get", "config/db");
            JsonElement entry = Assert.Single(entries.EnumerateArray());
            Assert.Equal("b", entry.GetProperty("owner").GetString());
            Assert.Equal("config/db", entry.GetProperty("key").GetString());
            Assert.Equal("postgres://db1", entry.GetProperty("value").GetString());
            Assert.True(entry.GetProperty("version").GetUInt64() >= 1);
        }

        // The HTTP API writes on c, text and binary; the CLI on the others reads both back.
        (int status, JsonElement written) = await cluster.SendJsonAsync(c, HttpMethod.Put, "v1/kv/greeting", new { value = "hi" });
        Assert.Equal(200, status);
        Assert.Equal("c", written.GetProperty("owner").GetString());
        byte[] binary = [0xff, 0x00, 0xfe, 0x80];
        (status, _) = await cluster.SendJsonAsync(c, HttpMethod.Put, "v1/kv/blob", new { valueBase64 = Convert.ToBase64String(binary) });
        Assert.Equal(200, status);
        await WaitForKeyAsync(cluster, [a, b], "greeting", "c", "hi");
        await WaitForKeyAsync(cluster, [a, b], "blob", "c", null);
        JsonElement blob = Assert.Single((await cluster.CliJsonAsync(b, "kv", "get", "blob")).EnumerateArray());
        Assert.False(blob.TryGetProperty("value", out _), "a binary value must come as valueBase64 only");
        Assert.Equal(binary, Convert.FromBase64String(blob.GetProperty("valueBase64").GetString()!));

        JsonElement list = await cluster.CliJsonAsync(a, "kv", "list", "--owner", "c");
        Assert.Equal(["blob", "greeting"], list.EnumerateArray().Select(e => e.GetProperty("key").GetString()!).ToArray());
        CliResult table = await cluster.CliOkAsync(a, "kv", "list", "--prefix", "config/");
        cluster.Check(table.Output.Contains("OWNER", StringComparison.Ordinal) && table.Output.Contains("postgres://db1", StringComparison.Ordinal), "kv list --prefix config/ did not show b's key in its table.");

        // Only the owner deletes; the tombstone reaches everyone.
        CliResult notOwner = await cluster.CliAsync(a, "kv", "delete", "config/db");
        cluster.Check(notOwner.ExitCode == 4 && notOwner.Error.Contains("a owns no key 'config/db'", StringComparison.Ordinal), "kv delete of another member's key should exit 4 (not found) with the agent's reason.");
        CliResult deleted = await cluster.CliOkAsync(b, "kv", "delete", "config/db");
        cluster.Check(deleted.Output.Contains("deleted config/db (owner b, tombstone version", StringComparison.Ordinal), "kv delete did not report the tombstone.");
        (status, _) = await cluster.SendJsonAsync(c, HttpMethod.Delete, "v1/kv/greeting", null);
        Assert.Equal(200, status);
        await WaitForGoneAsync(cluster, [a, b, c], "config/db");
        await WaitForGoneAsync(cluster, [a, b, c], "greeting");
        CliResult gone = await cluster.CliAsync(c, "kv", "get", "config/db");
        cluster.Check(gone.ExitCode == 4 && gone.Error.Contains("No member has a key 'config/db'", StringComparison.Ordinal), "kv get of a deleted key should exit 4 (not found) saying no member has it.");
        JsonElement remaining = await cluster.CliJsonAsync(b, "kv", "list");
        Assert.Equal(["blob"], remaining.EnumerateArray().Select(e => e.GetProperty("key").GetString()!).ToArray());
    });

    [Fact]
    public Task Kv_watch_and_monitor_processes_print_changes_as_they_happen_and_stop_cleanly() => Cluster.RunAsync(async cluster =>
    {
        await cluster.StartAsync("a", "b", "c");
        AgentProcess a = cluster["a"], b = cluster["b"], c = cluster["c"];
        RumorProcess watchJson = cluster.StartCli(a, "kv", "watch", "--prefix", "app/", "--json");
        RumorProcess watchText = cluster.StartCli(c, "kv", "watch", "--prefix", "app/");
        RumorProcess monitor = cluster.StartCli(c, "monitor", "--json");

        // A watcher prints nothing until something changes, so it cannot say when it is subscribed:
        // write again every second until each has printed a write (bounded), then look at its line.
        // The text watcher on c prints "= new" for a key c did not have yet and "old -> new" for one
        // it had: which one comes first depends on whether the first write reached c before the
        // watch was registered, so either form counts.
        int tick = 0;
        await cluster.WaitUntilAsync("kv watch on a and c and monitor on c to print a write of b's app/tick", Cluster.ConvergeBound, async () =>
        {
            if (watchJson.Output.Contains("app/tick", StringComparison.Ordinal) && TextWatchLine().IsMatch(watchText.Output) && monitor.Output.Contains("app/tick", StringComparison.Ordinal))
            {
                return null;
            }

            (int status, _) = await cluster.SendJsonAsync(b, HttpMethod.Put, "v1/kv/app/tick", new { value = $"t{++tick}" });
            await cluster.SendJsonAsync(b, HttpMethod.Put, "v1/kv/other/ignored", new { value = $"t{tick}" });
            return $"{tick} writes (last answered {status}); watch --json printed: {watchJson.Output.Length} chars, watch: {watchText.Output.Length}, monitor: {monitor.Output.Length}";
        });

        JsonElement change = cluster.ParseJson(watchJson.Output.Split('\n')[0], "the first line of kv watch --json");
        Assert.Equal("change", change.GetProperty("event").GetString());
        JsonElement data = change.GetProperty("data");
        Assert.Equal("b", data.GetProperty("owner").GetString());
        Assert.Equal("app/tick", data.GetProperty("key").GetString());
        Assert.StartsWith("t", data.GetProperty("newValue").GetString(), StringComparison.Ordinal);
        Assert.False(data.GetProperty("deleted").GetBoolean());
        Assert.DoesNotContain("other/ignored", watchJson.Output, StringComparison.Ordinal);

        // A member joining reaches the monitor as a member event.
        await cluster.StartAgentAsync("d", join: a.GossipAddress);
        await cluster.WaitUntilAsync("monitor on c to print d joining", Cluster.ConvergeBound, () =>
            Task.FromResult(MonitorLines(cluster, monitor).Any(l => l.Event == "member" && l.Data.GetProperty("name").GetString() == "d" && l.Data.GetProperty("state").GetString() == "alive") ? null : "no member line for d yet"));
        (string _, JsonElement joined) = MonitorLines(cluster, monitor).First(l => l.Event == "member" && l.Data.GetProperty("name").GetString() == "d");
        Assert.Equal("joined", joined.GetProperty("kind").GetString());
        Assert.Equal(cluster["d"].GossipAddress, joined.GetProperty("address").GetString());

        // A deletion reaches the watcher as such.
        (int deleteStatus, _) = await cluster.SendJsonAsync(b, HttpMethod.Delete, "v1/kv/app/tick", null);
        Assert.Equal(200, deleteStatus);
        await cluster.WaitUntilAsync("kv watch on c to print the delete of app/tick", Cluster.ConvergeBound, () =>
            Task.FromResult(watchText.Output.Contains("kv b/app/tick deleted", StringComparison.Ordinal) ? null : "no 'kv b/app/tick deleted' line yet"));

        // Ctrl+C (or SIGTERM) is how a watch ends: exit 0.
        foreach (RumorProcess process in new[] { watchJson, watchText, monitor })
        {
            await process.SignalAsync("INT");
            int? code = await process.TryWaitForExitAsync(Cluster.CliBound);
            cluster.Check(code == 0, $"'{process.CommandLine}' should exit 0 on SIGINT, got {code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no exit"}.");
        }
    });

    internal static List<(string Event, JsonElement Data)> MonitorLines(Cluster cluster, RumorProcess monitor) =>
        [.. monitor.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => cluster.ParseJson(line, "a line of monitor --json"))
            .Select(line => (line.GetProperty("event").GetString()!, line.GetProperty("data")))];

    /// <summary>Waits (HTTP, fast) until every reader has the owner's key, with that text value when given.</summary>
    private static Task WaitForKeyAsync(Cluster cluster, AgentProcess[] readers, string key, string owner, string? value) =>
        cluster.WaitUntilAsync($"{string.Join(", ", readers.Select(r => r.Name))} to read {owner}'s {key}", Cluster.ConvergeBound, async () =>
        {
            List<string> missing = [];
            foreach (AgentProcess reader in readers)
            {
                using HttpResponseMessage response = await cluster.Http.GetAsync(new Uri(reader.HttpUrl, "v1/kv/" + key + "?owner=" + owner));
                string body = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode || (value is not null && !body.Contains($"\"value\":\"{value}\"", StringComparison.Ordinal)))
                {
                    missing.Add($"{reader.Name}: {(int)response.StatusCode} {body}");
                }
            }

            return missing.Count == 0 ? null : string.Join("; ", missing);
        });

    private static Task WaitForGoneAsync(Cluster cluster, AgentProcess[] readers, string key) =>
        cluster.WaitUntilAsync($"{key} to be gone on {string.Join(", ", readers.Select(r => r.Name))}", Cluster.ConvergeBound, async () =>
        {
            List<string> still = [];
            foreach (AgentProcess reader in readers)
            {
                using HttpResponseMessage response = await cluster.Http.GetAsync(new Uri(reader.HttpUrl, "v1/kv/" + key));
                if ((int)response.StatusCode != 404)
                {
                    still.Add($"{reader.Name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }

            return still.Count == 0 ? null : string.Join("; ", still);
        });

    /// <summary>A text watch line for b's app/tick: "kv b/app/tick = t1 (new) (version 1)" or "kv b/app/tick t1 -> t5 (version 9)".</summary>
    [GeneratedRegex(@"kv b/app/tick (= t\d+ \(new\)|t\d+ -> t\d+) \(version \d+\)")]
    private static partial Regex TextWatchLine();
}
