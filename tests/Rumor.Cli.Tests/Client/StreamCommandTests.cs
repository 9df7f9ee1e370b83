namespace Rumor.Cli.Tests.Client;

/// <summary>
/// <c>rumor kv watch</c> and <c>rumor monitor</c> against a real event stream: lines as events
/// arrive, Ctrl+C (the stop token) ends with 0, the agent ending the stream is exit 1.
/// </summary>
public sealed class StreamCommandTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Kv_watch_prints_each_change_until_interrupted()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.OnStream("/v1/kv/watch", """
            : keep-alive comment

            event: change
            data: {"owner":"node-a","key":"color","oldValue":null,"newValue":"blue","version":1}

            event: change
            data: {"owner":"node-a","key":"color","oldValue":"blue","newValue":"green","version":2}

            event: change
            data: {"owner":"node-b","key":"x","oldValue":"1","newValue":null,"version":5}


            """.ReplaceLineEndings("\n"));

        (int code, string output, string error) = await RunUntilAsync(["kv", "watch", "--prefix", "co", "--agent", agent.Url], expectedLines: 3);

        Assert.True(code == 0, error);
        Assert.Equal("/v1/kv/watch?prefix=co", agent.Single().Target);
        string[] lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.EndsWith("  kv node-a/color = blue (new) (version 1)", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("  kv node-a/color blue -> green (version 2)", lines[1], StringComparison.Ordinal);
        Assert.EndsWith("  kv node-b/x deleted (version 5)", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Monitor_prints_json_lines_with_the_event_kind()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.OnStream("/v1/stream", """
            event: member
            data: {"name":"node-b","address":"127.0.0.1:7947","state":"suspect","previous":"alive","kind":"suspected","incarnation":3,"at":"2025-06-01T11:59:58.5+00:00"}

            event: user
            data: {"id":"e-1","name":"deploy","payload":"v42","origin":"node-a","lamportTime":7,"receivedAt":"2025-06-01T11:59:59+00:00"}


            """.ReplaceLineEndings("\n"));

        (int code, string output, _) = await RunUntilAsync(["monitor", "--kinds", "member,event", "--json", "--agent", agent.Url], expectedLines: 2);

        Assert.Equal(0, code);
        Assert.Equal("/v1/stream?kinds=member%2Cevent", agent.Single().Target);
        string[] lines = output.TrimEnd('\n').Split('\n');
        // The data is the typed model written back through the shared JSON metadata: every field of the contract.
        ClientRun.SameJson("""{"event":"member","data":{"name":"node-b","address":"127.0.0.1:7947","state":"suspect","previous":"alive","kind":"suspected","incarnation":3,"at":"2025-06-01T11:59:58.5+00:00"}}""", lines[0]);
        ClientRun.SameJson("""{"event":"user","data":{"id":"e-1","name":"deploy","payload":"v42","origin":"node-a","lamportTime":7,"receivedAt":"2025-06-01T11:59:59+00:00"}}""", lines[1]);
    }

    [Fact]
    public async Task Monitor_lines_for_people_use_the_event_time()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.OnStream("/v1/stream", """
            event: member
            data: {"name":"node-b","state":"dead","previous":"suspect","at":"2025-06-01T11:59:58.5Z"}

            event: user
            data: {"id":"e-1","name":"deploy","payloadBase64":"/wA=","origin":"node-a","lamportTime":7,"receivedAt":"2025-06-01T11:59:59Z"}


            """.ReplaceLineEndings("\n"));

        (int code, string output, _) = await RunUntilAsync(["monitor", "--agent", agent.Url], expectedLines: 2);

        Assert.Equal(0, code);
        Assert.Equal("/v1/stream", agent.Single().Target);
        Assert.Equal(
            "11:59:58.500  member node-b suspect -> dead\n11:59:59.000  event deploy from node-a: base64:/wA= (lamport time 7)\n",
            output);
    }

    [Fact]
    public async Task A_stream_the_agent_ends_is_a_failure()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.OnStream("/v1/stream", "event: member\ndata: {\"name\":\"a\",\"state\":\"alive\"}\n\n", keepOpen: false);

        (int code, string output, string error) = await ClientRun.RunAsync(["monitor", "--agent", agent.Url]);

        Assert.Equal(1, code);
        Assert.Contains("member a alive", output, StringComparison.Ordinal);
        Assert.Equal($"rumor monitor: the agent at {agent.Url} closed the stream.\n", error);
    }

    [Fact]
    public async Task A_stream_refused_with_a_problem_exits_1_with_the_detail()
    {
        await using FakeAgent agent = await FakeAgent.StartAsync();
        agent.OnProblem("GET", "/v1/kv/watch", 503, "Service Unavailable", "the node is leaving.");

        (int code, _, string error) = await ClientRun.RunAsync(["kv", "watch", "--agent", agent.Url]);

        Assert.Equal(1, code);
        Assert.Equal("rumor kv watch: the node is leaving.\n", error);
    }

    /// <summary>Runs a streaming command and stops it (as Ctrl+C does) once it printed <paramref name="expectedLines"/> lines, within a bound.</summary>
    private static async Task<(int Code, string Output, string Error)> RunUntilAsync(string[] args, int expectedLines)
    {
        using CancellationTokenSource stop = new();
        using ConcurrentWriter output = new();
        using ConcurrentWriter error = new();
        Rumor.Cli.Client.ClientEnvironment environment = new(_ => null, () => new MemoryStream(), TimeSpan.FromSeconds(10), new FixedClock(ClientRun.Now));
        Task<int> run = RumorCommand.RunAsync(args, output, error, environment, stop.Token);
        DateTime deadline = DateTime.UtcNow + Bound;
        while (output.ToString().Count(c => c == '\n') < expectedLines && !run.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.False(run.IsCompleted, $"the command ended on its own (exit {(run.IsCompleted ? run.Result : -1)}): {error}");
        Assert.True(output.ToString().Count(c => c == '\n') >= expectedLines, $"only got: {output}");
        await stop.CancelAsync();
        int code = await run.WaitAsync(Bound);
        return (code, output.ToString(), error.ToString());
    }
}
