using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Rumor.Agent;
using Rumor.Agent.Serf;
using Rumor.Hosting;

namespace Rumor.Serf.Tests;

/// <summary>
/// The issue's "done when": <c>rumor agent --protocol serf --join &lt;a serf agent&gt;</c> as a child
/// process joins a 3-agent Serf cluster; Serf lists it alive with its tags; a Serf user event
/// reaches it (<c>rumor events</c>); its user event (<c>rumor event</c>) runs every Serf agent's
/// handler; <c>rumor members</c> lists the Serf agents; KV answers a clear error; on SIGTERM Serf
/// sees it <c>left</c>.
/// </summary>
[Collection(nameof(SerfInteropCollection))]
public sealed class SerfAgentCommandTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Rumor_agent_with_protocol_serf_is_a_full_member_of_a_serf_cluster()
    {
        // Encrypted, as Serf clusters usually are: the agent takes Serf's -encrypt key as --encrypt.
        string key = Convert.ToBase64String([.. Enumerable.Range(100, 32).Select(i => (byte)i)]);
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(7, 3, $"-encrypt={key}");
        int httpPort = FreeTcpPort();
        string http = $"127.0.0.1:{httpPort}";
        string bind = $"{SerfAgentCluster.AgentAddress(7, 10)}:{SerfAgentCluster.GossipPort}";
        using ChildProcess agent = ChildProcess.Start("agent", "--protocol", "serf", "--name", "rumor-cli", "--bind", bind, "--http", http,
            "--join", agents.GossipEndPoint(1).ToString(), "--tag", "role=rumor", "--tag", "zone=a", "--encrypt", key);

        for (int k = 1; k <= 3; k++)
        {
            await agents.WaitForAsync(k, members => members.Any(m => m.Name == "rumor-cli" && m.Status == "alive" && m.Tags.GetValueOrDefault("zone") == "a"),
                $"serf{k} lists rumor-cli alive with its tags; agent output:\n{agent.Output}");
        }

        // rumor members lists the Serf agents with their tags.
        string members = "";
        Assert.True(await Wait.UntilAsync(async () =>
        {
            (int exit, string output) = await ChildProcess.RunAsync("members", "--agent", http);
            members = output;
            return exit == 0 && output.Contains("serf3", StringComparison.Ordinal) && output.Contains("idx=3", StringComparison.Ordinal);
        }, Bound), members);

        // A Serf user event reaches it.
        await agents.SendEventAsync(2, "from-serf", "p1");
        string events = "";
        Assert.True(await Wait.UntilAsync(async () =>
        {
            (int exit, string output) = await ChildProcess.RunAsync("events", "--agent", http, "--json");
            events = output;
            return exit == 0 && output.Contains("from-serf", StringComparison.Ordinal);
        }, Bound), events);

        // Its user event runs every Serf agent's handler.
        (int sent, string sendOutput) = await ChildProcess.RunAsync("event", "from-rumor", "p2", "--agent", http);
        Assert.True(sent == 0, sendOutput);
        for (int k = 1; k <= 3; k++)
        {
            string log = agents.EventLog(k);
            Assert.True(await Wait.UntilAsync(() => File.Exists(log) && File.ReadAllText(log).Contains($"serf{k} from-rumor p2", StringComparison.Ordinal), Bound),
                $"serf{k}'s handler did not run from-rumor");
        }

        // A serf query is answered by the agent's built-in query handlers.
        string query = await agents.QueryAsync(3, "rumor.ping", "");
        Assert.Contains("Response from 'rumor-cli': rumor-cli", query, StringComparison.Ordinal);

        // rumor rtt estimates from the coordinates the agent learnt from Serf's acks, as serf rtt
        // (between two agents, and from the agent's own node when B is left out).
        string rtt = "";
        Assert.True(await Wait.UntilAsync(async () =>
        {
            (int exit, string output) = await ChildProcess.RunAsync("rtt", "serf1", "serf2", "--agent", http);
            (int selfExit, string selfOutput) = await ChildProcess.RunAsync("rtt", "serf3", "--agent", http);
            rtt = output + selfOutput;
            return exit == 0 && output.StartsWith("Estimated serf1 <-> serf2 rtt: ", StringComparison.Ordinal)
                && selfExit == 0 && selfOutput.StartsWith("Estimated serf3 <-> rumor-cli rtt: ", StringComparison.Ordinal);
        }, Bound), rtt);
        (int unknownExit, string unknownOutput) = await ChildProcess.RunAsync("rtt", "nobody", "--agent", http);
        Assert.True(unknownExit == 1 && unknownOutput.Contains("could not find a coordinate for node 'nobody'", StringComparison.Ordinal), unknownOutput);

        // Rumor-only features answer a clear error.
        (int kvExit, string kvOutput) = await ChildProcess.RunAsync("kv", "get", "x", "--agent", http);
        Assert.NotEqual(0, kvExit);
        Assert.Contains("serf", kvOutput, StringComparison.OrdinalIgnoreCase);

        // SIGTERM: graceful leave, exit 0, Serf sees it left.
        await agent.SignalAsync("TERM");
        Assert.True(await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)), agent.Output);
        Assert.True(agent.ExitCode == 0, agent.Output);
        for (int k = 1; k <= 3; k++)
        {
            await agents.WaitForAsync(k, m => m.Any(x => x.Name == "rumor-cli" && x.Status == "left"), $"serf{k} lists rumor-cli left");
        }
    }

    /// <summary>
    /// The agent sends its first join before it builds its HTTP API, so the two overlap (issue 14,
    /// mixed-cluster convergence). Listeners subscribed in <c>beforeJoin</c> are in place by then
    /// and see every member the join brings.
    /// </summary>
    [Fact]
    public async Task The_first_join_goes_out_before_the_api_with_the_listeners_in_place()
    {
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(70, 3);
        RumorOptions rumor = new() { Name = "early", Bind = $"{SerfAgentCluster.AgentAddress(70, 10)}:{SerfAgentCluster.GossipPort}", Seeds = [agents.GossipEndPoint(1).ToString()] };
        AgentSettings settings = new(rumor, Core.NodeAddress.Parse("127.0.0.1:0")) { Protocol = AgentProtocol.Serf };
        ConcurrentQueue<string> joined = new();
        Task<int>? joinAtHook = null;
        await using SerfModeAgent agent = await SerfModeAgent.StartAsync(settings, beforeJoin: a =>
        {
            joinAtHook = a.FirstJoin;
            a.Node.MemberChanged += e =>
            {
                if (e.Kind == SerfMemberEventKind.Join)
                {
                    joined.Enqueue(e.Member.Name);
                }
            };
        }, join: true);

        Assert.Null(joinAtHook); // the hook runs before the join goes out
        Assert.NotNull(agent.FirstJoin);
        Assert.Equal(1, await agent.FirstJoin.WaitAsync(Bound));
        Assert.True(await Wait.UntilAsync(() => new[] { "serf1", "serf2", "serf3" }.All(joined.Contains), Bound), $"joins seen: {string.Join(", ", joined)}");
        await agents.WaitForAsync(2, members => members.Any(m => m.Name == "early" && m.Status == "alive"), "serf2 lists early alive");
    }

    /// <summary>A first join that no seed answers faults <c>FirstJoin</c> with the reason; the agent's API keeps serving.</summary>
    [Fact]
    public async Task A_first_join_no_seed_answers_faults_with_the_reason_and_the_api_serves()
    {
        RumorOptions rumor = new() { Name = "lonely", Bind = $"{SerfAgentCluster.AgentAddress(71, 10)}:{SerfAgentCluster.GossipPort}", Seeds = [$"{SerfAgentCluster.AgentAddress(71, 1)}:{SerfAgentCluster.GossipPort}"] };
        AgentSettings settings = new(rumor, Core.NodeAddress.Parse("127.0.0.1:0")) { Protocol = AgentProtocol.Serf };
        await using SerfModeAgent agent = await SerfModeAgent.StartAsync(settings, beforeJoin: null, join: true);
        Assert.NotNull(agent.FirstJoin);
        IOException failed = await Assert.ThrowsAsync<IOException>(() => agent.FirstJoin.WaitAsync(Bound));
        Assert.Contains("could not join any seed", failed.Message, StringComparison.Ordinal);
        using HttpClient client = new() { BaseAddress = agent.Url };
        Assert.Contains("\"lonely\"", await client.GetStringAsync("v1/members"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_serf_mode_agent_runs_the_memory_trim_as_the_rumor_agent_does()
    {
        // Session 23: the Serf-mode host had no MemoryTrimmer, so it neither gave memory back after
        // a load nor settled when idle.
        RumorOptions rumor = new() { Name = "trim", Bind = $"{SerfAgentCluster.AgentAddress(9, 10)}:0" };
        AgentSettings settings = new(rumor, Core.NodeAddress.Parse("127.0.0.1:0")) { Protocol = AgentProtocol.Serf };
        await using SerfModeAgent agent = await SerfModeAgent.StartAsync(settings);
        Assert.Single(agent.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<MemoryTrimmer>());
    }

    [Fact]
    public async Task The_serf_mode_api_refuses_rumor_only_features_with_501()
    {
        RumorOptions rumor = new() { Name = "api", Bind = $"{SerfAgentCluster.AgentAddress(8, 10)}:0" };
        AgentSettings settings = new(rumor, Core.NodeAddress.Parse("127.0.0.1:0")) { Protocol = AgentProtocol.Serf };
        await using SerfModeAgent agent = await SerfModeAgent.StartAsync(settings);
        using HttpClient client = new() { BaseAddress = agent.Url };
        foreach (string path in new[] { "v1/kv/config/db", "v1/aggregates", "v1/status" })
        {
            HttpResponseMessage response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
            Assert.Contains("--protocol serf", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        HttpResponseMessage self = await client.GetAsync("v1/members");
        Assert.Equal(HttpStatusCode.OK, self.StatusCode);
        Assert.Contains("\"api\"", await self.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Alone, it knows only its own coordinate: the origin, with the largest error.
        string coordinates = await client.GetStringAsync("v1/coordinates");
        Assert.Contains("\"node\":\"api\"", coordinates, StringComparison.Ordinal);
        Assert.Contains("\"error\":1.5", coordinates, StringComparison.Ordinal);
        Assert.Contains("\"isLocal\":true", coordinates, StringComparison.Ordinal);

        HttpResponseMessage sent = await client.PostAsJsonAsync("v1/events", new { name = "solo", payload = "x" });
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        Assert.Contains("solo", await client.GetStringAsync("v1/events"), StringComparison.Ordinal);
    }

    [Fact]
    public void Serf_mode_refuses_what_it_cannot_do_yet_with_a_clear_message()
    {
        AgentSettings Settings(Action<RumorOptions> change)
        {
            RumorOptions rumor = new() { Name = "x", Bind = "127.0.0.1:7946" };
            change(rumor);
            return new AgentSettings(rumor, AgentSettings.DefaultHttp) { Protocol = AgentProtocol.Serf };
        }

        Assert.NotNull(SerfModeAgent.ToSerfOptions(Settings(o => o.EncryptKey = Convert.ToBase64String(new byte[32]))).Keyring);
        Assert.Null(SerfModeAgent.ToSerfOptions(Settings(_ => { })).Keyring);
        Assert.Contains("base64", Assert.Throws<AgentConfigurationException>(() => SerfModeAgent.ToSerfOptions(Settings(o => o.EncryptKey = Convert.ToBase64String(new byte[7])))).Message, StringComparison.Ordinal);
        Assert.Contains("advertise", Assert.Throws<AgentConfigurationException>(() => SerfModeAgent.ToSerfOptions(Settings(o => o.Bind = "0.0.0.0:7946"))).Message, StringComparison.Ordinal);
        Assert.Contains("ADDR:PORT", Assert.Throws<AgentConfigurationException>(() => SerfModeAgent.Seeds(Settings(o => o.Seeds = ["dns:serf.local"]))).Message, StringComparison.Ordinal);
        SerfNodeOptions local = SerfModeAgent.ToSerfOptions(Settings(o => o.Preset = "local"));
        Assert.Equal((TimeSpan.FromMilliseconds(200), 1, 2), (local.ProbeTimeout, local.IndirectChecks, local.RetransmitMult));
        Assert.Equal(AgentProtocol.Serf, AgentConfiguration.Load(null, new Dictionary<string, string?> { ["Protocol"] = "SERF" }, [], new Dictionary<string, string>()).Protocol);
        Assert.Throws<AgentConfigurationException>(() => AgentConfiguration.Load(null, new Dictionary<string, string?> { ["Protocol"] = "consul" }, [], new Dictionary<string, string>()));

        // MemberImmediatePush: on by default, off by key or environment, a clear error otherwise.
        Assert.True(SerfModeAgent.ToSerfOptions(Settings(_ => { })).MemberImmediatePush);
        AgentSettings off = AgentConfiguration.Load(null, new Dictionary<string, string?>(), [], new Dictionary<string, string> { ["RUMOR_MEMBERIMMEDIATEPUSH"] = "false" });
        Assert.False(off.SerfNode.MemberImmediatePush);
        Assert.True(off.SerfNode.EventImmediatePush);
        Assert.False(SerfModeAgent.ToSerfOptions(Settings(_ => { }) with { SerfNode = off.SerfNode }).MemberImmediatePush);
        Assert.Contains("true or false", Assert.Throws<AgentConfigurationException>(() => AgentConfiguration.Load(null, new Dictionary<string, string?> { ["MemberImmediatePush"] = "sometimes" }, [], new Dictionary<string, string>())).Message, StringComparison.Ordinal);
    }

    private static int FreeTcpPort()
    {
        using TcpListener listener = new(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The built <c>rumor</c> command (<c>dotnet rumor.dll ...</c>) as a child process; killed on dispose; every wait bounded.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ChildProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public int ExitCode => _process.ExitCode;

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private static ProcessStartInfo StartInfo(string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "rumor.dll");
        ProcessStartInfo start = new("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("RUMOR_AGENT");
        return start;
    }

    public static ChildProcess Start(params string[] args) => new(Process.Start(StartInfo(args)) ?? throw new InvalidOperationException("could not start rumor"));

    /// <summary>Runs a short CLI command; (exit code, stdout + stderr); killed after 60 s.</summary>
    public static async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        using ChildProcess child = Start(args);
        bool exited = await child.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return exited ? (child.ExitCode, child.Output) : (-1, "timed out: " + child.Output);
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using CancellationTokenSource cancel = new(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async Task SignalAsync(string signal)
    {
        using Process kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
