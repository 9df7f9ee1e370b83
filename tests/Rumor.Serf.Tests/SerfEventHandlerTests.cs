using System.Net;
using System.Text;
using Rumor.Agent;
using Rumor.Agent.EventHandlers;
using Rumor.Agent.Serf;
using Rumor.Hosting;
using Rumor.Serf.Wire;

namespace Rumor.Serf.Tests;

/// <summary>Serf's coalescers, member lines, environment and standard input (unit).</summary>
public sealed class SerfEventCoalescingTests
{
    private static SerfMember Member(string name, params (string Key, string Value)[] tags) => new(
        name, IPAddress.Parse("127.0.0.7"), 7946, tags.ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal),
        SerfMemberStatus.Alive, MemberlistState.Alive, 1, 1, []);

    private static SerfUserHandlerEvent User(string name, ulong lTime, string payload, bool coalesce = true) =>
        new(new SerfUserEvent(lTime, name, Encoding.UTF8.GetBytes(payload), coalesce));

    [Fact]
    public void User_coalescer_keeps_the_latest_lamport_time_per_name_and_only_coalescable_events()
    {
        SerfUserCoalescer coalescer = new();
        Assert.False(coalescer.Handles(User("deploy", 1, "x", coalesce: false)));
        foreach (SerfUserHandlerEvent e in new[] { User("deploy", 3, "a"), User("deploy", 5, "b"), User("deploy", 4, "c"), User("other", 2, "d"), User("deploy", 5, "e") })
        {
            Assert.True(coalescer.Handles(e));
            coalescer.Coalesce(e);
        }

        Assert.Equal(["deploy@5:b", "deploy@5:e", "other@2:d"], coalescer.Flush().Cast<SerfUserHandlerEvent>()
            .Select(e => $"{e.Event.Name}@{e.Event.LTime}:{Encoding.UTF8.GetString(e.Event.Payload)}"));
        Assert.Empty(coalescer.Flush());
    }

    [Fact]
    public void Member_coalescer_groups_the_latest_event_per_member_and_skips_repeats_except_updates()
    {
        SerfMemberCoalescer coalescer = new();
        Assert.False(coalescer.Handles(User("x", 1, "")));
        coalescer.Coalesce(new SerfMembersEvent("member-join", [Member("a")]));
        coalescer.Coalesce(new SerfMembersEvent("member-join", [Member("b")]));
        coalescer.Coalesce(new SerfMembersEvent("member-failed", [Member("a")]));
        coalescer.Coalesce(new SerfMembersEvent("member-update", [Member("c")]));
        string Describe(IReadOnlyList<SerfHandlerEvent> events) => string.Join(' ', events.Cast<SerfMembersEvent>()
            .OrderBy(e => e.Kind, StringComparer.Ordinal).Select(e => e.Kind + ":" + string.Join(',', e.Members.Select(m => m.Name).Order(StringComparer.Ordinal))));
        Assert.Equal("member-failed:a member-join:b member-update:c", Describe(coalescer.Flush()));

        // Same event again for b: skipped; another update of c: sent; a left a as failed again: skipped.
        coalescer.Coalesce(new SerfMembersEvent("member-join", [Member("b")]));
        coalescer.Coalesce(new SerfMembersEvent("member-update", [Member("c")]));
        coalescer.Coalesce(new SerfMembersEvent("member-failed", [Member("a")]));
        Assert.Equal("member-update:c", Describe(coalescer.Flush()));
        Assert.Empty(coalescer.Flush());
    }

    [Fact]
    public void Scripts_get_serfs_environment_and_standard_input()
    {
        SerfMember member = Member("web\t1", ("role", "front\nend"), ("dc", "x"));
        Assert.Equal("web\\t1\t127.0.0.7\tfront\\nend\tdc=x,role=front\\nend\n", SerfEventHandlerRunner.MemberLine(member));
        Assert.Equal("web\\t1\t127.0.0.7\tfront\\nend\tdc=x,role=front\\nend\n", Encoding.UTF8.GetString(SerfEventHandlerRunner.StandardInput(new SerfMembersEvent("member-join", [member]))));
        Assert.Equal("v42\n", Encoding.UTF8.GetString(SerfEventHandlerRunner.StandardInput(User("deploy", 9, "v42"))));
        Assert.Equal("v42\n", Encoding.UTF8.GetString(SerfEventHandlerRunner.StandardInput(User("deploy", 9, "v42\n"))));
        Assert.Empty(SerfEventHandlerRunner.StandardInput(User("deploy", 9, "")));

        Dictionary<string, string> tags = new(StringComparer.Ordinal) { ["role"] = "web", ["dc-name.é"] = "eu" };
        IReadOnlyDictionary<string, string> user = SerfEventHandlerRunner.Environment(User("deploy", 9, "v42"), "r1", tags);
        Assert.Equal(
            "SERF_EVENT=user SERF_SELF_NAME=r1 SERF_SELF_ROLE=web SERF_TAG_DC_NAME__=eu SERF_TAG_ROLE=web SERF_USER_EVENT=deploy SERF_USER_LTIME=9",
            string.Join(' ', user.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => v.Key + "=" + v.Value)));
        IReadOnlyDictionary<string, string> query = SerfEventHandlerRunner.Environment(new SerfQueryHandlerEvent(new SerfQuery("who", [], "s1", 12)), "r1", new Dictionary<string, string>());
        Assert.Equal("SERF_EVENT=query SERF_QUERY_LTIME=12 SERF_QUERY_NAME=who SERF_SELF_NAME=r1 SERF_SELF_ROLE=",
            string.Join(' ', query.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => v.Key + "=" + v.Value)));
    }

    [Fact]
    public void A_query_is_answered_once_within_its_deadline_and_size()
    {
        List<string> sent = [];
        SerfQuery query = new("who", [], "s1", 1) { Responder = p => sent.Add(Encoding.UTF8.GetString(p)), Deadline = DateTimeOffset.UtcNow.AddMinutes(5) };
        Assert.Equal("response exceeds limit of 1024 bytes", query.Respond(new byte[1025]));
        Assert.Null(query.Respond("me"u8.ToArray()));
        Assert.Equal("response already sent", query.Respond("again"u8.ToArray()));
        Assert.Equal(["me"], sent);
        SerfQuery late = new("who", [], "s1", 1) { Responder = p => sent.Add("late"), Deadline = DateTimeOffset.UtcNow.AddSeconds(-1) };
        Assert.Equal("response is past the deadline", late.Respond("x"u8.ToArray()));
        Assert.Equal(["me"], sent);
    }
}

/// <summary>
/// A Serf-mode agent's <c>--event-handler</c> scripts driven by real Serf agents: user events
/// (coalesced and not), a custom query answered by a script's output, member-join and
/// member-failed with Serf's member lines; and <c>rumor query --node/--relay-factor</c>.
/// </summary>
[Collection(nameof(SerfInteropCollection))]
public sealed class SerfEventHandlerInteropTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static string Directory()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"rumor-serf-handlers-{Environment.ProcessId}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        return directory;
    }

    private static AgentSettings Settings(int cluster, string name, SerfAgentCluster agents, IEnumerable<string> handlers, SerfCoalesceOptions coalesce) =>
        new(new RumorOptions
        {
            Name = name,
            Bind = $"{SerfAgentCluster.AgentAddress(cluster, 10)}:{SerfAgentCluster.GossipPort}",
            Seeds = [agents.GossipEndPoint(1).ToString()],
            Tags = new Dictionary<string, string> { ["role"] = "web", ["dc-name"] = "eu1" },
        }, Core.NodeAddress.Parse("127.0.0.1:0"))
        {
            Protocol = AgentProtocol.Serf,
            EventHandlers = [.. handlers.Select(EventHandlerSpec.Parse)],
            SerfCoalesce = coalesce,
        };

    private static string Read(string path) => File.Exists(path) ? File.ReadAllText(path) : "";

    private static int Lines(string text, string prefix) => text.Split('\n').Count(l => l.StartsWith(prefix, StringComparison.Ordinal));

    [Fact]
    public async Task A_killed_member_is_reaped_after_the_reconnect_timeout_and_member_reap_runs_once()
    {
        string directory = Directory();
        string reaps = Path.Combine(directory, "reaps.log");
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(53, 3);
        AgentSettings settings = Settings(53, "rumor-r", agents, [$"member-reap=(echo \"$SERF_EVENT\"; cat) >> {reaps}"], SerfCoalesceOptions.Default) with
        {
            SerfNode = SerfAgentOptions.Default with { ReconnectTimeout = TimeSpan.FromSeconds(2), TombstoneTimeout = TimeSpan.FromSeconds(2), ReapInterval = TimeSpan.FromMilliseconds(200) },
        };
        await using SerfModeAgent agent = await SerfModeAgent.StartAsync(settings);
        await agent.JoinAsync();
        await agents.WaitForAsync(1, m => m.Count(x => x.Status == "alive") == 4, "serf1 lists 4 members alive");
        Assert.True(await Wait.UntilAsync(() => agent.Node.Members.Count(m => m.Status == SerfMemberStatus.Alive) == 4, Bound), string.Join(", ", agent.Node.Members));

        agents.Kill(3);
        Assert.True(await Wait.UntilAsync(() => Read(reaps).Contains("member-reap\nserf3\t127.83.53.3\tserf\tidx=3,role=serf\n", StringComparison.Ordinal), Bound),
            $"{Read(reaps)}\n{string.Join(", ", agent.Node.Members)}");
        Assert.Null(agent.Node.FindMember("serf3"));

        // Longer than the reconnect timeout plus a reap pass again: the live members are never
        // reaped, and serf3 (gone from the table) is not reaped twice.
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Equal(["member-reap", "serf3\t127.83.53.3\tserf\tidx=3,role=serf"], Read(reaps).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["rumor-r", "serf1", "serf2"], agent.Node.Members.Where(m => m.Status == SerfMemberStatus.Alive).Select(m => m.Name));
        Assert.Equal(1, agent.Node.Counters.MembersReaped);
    }

    [Fact]
    public async Task User_events_reach_our_handler_coalesced_as_serf_coalesces_them()
    {
        string directory = Directory();
        string log = Path.Combine(directory, "user.log");

        // Long user periods, so the burst (five serf CLI runs on a loaded machine) lands in one batch.
        SerfCoalesceOptions coalesce = SerfCoalesceOptions.Default with { UserCoalescePeriod = TimeSpan.FromSeconds(20), UserQuiescentPeriod = TimeSpan.FromSeconds(8) };
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(40, 2);
        string handler = $"user=printf '%s|%s|%s|%s|%s|%s\\n' \"$SERF_EVENT\" \"$SERF_USER_EVENT\" \"$(cat)\" \"$SERF_SELF_NAME\" \"$SERF_SELF_ROLE\" \"$SERF_TAG_DC_NAME\" >> {log}";
        await using SerfModeAgent agent = await SerfModeAgent.StartAsync(Settings(40, "rumor-h", agents, [handler], coalesce));
        await agent.JoinAsync();
        await agents.WaitForAsync(1, members => members.Count(m => m.Status == "alive") == 3, "serf1 lists 3 members alive");

        // `serf event` coalesces by default: five of one name, then five that do not coalesce. The
        // burst goes through one agent so its Lamport times increase (events of two agents can share
        // one, and Serf's coalescer then keeps both).
        for (int i = 1; i <= 5; i++)
        {
            (int exit, string output) = await SerfAgentCluster.RunSerfAsync("event", $"-rpc-addr={agents.RpcAddress(1)}", "burst", $"b{i}");
            Assert.True(exit == 0, output);
        }

        for (int i = 1; i <= 5; i++)
        {
            await agents.SendEventAsync(1 + (i % 2), "each", $"e{i}");
        }

        Assert.True(await Wait.UntilAsync(() => Lines(Read(log), "user|each|") == 5 && Lines(Read(log), "user|burst|") >= 1, Bound), Read(log));

        // Once the batch is out nothing of it is left; a late copy would show as a second line.
        await Task.Delay(TimeSpan.FromSeconds(2));
        string text = Read(log);
        Assert.Equal(["user|burst|b5|rumor-h|web|eu1"], text.Split('\n').Where(l => l.StartsWith("user|burst|", StringComparison.Ordinal)));
        Assert.Equal(["e1", "e2", "e3", "e4", "e5"], text.Split('\n').Where(l => l.StartsWith("user|each|", StringComparison.Ordinal)).Select(l => l.Split('|')[2]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_serf_query_is_answered_by_our_handler_and_member_events_carry_serfs_member_lines()
    {
        string directory = Directory();
        string members = Path.Combine(directory, "members.log");
        string queries = Path.Combine(directory, "queries.log");
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(41, 3);
        string[] handlers =
        [
            $"member-join,member-failed=(echo \"$SERF_EVENT\"; cat) >> {members}",
            $"query:whoami=echo \"$SERF_QUERY_NAME $SERF_QUERY_LTIME\" >> {queries}; printf 'answer from %s to ' \"$SERF_SELF_NAME\"; cat",
            "query:big=head -c 2000 /dev/zero | tr '\\0' x",
            "query:fails=echo nope; exit 3",
        ];
        await using SerfModeAgent agent = await SerfModeAgent.StartAsync(Settings(41, "rumor-h", agents, handlers, SerfCoalesceOptions.Default));
        await agent.JoinAsync();
        await agents.WaitForAsync(1, m => m.Count(x => x.Status == "alive") == 4, "serf1 lists 4 members alive");

        // member-join, coalesced: Serf's line per member (name, address, role, sorted tags).
        Assert.True(await Wait.UntilAsync(() => Read(members).Contains("serf2\t127.83.41.2\tserf\tidx=2,role=serf\n", StringComparison.Ordinal), Bound), Read(members));
        Assert.StartsWith("member-join\n", Read(members), StringComparison.Ordinal);

        // A custom query: the handler's standard output is our answer; too large or failing: none.
        string answer = await agents.QueryAsync(2, "whoami", "ping");
        Assert.Contains("Response from 'rumor-h': answer from rumor-h to ping", answer, StringComparison.Ordinal);
        Assert.Matches(@"^whoami \d+\n$", Read(queries));
        string big = await agents.QueryAsync(2, "big");
        Assert.DoesNotContain("Response from 'rumor-h'", big, StringComparison.Ordinal);
        Assert.Contains("Ack from 'rumor-h'", big, StringComparison.Ordinal);
        string fails = await agents.QueryAsync(2, "fails");
        Assert.DoesNotContain("Response from 'rumor-h'", fails, StringComparison.Ordinal);

        // A killed agent: member-failed with its line.
        agents.Kill(3);
        Assert.True(await Wait.UntilAsync(() => Read(members).Contains("member-failed\nserf3\t127.83.41.3\tserf\tidx=3,role=serf\n", StringComparison.Ordinal), Bound), Read(members));

        // rumor query --node / --relay-factor against this Serf-mode agent.
        (int exit, string output) = await ChildProcess.RunAsync("query", "whoami", "hi", "--node", "rumor-h", "--node", "serf1", "--relay-factor", "1", "--timeout", "5s", "--agent", agent.Url.ToString());
        Assert.True(exit == 0, output);
        Assert.Contains("answer from rumor-h to hi", output, StringComparison.Ordinal);
        Assert.Contains("1 of 2 answered", output, StringComparison.Ordinal);
        Assert.Contains("no answer from: serf1", output, StringComparison.Ordinal);
        Assert.True(agent.Node.Counters.QueryRelaysSent > 0, "no relay copies were sent (relay factor 1)");
        (int badExit, string bad) = await ChildProcess.RunAsync("query", "whoami", "--relay-factor", "9", "--agent", agent.Url.ToString());
        Assert.NotEqual(0, badExit);
        Assert.Contains("--relay-factor", bad, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rumor_mode_agent_refuses_serfs_query_options_instead_of_ignoring_them()
    {
        await using RumorAgent agent = await RumorAgent.StartAsync(new AgentSettings(
            new RumorOptions { Name = "rumor-mode", Bind = $"{SerfAgentCluster.AgentAddress(42, 10)}:0" }, Core.NodeAddress.Parse("127.0.0.1:0")));
        (int exit, string output) = await ChildProcess.RunAsync("query", "rumor.ping", "--node", "rumor-mode", "--timeout", "2s", "--agent", agent.Url.ToString());
        Assert.NotEqual(0, exit);
        Assert.Contains("only an agent running --protocol serf", output, StringComparison.Ordinal);
        (int relayExit, string relay) = await ChildProcess.RunAsync("query", "rumor.ping", "--relay-factor", "2", "--timeout", "2s", "--agent", agent.Url.ToString());
        Assert.NotEqual(0, relayExit);
        Assert.Contains("only an agent running --protocol serf", relay, StringComparison.Ordinal);
        (int plainExit, string plain) = await ChildProcess.RunAsync("query", "rumor.ping", "--timeout", "2s", "--agent", agent.Url.ToString());
        Assert.True(plainExit == 0, plain);
        Assert.Contains("1 of 1 answered", plain, StringComparison.Ordinal);
    }
}
