using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Rumor.Cli.Tests.Client;

/// <summary>
/// The client commands against a real HTTP server playing the agent (<see cref="FakeAgent"/>): the
/// request each command sends (method, path and query as sent, JSON body), how it renders the
/// answer as a table and with --json, and how it fails: usage mistakes exit 2 before any request,
/// problem details exit 1 with their detail, and no agent exits 3 with one clear line.
/// </summary>
public sealed class ClientCommandTests
{
    private const string TwoMembers = """
        [{"name":"node-a","address":"127.0.0.1:7946","state":"alive","generation":1717000000000,"incarnation":3,"tags":{"role":"web","dc":"eu"},"stateChangedMs":12000,"isLocal":true},
         {"name":"node-bb","address":"127.0.0.1:7947","state":"suspect","generation":1717000000001,"incarnation":12,"tags":{},"stateChangedMs":250,"isLocal":false}]
        """;

    [Fact]
    public async Task Members_prints_an_aligned_table()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("GET", "/v1/members", 200, TwoMembers);

        (int code, string output, string error) = await ClientRun.RunAsync(["members", "--agent", agent.Url]);

        Assert.True(code == 0, error);
        RecordedRequest request = agent.Single();
        Assert.Equal("GET", request.Method);
        Assert.Equal("/v1/members", request.Target);
        Assert.Equal(
            """
            NAME     ADDRESS         STATE    INCARNATION  SINCE  TAGS
            node-a   127.0.0.1:7946  alive    3            12s    dc=eu,role=web
            node-bb  127.0.0.1:7947  suspect  12           250ms

            """.ReplaceLineEndings("\n"),
            output);
    }

    [Fact]
    public async Task Members_state_filter_goes_in_the_query()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("GET", "/v1/members", 200, "[]");

        (int code, string output, _) = await ClientRun.RunAsync(["members", "--state", "Suspect", "--agent", agent.Url]);

        Assert.Equal(0, code);
        Assert.Equal("/v1/members?state=suspect", agent.Single().Target);
        Assert.Equal("no suspect members\n", output);
    }

    [Fact]
    public async Task Members_json_prints_the_answer_as_json()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("GET", "/v1/members", 200, TwoMembers);

        (int code, string output, _) = await ClientRun.RunAsync(["members", "--json", "--agent", agent.Url]);

        Assert.Equal(0, code);
        ClientRun.SameJson(TwoMembers, output);
        Assert.Contains("\n  {", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_state_is_a_usage_error_and_sends_nothing()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();

        (int code, _, string error) = await ClientRun.RunAsync(["members", "--state", "zombie", "--agent", agent.Url]);

        Assert.Equal(2, code);
        Assert.Contains("--state: 'zombie' is not a state", error, StringComparison.Ordinal);
        Assert.Empty(agent.Requests);
    }

    [Fact]
    public async Task Members_show_prints_the_member_and_its_verdicts()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("GET", "/v1/members/node%20a", 200, """
            {"name":"node a","address":"10.0.0.1:7946","state":"dead","generation":5,"incarnation":2,"tags":{"role":"db"},"stateChangedMs":65000,
             "verdicts":[{"kind":"suspect","source":"gossip","accuser":"node-b","incarnation":2,"accusers":["node-b"]},{"kind":"dead","source":"suspicionTimeout","accuser":"node-b","incarnation":2,"accusers":["node-b","node-c"],"confirmations":1}]}
            """);

        (int code, string output, string error) = await ClientRun.RunAsync(["members", "show", "node a", "--agent", agent.Url]);

        Assert.True(code == 0, error);
        Assert.Contains("state:       dead for 1m05s\n", output, StringComparison.Ordinal);
        Assert.Contains("tags:        role=db\n", output, StringComparison.Ordinal);
        // The typed verdict record's columns; a column no verdict has a value for (AT, the suspicion times, health, guard, PROBES) is left out.
        Assert.Contains(
            "verdicts (2):\n"
            + "KIND     SOURCE            GEN  INC  ACCUSERS       CONF\n"
            + "suspect  gossip            0    2    node-b         -\n"
            + "dead     suspicionTimeout  0    2    node-b,node-c  1\n"
            + "GEN generation; INC incarnation; CONF confirmations; --json: every field.\n",
            output,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_member_reports_the_problem_detail_and_exits_4()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.OnProblem("GET", "/v1/members/ghost", 404, "Not Found", "no member named 'ghost' is known to node-a.");

        (int code, string output, string error) = await ClientRun.RunAsync(["members", "show", "ghost", "--agent", agent.Url]);

        Assert.Equal(4, code);
        Assert.Empty(output);
        Assert.Equal("rumor members show: no member named 'ghost' is known to node-a.\n", error);
    }

    [Fact]
    public async Task Join_posts_the_seeds_and_reports_each()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("POST", "/v1/join", 200, """
            {"joined":[{"seed":"127.0.0.1:7946","members":3}],"failed":[{"seed":"127.0.0.1:7950","reason":"connection refused"}]}
            """);

        (int code, string output, string error) = await ClientRun.RunAsync(["join", "127.0.0.1:7946", "127.0.0.1:7950", "--agent", agent.Url]);

        Assert.True(code == 0, error);
        RecordedRequest request = agent.Single();
        Assert.Equal("POST", request.Method);
        Assert.StartsWith("application/json", request.ContentType, StringComparison.Ordinal);
        ClientRun.SameJson("""{"seeds":["127.0.0.1:7946","127.0.0.1:7950"]}""", request.Body);
        Assert.Equal("joined through 127.0.0.1:7946 (3 members known)\ncould not join through 127.0.0.1:7950: connection refused\n", output);
    }

    [Fact]
    public async Task Join_where_no_seed_answered_exits_1_with_the_detail()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.OnProblem("POST", "/v1/join", 502, "Bad Gateway", "no seed answered: 127.0.0.1:7950 (connection refused).");

        (int code, _, string error) = await ClientRun.RunAsync(["join", "127.0.0.1:7950", "--agent", agent.Url]);

        Assert.Equal(1, code);
        Assert.Contains("rumor join: no seed answered: 127.0.0.1:7950 (connection refused).", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Join_without_an_address_is_a_usage_error()
    {
        (int code, _, string error) = await ClientRun.RunAsync(["join", "--agent", "http://127.0.0.1:9"]);

        Assert.Equal(2, code);
        Assert.Contains("rumor join: Required argument missing for command: 'join'.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Leave_sends_its_timeout_in_milliseconds()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("POST", "/v1/leave", 200, """{"left":false}""");

        (int code, string output, _) = await ClientRun.RunAsync(["leave", "--timeout", "1m30s", "--stay", "--agent", agent.Url]);

        Assert.Equal(0, code);
        ClientRun.SameJson("""{"timeoutMs":90000}""", agent.Single().Body);
        Assert.Contains("not confirmed within 1m30s", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Leave_asks_the_agent_to_stop_unless_it_stays()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("POST", "/v1/leave", 200, """{"left":true,"stopping":true}""");

        (int code, string output, _) = await ClientRun.RunAsync(["leave", "--agent", agent.Url]);

        Assert.Equal(0, code);
        ClientRun.SameJson("""{"shutdown":true}""", agent.Single().Body);
        Assert.Equal("left the cluster; the agent is stopping\n", output);
    }

    [Fact]
    public async Task Tags_info_and_force_leave_speak_their_endpoints()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("PATCH", "/v1/tags", 200, """{"tags":{"env":"prod","role":"web"}}""");
        agent.On("POST", "/v1/members/node-b/force-leave", 200, """{"name":"node-b","state":"left"}""");
        agent.On("GET", "/v1/info", 200, """{"name":"node-a","address":"127.0.0.1:7946","version":"0.1.0","protocolVersion":1,"preset":"lan","tags":{"env":"prod"},"encrypted":true,"eventHandlers":["query:x=./x.sh"],"aggregates":0,"members":3,"uptimeMs":61000,"runtime":".NET"}""");

        (int setCode, string set, _) = await ClientRun.RunAsync(["tags", "set", "env=prod", "--agent", agent.Url]);
        string setBody = agent.Requests[^1].Body;
        (int forceCode, string forced, _) = await ClientRun.RunAsync(["force-leave", "node-b", "--agent", agent.Url]);
        (int infoCode, string info, _) = await ClientRun.RunAsync(["info", "--agent", agent.Url]);
        (int badCode, _, string badError) = await ClientRun.RunAsync(["tags", "set", "novalue", "--agent", agent.Url]);

        Assert.Equal(0, setCode);
        ClientRun.SameJson("""{"set":{"env":"prod"}}""", setBody);
        Assert.Equal("env=prod\nrole=web\n", set);
        Assert.Equal(0, forceCode);
        Assert.Equal("node-b is now left\n", forced);
        Assert.Equal(0, infoCode);
        Assert.Contains("event handlers:", info, StringComparison.Ordinal);
        Assert.Contains("query:x=./x.sh", info, StringComparison.Ordinal);
        Assert.Contains("encrypted:", info, StringComparison.Ordinal);
        Assert.Equal(2, badCode);
        Assert.Contains("novalue", badError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kv_set_puts_text_with_its_ttl_and_escapes_the_key()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("PUT", "/v1/kv/config/db%20url", 200, """{"owner":"node-a","key":"config/db url","version":7}""");

        (int code, string output, string error) = await ClientRun.RunAsync(["kv", "set", "config/db url", "postgres://x", "--ttl", "30s", "--agent", agent.Url]);

        Assert.True(code == 0, error);
        RecordedRequest request = agent.Single();
        Assert.Equal("PUT", request.Method);
        ClientRun.SameJson("""{"value":"postgres://x","ttlMs":30000}""", request.Body);
        Assert.Equal("set config/db url (12 bytes, owner node-a, version 7, expires in 30s)\n", output);
    }

    [Fact]
    public async Task Kv_set_from_stdin_sends_binary_as_base64()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("PUT", "/v1/kv/blob", 200, """{"owner":"node-a","key":"blob","version":1}""");
        byte[] binary = [0xFF, 0x00, 0xFE, 0x41];

        (int code, _, string error) = await ClientRun.RunAsync(["kv", "set", "blob", "-", "--agent", agent.Url], stdin: binary);

        Assert.True(code == 0, error);
        ClientRun.SameJson($$"""{"valueBase64":"{{Convert.ToBase64String(binary)}}"}""", agent.Single().Body);
    }

    [Fact]
    public async Task Kv_set_reads_a_file_as_text_when_it_is_utf8()
    {
        string path = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(path, "line 1\nzwölf\n", new UTF8Encoding(false));
            await using FakeAgent agent = await FakeAgent.StartAsync();
            agent.On("PUT", "/v1/kv/notes", 200, """{"owner":"node-a","key":"notes","version":2}""");

            (int code, _, string error) = await ClientRun.RunAsync(["kv", "set", "notes", "--file", path, "--agent", agent.Url]);

            Assert.True(code == 0, error);
            ClientRun.SameJson("""{"value":"line 1\nzwölf\n"}""", agent.Single().Body);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(new[] { "kv", "set", "k", "v", "--file", "/tmp/x" }, "either on the command line or with --file")]
    [InlineData(new[] { "kv", "set", "k" }, "no value: give it as an argument")]
    [InlineData(new[] { "kv", "set", "k", "v", "--ttl", "30" }, "--ttl: '30' is not a duration")]
    [InlineData(new[] { "kv", "set", "k", "--file", "/nonexistent/rumor-test" }, "--file: cannot read '/nonexistent/rumor-test'")]
    [InlineData(new[] { "kv", "set", "k", "v", "extra" }, "rumor kv set: Unrecognized command or argument 'extra'.")]
    [InlineData(new[] { "kv", "frob" }, "rumor kv: Unrecognized command or argument 'frob'.")]
    [InlineData(new[] { "query", "load", "--tag", "role" }, "--tag: 'role' is not KEY=VALUE")]
    [InlineData(new[] { "monitor", "--kinds", "member,bogus" }, "--kinds: 'bogus' is not a kind")]
    [InlineData(new[] { "events", "--limit", "-3" }, "--limit: '-3' is not a positive whole number")]
    [InlineData(new[] { "status", "--frobnicate" }, "rumor status: unknown option '--frobnicate'.")]
    [InlineData(new[] { "status", "--agent", "ftp://host" }, "--agent: 'ftp://host' is not an agent address")]
    public async Task Bad_arguments_exit_2_and_send_nothing(string[] args, string message)
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        string[] withAgent = args.Contains("--agent") ? args : [.. args, "--agent", agent.Url];

        (int code, _, string error) = await ClientRun.RunAsync(withAgent);

        Assert.Equal(2, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Empty(agent.Requests);
    }

    [Fact]
    public async Task Kv_get_prints_every_owner_and_marks_binary_values()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("GET", "/v1/kv/color", 200, """
            [{"owner":"node-a","key":"color","value":"blue\nish","version":3},
             {"owner":"node-b","key":"color","valueBase64":"/wA=","version":11,"ttlMs":5000}]
            """);

        (int code, string output, string error) = await ClientRun.RunAsync(["kv", "get", "color", "--agent", agent.Url]);

        Assert.True(code == 0, error);
        Assert.Equal("/v1/kv/color", agent.Single().Target);
        Assert.Equal("OWNER   VERSION  TTL  VALUE\nnode-a  3        -    blue\\nish\nnode-b  11       5s   base64:/wA=\n", output);
    }

    [Fact]
    public async Task Kv_get_of_a_missing_key_exits_4_with_the_detail()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.OnProblem("GET", "/v1/kv/nope", 404, "Not Found", "no owner has the key 'nope'.");

        (int code, _, string error) = await ClientRun.RunAsync(["kv", "get", "nope", "--owner", "node-b", "--agent", agent.Url]);

        Assert.Equal(4, code);
        Assert.Equal("/v1/kv/nope?owner=node-b", agent.Single().Target);
        Assert.Equal("rumor kv get: no owner has the key 'nope'.\n", error);
    }

    [Fact]
    public async Task Kv_delete_sends_delete_and_reports_the_tombstone()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("DELETE", "/v1/kv/color", 200, """{"owner":"node-a","key":"color","version":4}""");

        (int code, string output, _) = await ClientRun.RunAsync(["kv", "delete", "color", "--agent", agent.Url]);

        Assert.Equal(0, code);
        Assert.Equal("DELETE", agent.Single().Method);
        Assert.Equal("deleted color (owner node-a, tombstone version 4)\n", output);
    }

    [Fact]
    public async Task Kv_list_passes_prefix_and_owner()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("GET", "/v1/kv", 200, """[{"owner":"node-a","key":"app/x","value":"1","version":1}]""");

        (int code, string output, _) = await ClientRun.RunAsync(["kv", "list", "--prefix", "app/", "--owner", "node-a", "--agent", agent.Url]);

        Assert.Equal(0, code);
        Assert.Equal("/v1/kv?prefix=app%2F&owner=node-a", agent.Single().Target);
        Assert.Equal("OWNER   KEY    VERSION  TTL  VALUE\nnode-a  app/x  1        -    1\n", output);
    }

    [Fact]
    public async Task Event_posts_name_payload_and_coalesce()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("POST", "/v1/events", 200, """{"id":"e-17","name":"deploy","lamportTime":42}""");

        (int code, string output, _) = await ClientRun.RunAsync(["event", "deploy", "v42", "--coalesce", "--agent", agent.Url]);

        Assert.Equal(0, code);
        ClientRun.SameJson("""{"name":"deploy","payload":"v42","coalesce":true}""", agent.Single().Body);
        Assert.Equal("sent event deploy (id e-17, lamport time 42)\n", output);
    }

    // Found by the end-to-end warm-up events: `rumor event` sent every event as coalescing (a flag's
    // implicit default result counted as present), so members held each one for EventCoalesceWindow
    // and a steady stream of same-name events was never delivered until it stopped.
    [Fact]
    public async Task Event_without_coalesce_posts_coalesce_false()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("POST", "/v1/events", 200, """{"id":"e-18","name":"deploy","lamportTime":43}""");

        (int code, _, _) = await ClientRun.RunAsync(["event", "deploy", "v43", "--agent", agent.Url]);

        Assert.Equal(0, code);
        ClientRun.SameJson("""{"name":"deploy","payload":"v43","coalesce":false}""", agent.Single().Body);
    }

    [Fact]
    public async Task Events_prints_recent_events_with_their_age()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        string received = ClientRun.Now.AddSeconds(-90).ToString("O");
        agent.On("GET", "/v1/events", 200, $$"""[{"id":"e-1","name":"deploy","payload":"v42","origin":"node-a","lamportTime":7,"receivedAt":"{{received}}"}]""");

        (int code, string output, _) = await ClientRun.RunAsync(["events", "--limit", "5", "--agent", agent.Url]);

        Assert.Equal(0, code);
        Assert.Equal("/v1/events?limit=5", agent.Single().Target);
        Assert.Equal("AGE    NAME    ORIGIN  LAMPORT  ID   PAYLOAD\n1m30s  deploy  node-a  7        e-1  v42\n", output);
    }

    [Fact]
    public async Task Query_sends_filter_and_timeout_and_names_who_did_not_answer()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("POST", "/v1/query", 200, """
            {"id":"q-3","expected":["node-a","node-b","node-c"],"responses":[{"from":"node-a","payload":"0.25"},{"from":"node-b","payload":"0.5"}],"missing":["node-c"]}
            """);

        (int code, string output, string error) = await ClientRun.RunAsync(["query", "load", "--tag", "role=web", "--tag", "dc=eu", "--timeout", "500ms", "--agent", agent.Url]);

        Assert.True(code == 0, error);
        ClientRun.SameJson("""{"name":"load","payload":"","filter":{"role":"web","dc":"eu"},"timeoutMs":500}""", agent.Single().Body);
        Assert.Equal("FROM    PAYLOAD\nnode-a  0.25\nnode-b  0.5\n2 of 3 answered\nno answer from: node-c\n", output);
    }

    [Fact]
    public async Task Aggregate_and_status_render_their_fields()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("GET", "/v1/aggregates/cpu", 200, """{"key":"cpu","sum":3.5,"count":7,"average":0.5,"min":0.1,"max":0.9,"errorBound":0.01,"converged":true,"epoch":2,"rounds":14}""");
        agent.On("GET", "/v1/status", 200, """
            {"name":"node-a","address":"127.0.0.1:7946","version":"0.1.0","generation":9,"incarnation":4,"preset":"lan","uptimeMs":3723000,
             "members":{"alive":2,"suspect":1,"dead":0,"left":0},"localHealth":{"score":1,"max":8},
             "convergence":{"converged":false,"sinceMs":0,"checksum":"9f3a","differing":["node-b"],"unknown":["node-c"]},
             "counters":{"packetsSent":10,"bytesSent":2048}}
            """);

        (int aggregateCode, string aggregate, _) = await ClientRun.RunAsync(["aggregate", "show", "cpu", "--agent", agent.Url]);
        (int statusCode, string status, _) = await ClientRun.RunAsync(["status", "--agent", agent.Url]);

        Assert.Equal(0, aggregateCode);
        Assert.Contains("average:     0.5\n", aggregate, StringComparison.Ordinal);
        Assert.Contains("converged:   yes\n", aggregate, StringComparison.Ordinal);
        Assert.Equal(0, statusCode);
        Assert.Contains("uptime: 1h02m\n", Unpadded(status), StringComparison.Ordinal);
        Assert.Contains("members: 2 alive, 1 suspect, 0 dead, 0 left\n", Unpadded(status), StringComparison.Ordinal);
        Assert.Contains("local health: 1 of max 8 (0 is healthy)\n", Unpadded(status), StringComparison.Ordinal);
        Assert.Contains("convergence: not converged; differing: node-b; unknown: node-c (checksum 9f3a)\n", Unpadded(status), StringComparison.Ordinal);
        Assert.Contains("bytesSent: 2048\n", Unpadded(status), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Aggregate_start_sends_key_function_and_lifetime_and_prints_the_note()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("POST", "/v1/aggregates", 201, """{"key":"cpu","count":3,"valueCount":2,"errorBound":0.5,"converged":false,"epoch":1,"initiator":"a","rounds":0,"function":"max","remainingMs":90000,"input":"missing","note":"this member has no value of 'cpu'."}""");

        (int code, string output, string error) = await ClientRun.RunAsync(["aggregate", "start", "cpu", "--function", "max", "--lifetime", "90s", "--agent", agent.Url]);

        Assert.True(code == 0, error);
        ClientRun.SameJson("""{"key":"cpu","function":"max","lifetimeMs":90000}""", agent.Single().Body);
        Assert.Contains("function:    max\n", output, StringComparison.Ordinal);
        Assert.Contains("ends in:     1m30s\n", output, StringComparison.Ordinal);
        Assert.Contains("note:        this member has no value of 'cpu'.\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Aggregate_list_and_stop_and_a_show_of_nothing_running()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("GET", "/v1/aggregates", 200, """[{"key":"cpu","average":0.5,"errorBound":0.001,"converged":true,"epoch":1,"initiator":"a","rounds":9,"function":"average","value":0.5,"remainingMs":60000}]""");
        agent.On("DELETE", "/v1/aggregates/cpu", 200, """{"key":"cpu","stopped":true}""");
        agent.On("GET", "/v1/aggregates/disk", 404, """{"title":"Not found","status":404,"detail":"No aggregate of 'disk' runs at this member."}""", "application/problem+json");

        (int listCode, string list, _) = await ClientRun.RunAsync(["aggregate", "list", "--agent", agent.Url]);
        (int stopCode, string stop, _) = await ClientRun.RunAsync(["aggregate", "stop", "cpu", "--agent", agent.Url]);
        (int showCode, _, string showError) = await ClientRun.RunAsync(["aggregate", "show", "disk", "--agent", agent.Url]);

        Assert.Equal(0, listCode);
        Assert.Equal("KEY  FUNCTION  VALUE  CONVERGED  ENDS IN\ncpu  average   0.5    yes        1m00s\n", list);
        Assert.Equal(0, stopCode);
        Assert.Equal("stopped aggregate cpu (the end spreads to every member)\n", stop);
        Assert.Equal(4, showCode);
        Assert.Contains("No aggregate of 'disk' runs", showError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_agent_exits_3_with_one_clear_line()
    {
        int port = ClosedPort();

        (int code, string output, string error) = await ClientRun.RunAsync(["members", "--agent", $"http://127.0.0.1:{port}"]);

        Assert.Equal(3, code);
        Assert.Empty(output);
        Assert.Equal($"rumor: no agent answered at http://127.0.0.1:{port} (connection refused). Start one with 'rumor agent' or pass --agent URL.\n", error);
    }

    [Fact]
    public async Task An_agent_that_never_answers_times_out_with_exit_3()
    {
        using TcpListener silent = new(IPAddress.Loopback, 0);
        silent.Start();
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;

        (int code, _, string error) = await ClientRun.RunAsync(["status", "--agent", $"127.0.0.1:{port}"], requestTimeout: TimeSpan.FromSeconds(1));

        Assert.Equal(3, code);
        Assert.Contains($"no agent answered at http://127.0.0.1:{port} (no answer within 1 s)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_agent_address_comes_from_RUMOR_AGENT_when_not_given()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("GET", "/v1/members", 200, "[]");

        (int code, string output, _) = await ClientRun.RunAsync(["members"], variables: new() { ["RUMOR_AGENT"] = agent.Url });

        Assert.Equal(0, code);
        Assert.Equal("no members\n", output);
        Assert.Single(agent.Requests);
    }

    [Fact]
    public async Task An_answer_that_is_not_the_api_is_described_and_exits_3_as_no_agent()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("GET", "/v1/status", 500, "<html>oops</html>", "text/html");
        agent.On("GET", "/v1/members", 200, "<html>hello</html>", "text/html");
        agent.On("GET", "/v1/kv", 404, "<html>no such page</html>", "text/html");

        (int statusCode, _, string statusError) = await ClientRun.RunAsync(["status", "--agent", agent.Url]);
        (int membersCode, _, string membersError) = await ClientRun.RunAsync(["members", "--agent", agent.Url]);
        (int kvCode, _, string kvError) = await ClientRun.RunAsync(["kv", "list", "--agent", agent.Url]);

        // A server error is the agent's (or a proxy's) failure: 1, described by its status.
        Assert.Equal(1, statusCode);
        Assert.Contains($"answered 500 Internal Server Error to GET /v1/status", statusError, StringComparison.Ordinal);

        // A page where the API's JSON belongs, or a 404 page: something else listens there, so no agent (3), and the address is blamed.
        Assert.Equal(3, membersCode);
        Assert.StartsWith($"rumor: no rumor agent API at {agent.Url}: the answer to GET /v1/members was not JSON", membersError, StringComparison.Ordinal);
        Assert.Contains("Check --agent (or RUMOR_AGENT)", membersError, StringComparison.Ordinal);
        Assert.Equal(3, kvCode);
        Assert.Contains("GET /v1/kv answered 404 Not Found (text/html), not the API's problem document", kvError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_path_the_agent_does_not_serve_blames_the_address_and_exits_3()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("GET", "/rumor/v1/members", 404, """{"type":"https://rumor.dev/problems/no-such-endpoint","title":"Not Found","status":404,"detail":"This agent serves no GET /rumor/v1/members (the API is in docs/HTTP-API.md)."}""", "application/problem+json");

        (int code, string output, string error) = await ClientRun.RunAsync(["members", "--agent", agent.Url + "/rumor"]);

        Assert.Equal(3, code);
        Assert.Empty(output);
        Assert.Equal($"rumor: no rumor agent API at {agent.Url}/rumor: This agent serves no GET /rumor/v1/members (the API is in docs/HTTP-API.md). Check --agent (or RUMOR_AGENT): the agent's HTTP address, e.g. http://127.0.0.1:7373.\n", error);
    }

    [Fact]
    public async Task A_401_says_whether_a_token_was_sent_and_where_it_came_from()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.OnProblem("GET", "/v1/members", 401, "Unauthorized", "This agent requires a token: send 'Authorization: Bearer TOKEN' (rumor --token TOKEN, or RUMOR_TOKEN).");

        (int none, _, string noneError) = await ClientRun.RunAsync(["members", "--agent", agent.Url]);
        (int fromEnvironment, _, string environmentError) = await ClientRun.RunAsync(["members", "--agent", agent.Url], variables: new() { ["RUMOR_TOKEN"] = "0123456789abcdef" });
        (int fromOption, _, string optionError) = await ClientRun.RunAsync(["members", "--agent", agent.Url, "--token", "0123456789abcdefXY"], variables: new() { ["RUMOR_TOKEN"] = "0123456789abcdef" });

        Assert.Equal([1, 1, 1], new[] { none, fromEnvironment, fromOption });
        Assert.EndsWith("(no token was sent: pass --token TOKEN or set RUMOR_TOKEN).\n", noneError, StringComparison.Ordinal);
        Assert.EndsWith("(this client sent a token of 16 characters) (the token came from $RUMOR_TOKEN).\n", environmentError, StringComparison.Ordinal);
        Assert.EndsWith("(this client sent a token of 18 characters) (the token came from --token).\n", optionError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/rumor")]
    [InlineData("/rumor/")]
    [InlineData("/rumor/v1")]
    [InlineData("/rumor/v1/")]
    public async Task An_agent_behind_a_path_prefix_is_reached_with_or_without_the_trailing_slash(string prefix)
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("GET", "/rumor/v1/kv/app/x", 200, """[{"owner":"node-a","key":"app/x","value":"1","version":1}]""");

        (int code, string output, string error) = await ClientRun.RunAsync(["kv", "get", "app/x", "--agent", agent.Url + prefix]);

        Assert.True(code == 0, error);
        Assert.Equal("/rumor/v1/kv/app/x", agent.Single().Target);
        Assert.Equal("OWNER   VERSION  TTL  VALUE\nnode-a  1        -    1\n", output);
    }

    [Fact]
    public async Task Kv_set_of_one_byte_says_1_byte()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("PUT", "/v1/kv/k", 200, """{"owner":"node-a","key":"k","version":1}""");

        (int code, string output, _) = await ClientRun.RunAsync(["kv", "set", "k", "v", "--agent", agent.Url]);

        Assert.Equal(0, code);
        Assert.Equal("set k (1 byte, owner node-a, version 1)\n", output);
    }

    [Fact]
    public async Task Kv_set_takes_a_ttl_up_to_the_wire_bound_and_refuses_more_naming_it()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.On("PUT", "/v1/kv/k", 200, """{"owner":"node-a","key":"k","version":1}""");

        (int most, _, string mostError) = await ClientRun.RunAsync(["kv", "set", "k", "v", "--ttl", "49d17h2m47.295s", "--agent", agent.Url]);
        (int over, _, string overError) = await ClientRun.RunAsync(["kv", "set", "k", "v", "--ttl", "49d17h2m47.296s", "--agent", agent.Url]);

        Assert.True(most == 0, mostError);
        ClientRun.SameJson("""{"value":"v","ttlMs":4294967295}""", agent.Single().Body);
        Assert.Equal(2, over);
        Assert.Contains("--ttl: '49d17h2m47.296s' is out of range: expected between 1ms and 49d17h2m47.295s", overError, StringComparison.Ordinal);
    }

    /// <summary>Field lines without their alignment (the status shows every counter of the model, so the label column is as wide as the longest).</summary>
    private static string Unpadded(string fields) => System.Text.RegularExpressions.Regex.Replace(fields, @"(?m)^([^:\n]+):\s+", "$1: ");

    private static int ClosedPort()
    {
        using TcpListener listener = new(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
