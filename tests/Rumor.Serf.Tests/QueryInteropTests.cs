using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Rumor.Agent;
using Rumor.Agent.Serf;
using Rumor.Hosting;

namespace Rumor.Serf.Tests;

/// <summary>
/// Queries asked from the Rumor side (<c>POST /v1/query</c> and <c>rumor query</c> on a Serf-mode
/// agent) answered by real Serf agents' query handlers; relays (Serf's relay factor) both ways;
/// the <c>_serf_conflict</c> query answered with our view; a keyring rotated by <c>serf keys</c>
/// written to the keyring file and kept across a restart.
/// </summary>
[Collection(nameof(SerfInteropCollection))]
public sealed class QueryInteropTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    // A Serf query handler for "greet": its standard output is the answer.
    private static string GreetHandler()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"rumor-serf-greet-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        string script = Path.Combine(directory, "greet.sh");
        File.WriteAllText(script, "#!/bin/sh\nprintf 'hello from %s' \"$SERF_SELF_NAME\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return script;
    }

    private static AgentSettings Settings(int cluster, string name, SerfAgentCluster agents, Action<RumorOptions>? change = null)
    {
        RumorOptions rumor = new()
        {
            Name = name,
            Bind = $"{SerfAgentCluster.AgentAddress(cluster, 10)}:{SerfAgentCluster.GossipPort}",
            Seeds = [agents.GossipEndPoint(1).ToString()],
        };
        change?.Invoke(rumor);
        return new AgentSettings(rumor, Core.NodeAddress.Parse("127.0.0.1:0")) { Protocol = AgentProtocol.Serf };
    }

    private static SerfNode StartNode(int cluster, int host, string name) => SerfNode.Start(new SerfNodeOptions
    {
        Name = name,
        Bind = new IPEndPoint(SerfAgentCluster.AgentAddress(cluster, host), SerfAgentCluster.GossipPort),
        Tags = new Dictionary<string, string> { ["role"] = "rumor" },
        RandomSeed = cluster * 100 + host,
    });

    [Fact]
    public async Task A_rumor_query_is_answered_by_the_serf_agents_handlers()
    {
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(30, 3, $"-event-handler=query:greet={GreetHandler()}");
        await using SerfModeAgent agent = await SerfModeAgent.StartAsync(Settings(30, "rumor-q", agents));
        await agent.JoinAsync();
        await agents.WaitForAsync(1, members => members.Count(m => m.Status == "alive") == 4, "serf1 lists 4 members alive");
        Assert.True(await Wait.UntilAsync(() => agent.Node.Members.Count(m => m.Status == SerfMemberStatus.Alive) == 4, Bound), string.Join(", ", agent.Node.Members));
        using HttpClient client = new() { BaseAddress = agent.Url, Timeout = TimeSpan.FromSeconds(60) };

        // No timeout given: Serf's default, GossipInterval 200 ms × 16 × ⌈log10(4 + 1)⌉ = 3.2 s,
        // waited in full because this agent (expected: no filter) has no handler for greet.
        Stopwatch clock = Stopwatch.StartNew();
        HttpResponseMessage response = await client.PostAsJsonAsync("v1/query", new { name = "greet", payload = "hi" });
        TimeSpan waited = clock.Elapsed;
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using (JsonDocument json = JsonDocument.Parse(text))
        {
            JsonElement root = json.RootElement;
            Dictionary<string, string?> answers = root.GetProperty("responses").EnumerateArray()
                .ToDictionary(r => r.GetProperty("from").GetString()!, r => r.GetProperty("payload").GetString());
            Assert.Equal(new[] { "serf1", "serf2", "serf3" }, answers.Keys.Order(StringComparer.Ordinal));
            Assert.All(answers, a => Assert.Equal("hello from " + a.Key, a.Value));
            Assert.Equal(new[] { "rumor-q", "serf1", "serf2", "serf3" }, root.GetProperty("acks").EnumerateArray().Select(a => a.GetString()!));
            Assert.Equal(new[] { "rumor-q", "serf1", "serf2", "serf3" }, root.GetProperty("expected").EnumerateArray().Select(a => a.GetString()!));
            Assert.Equal(new[] { "rumor-q" }, root.GetProperty("missing").EnumerateArray().Select(a => a.GetString()!));
            Assert.False(root.GetProperty("done").GetBoolean());
        }

        Assert.True(waited >= TimeSpan.FromSeconds(3.1) && waited < TimeSpan.FromSeconds(8), $"waited {waited}; Serf's default timeout here is 3.2 s");

        // A tag filter (Serf's regular expression) selects serf2 alone: done as soon as it answers.
        clock.Restart();
        QueryAnswer only = await PostQueryAsync(client, new { name = "greet", filter = new Dictionary<string, string> { ["idx"] = "^2$" }, timeoutMs = 20_000 });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Equal("serf2|serf2|True", only.ToString());

        // A node filter (Serf's -node).
        QueryAnswer nodes = await PostQueryAsync(client, new { name = "greet", nodes = new[] { "serf1", "serf3" }, timeoutMs = 20_000 });
        Assert.Equal("serf1,serf3|serf1,serf3|True", nodes.ToString());

        // rumor query goes through the same endpoint; the agent's built-in rumor.ping is answered by itself.
        (int exit, string output) = await ChildProcess.RunAsync("query", "greet", "--timeout", "4s", "--agent", agent.Url.ToString());
        Assert.True(exit == 0, output);
        Assert.Contains("hello from serf2", output, StringComparison.Ordinal);
        Assert.Contains("3 of 4 answered", output, StringComparison.Ordinal);
        (int pingExit, string ping) = await ChildProcess.RunAsync("query", "rumor.ping", "--timeout", "4s", "--agent", agent.Url.ToString());
        Assert.True(pingExit == 0, ping);
        Assert.Contains("1 of 4 answered", ping, StringComparison.Ordinal);

        // Serf's internal queries are refused, as Serf's agent refuses them.
        HttpResponseMessage refused = await client.PostAsJsonAsync("v1/query", new { name = "_serf_ping" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
    }

    private sealed record QueryAnswer(string[] Expected, string[] From, bool Done)
    {
        public override string ToString() => $"{string.Join(',', Expected)}|{string.Join(',', From)}|{Done}";
    }

    private static async Task<QueryAnswer> PostQueryAsync(HttpClient client, object body)
    {
        HttpResponseMessage response = await client.PostAsJsonAsync("v1/query", body);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using JsonDocument json = JsonDocument.Parse(text);
        return new QueryAnswer(
            [.. json.RootElement.GetProperty("expected").EnumerateArray().Select(e => e.GetString()!)],
            [.. json.RootElement.GetProperty("responses").EnumerateArray().Select(r => r.GetProperty("from").GetString()!).Order(StringComparer.Ordinal)],
            json.RootElement.GetProperty("done").GetBoolean());
    }

    [Fact]
    public async Task Relayed_answers_flow_both_ways_between_serf_agents_and_rumor_nodes()
    {
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(31, 3, $"-event-handler=query:greet={GreetHandler()}");
        await using SerfNode asker = StartNode(31, 10, "rumor-asker");
        await using SerfNode answerer = StartNode(31, 11, "rumor-answerer");
        answerer.QueryHandler = q => q.Name == "greet" ? Encoding.UTF8.GetBytes("hello from rumor-answerer") : null;
        await asker.JoinAsync([agents.GossipEndPoint(1)]);
        await answerer.JoinAsync([agents.GossipEndPoint(2)]);
        await agents.WaitForAsync(1, members => members.Count(m => m.Status == "alive") == 5, "serf1 lists 5 members alive");
        foreach (SerfNode node in new[] { asker, answerer })
        {
            Assert.True(await Wait.UntilAsync(() => node.Members.Count(m => m.Status == SerfMemberStatus.Alive) == 5, Bound), string.Join(", ", node.Members));
        }

        // Serf's queries are best effort: a query reaches the members by gossip (each node passes it
        // on RetransmitMult × ⌈log10(N + 1)⌉ = 4 times here) and an answer is one datagram, so on a
        // loaded machine one member's answer can miss a 4-s query (CI, once: serf1's answer to the
        // first query never came, in 4 s). A query is asked again, at most three times, until every
        // member has answered; a failure carries the Serf agents' logs.
        string[] everyone = ["rumor-answerer", "serf1", "serf2", "serf3"];
        async Task<SerfQueryResult> AskAsync(SerfQueryParameters parameters)
        {
            SerfQueryResult result = await asker.QueryAsync(parameters);
            for (int attempt = 1; attempt < 3 && !result.Responses.Select(r => r.From).SequenceEqual(everyone); attempt++)
            {
                result = await asker.QueryAsync(parameters);
            }

            Assert.True(result.Responses.Select(r => r.From).SequenceEqual(everyone),
                $"answers from {string.Join(", ", result.Responses.Select(r => r.From))} after three queries; the asker sees {string.Join(", ", asker.Members)}\n"
                + string.Join("\n", Enumerable.Range(1, 3).Select(k => $"serf{k}:\n{agents.LogTail(k)}")));
            return result;
        }

        // Without a relay factor every answer comes once.
        SerfQueryResult direct = await AskAsync(new SerfQueryParameters("greet", []) { Timeout = TimeSpan.FromSeconds(4) });
        Assert.All(direct.ResponseCopies, c => Assert.Equal(1, c.Value));

        // Relay factor 3: each of the 4 others is picked by each responder with probability 3/4, so
        // copies come through Serf agents that unwrapped our relay header (rumor-answerer's answer:
        // 1 direct + 3 relays, at least 2 of them through Serf agents) and through the Rumor nodes
        // that unwrapped Serf's (the Serf agents' answers).
        long forwardedBefore = answerer.Counters.QueryResponsesRelayed + asker.Counters.QueryResponsesRelayed;
        SerfQueryResult relayed = await AskAsync(new SerfQueryParameters("greet", []) { Timeout = TimeSpan.FromSeconds(4), RelayFactor = 3 });
        Assert.True(relayed.ResponseCopies["rumor-answerer"] >= 3, string.Join(", ", relayed.ResponseCopies));
        Assert.All(relayed.ResponseCopies, c => Assert.True(c.Value >= 2, string.Join(", ", relayed.ResponseCopies)));
        Assert.True(answerer.Counters.QueryRelaysSent > 0);
        Assert.True(answerer.Counters.QueryResponsesRelayed + asker.Counters.QueryResponsesRelayed > forwardedBefore);

        // A Serf query with -relay-factor: the Rumor nodes forward the Serf agents' relayed answers.
        long before = answerer.Counters.QueryResponsesRelayed + asker.Counters.QueryResponsesRelayed;
        // Asked again like the queries above when an answer is missing (at most three times).
        static bool Answered(string text) =>
            text.Contains("Response from 'rumor-answerer': hello from rumor-answerer", StringComparison.Ordinal)
            && text.Contains("Response from 'serf3': hello from serf3", StringComparison.Ordinal);
        string output = await agents.QueryAsync(1, "-relay-factor=2", "greet", "x");
        for (int attempt = 1; attempt < 3 && !Answered(output); attempt++)
        {
            output = await agents.QueryAsync(1, "-relay-factor=2", "greet", "x");
        }

        Assert.True(Answered(output), output + "\n" + string.Join("\n", Enumerable.Range(1, 3).Select(k => $"serf{k}:\n{agents.LogTail(k)}")));
        Assert.True(answerer.Counters.QueryResponsesRelayed + asker.Counters.QueryResponsesRelayed > before, "no Serf answer was relayed through a Rumor node");
    }

    [Fact]
    public async Task A_name_conflict_query_is_answered_with_our_view_of_the_member()
    {
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(32, 3);
        await using SerfNode node = StartNode(32, 10, "rumor-conflict");
        await node.JoinAsync([agents.GossipEndPoint(1)]);
        await agents.WaitForAsync(1, members => members.Count(m => m.Status == "alive") == 4, "serf1 lists 4 members alive");

        // A second "serf2" on another address joins: it sees its name taken at serf2's address and asks
        // _serf_conflict; serf1, serf3 and the Rumor node answer with serf2's original address, so it
        // counts 0 matching of 3 answers and quits (without our answer: of 2).
        agents.StartExtra(4, "serf2");
        bool quit = await Wait.UntilAsync(() => agents.Log(4).Contains("minority in name conflict resolution", StringComparison.Ordinal), Bound);
        Assert.True(quit, agents.LogTail(4));
        Assert.Matches(@"minority in name conflict resolution, quit+ing \[0 / 3\]", agents.Log(4));
        Assert.True(node.Counters.ConflictQueriesAnswered > 0);
        Assert.DoesNotContain("conflict query response", agents.Log(4), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_keyring_rotated_by_serf_keys_is_written_to_the_keyring_file_and_kept_across_a_restart()
    {
        string oldKey = Convert.ToBase64String([.. Enumerable.Range(40, 32).Select(i => (byte)i)]);
        string newKey = Convert.ToBase64String([.. Enumerable.Range(140, 32).Select(i => (byte)i)]);
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(33, 3, $"-encrypt={oldKey}");
        string keyringFile = Path.Combine(Path.GetTempPath(), $"rumor-keyring-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(keyringFile, $"[\"{oldKey}\"]");
        try
        {
            AgentSettings settings = Settings(33, "rumor-ring", agents, o => o.KeyringFile = keyringFile);
            await using (SerfModeAgent agent = await SerfModeAgent.StartAsync(settings))
            {
                await agent.JoinAsync();
                await agents.WaitForAsync(1, members => members.Count(m => m.Status == "alive") == 4, "serf1 lists 4 members alive");
                foreach (string[] args in new[] { new[] { "-install", newKey }, ["-use", newKey], ["-remove", oldKey] })
                {
                    (int exit, string output) = await SerfAgentCluster.RunSerfAsync(["keys", $"-rpc-addr={agents.RpcAddress(1)}", .. args]);
                    Assert.True(exit == 0, $"serf keys {string.Join(' ', args)}: {output}");
                }

                string[] written = JsonSerializer.Deserialize<string[]>(await File.ReadAllTextAsync(keyringFile))!;
                Assert.Equal(new[] { newKey }, written);
                Assert.Equal(3, agent.Node.Counters.KeyringFileWrites);
                if (!OperatingSystem.IsWindows())
                {
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyringFile));
                }
            }

            // Stopped without leaving; restarted from the file alone it joins the rotated cluster.
            await using SerfModeAgent restarted = await SerfModeAgent.StartAsync(settings);
            await restarted.JoinAsync();
            await agents.WaitForAsync(1, members => members.Any(m => m.Name == "rumor-ring" && m.Status == "alive") && members.Count(m => m.Status == "alive") == 4,
                "serf1 lists the restarted rumor-ring alive");
            Assert.True(await Wait.UntilAsync(() => restarted.Node.Members.Count(m => m.Status == SerfMemberStatus.Alive) == 4, Bound), string.Join(", ", restarted.Node.Members));
        }
        finally
        {
            File.Delete(keyringFile);
        }
    }
}
