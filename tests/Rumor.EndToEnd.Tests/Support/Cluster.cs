using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Rumor.EndToEnd.Tests.Support;

/// <summary>One agent process of a <see cref="Cluster"/>: its name, data directory and the addresses it bound.</summary>
internal sealed record AgentProcess(string Name, string DataDirectory, string GossipAddress, Uri HttpUrl, RumorProcess Process)
{
    /// <summary>The HTTP address as <c>--http</c> takes it (host:port), to restart on the same one.</summary>
    public string HttpAddress => $"{HttpUrl.Host}:{HttpUrl.Port}";

    /// <summary>The base URL as <c>--agent</c> takes it.</summary>
    public string Agent => HttpUrl.AbsoluteUri.TrimEnd('/');
}

/// <summary>What one CLI process did.</summary>
internal sealed record CliResult(int ExitCode, string Output, string Error, string Description);

/// <summary>A failed end-to-end check, with every process's command line and output attached.</summary>
internal sealed class EndToEndException : Exception
{
    public EndToEndException()
    {
    }

    public EndToEndException(string message)
        : base(message)
    {
    }

    public EndToEndException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Agents as separate OS processes on loopback (<c>rumor agent --preset local</c>, gossip and HTTP on
/// ports the kernel picks, one data directory each) and the CLI as more processes against them.
/// Every process is remembered: a failure message carries each one's command line, exit status and
/// output; <see cref="Dispose"/> kills whatever still runs and removes the data directories. Every
/// wait has a bound.
/// </summary>
internal sealed partial class Cluster : IDisposable
{
    /// <summary>Starting one agent: dotnet's start-up plus the bind, slow on a loaded machine.</summary>
    public static readonly TimeSpan StartBound = TimeSpan.FromSeconds(60);

    /// <summary>One CLI command, start-up included.</summary>
    public static readonly TimeSpan CliBound = TimeSpan.FromSeconds(60);

    /// <summary>Gossip to reach every member, a suspicion to time out (local preset: seconds), with a wide margin for a loaded machine.</summary>
    public static readonly TimeSpan ConvergeBound = TimeSpan.FromSeconds(45);

    private readonly List<RumorProcess> _processes = [];
    private readonly Dictionary<string, AgentProcess> _agents = new(StringComparer.Ordinal);
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("rumor-e2e-");
    private readonly Lock _lock = new();

    /// <summary>For talking to the agents' HTTP API directly (no proxy: everything is on loopback).</summary>
    public HttpClient Http { get; } = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

    public AgentProcess this[string name] => _agents[name];

    /// <summary>Runs a scenario on a fresh cluster; any failure comes back with every process's output attached.</summary>
    public static async Task RunAsync(Func<Cluster, Task> scenario)
    {
        using Cluster cluster = new();
        try
        {
            await scenario(cluster);
        }
        catch (EndToEndException)
        {
            throw;
        }
        catch (Exception e)
        {
            throw new EndToEndException(e.Message + "\n\n" + cluster.Report(), e);
        }
    }

    /// <summary>Starts the first name alone, then the others joining it (in parallel), and waits until every agent sees every one alive.</summary>
    public async Task StartAsync(params string[] names)
    {
        AgentProcess first = await StartAgentAsync(names[0]);
        await Task.WhenAll(names.Skip(1).Select(name => StartAgentAsync(name, join: first.GossipAddress)));
        await WaitForAllAliveAsync(names);
    }

    /// <summary>
    /// Starts one agent and waits for its "running at" line (and, with a seed, its join). Ports 0 let
    /// the kernel pick; a restart passes the addresses of the previous run. The data directory is the
    /// name's, so a restart with the same name finds its identity file.
    /// </summary>
    public async Task<AgentProcess> StartAgentAsync(string name, string? join = null, string bind = "127.0.0.1:0", string http = "127.0.0.1:0", string preset = "local", params string[] extra)
    {
        string dataDirectory = Path.Combine(_root.FullName, name);
        Directory.CreateDirectory(dataDirectory);
        List<string> args = ["agent", "--name", name, "--bind", bind, "--http", http, "--preset", preset, "--data-dir", dataDirectory, .. extra];
        if (join is not null)
        {
            args.AddRange(["--join", join]);
        }

        RumorProcess process = Track(RumorProcess.Start(name, [.. args]));
        if (!await process.WaitForOutputAsync(RunningAt().IsMatch, StartBound))
        {
            Fail($"agent {name} did not print 'running at ... HTTP API and dashboard at ...' within {StartBound.TotalSeconds} s.");
        }

        Match running = RunningAt().Match(process.Output);
        if (join is not null && !await process.WaitForOutputAsync(o => o.Contains($"joined through {join}", StringComparison.Ordinal), StartBound))
        {
            Fail($"agent {name} did not join through {join} within {StartBound.TotalSeconds} s.");
        }

        AgentProcess agent = new(name, dataDirectory, running.Groups["gossip"].Value, new Uri(running.Groups["http"].Value), process);
        lock (_lock)
        {
            _agents[name] = agent;
        }

        return agent;
    }

    /// <summary>Runs <c>rumor ARGS</c> to its end (bounded) and returns what it printed and its exit code.</summary>
    public async Task<CliResult> CliAsync(params string[] args)
    {
        RumorProcess cli = Track(RumorProcess.Start("cli", args));
        int? code = await cli.TryWaitForExitAsync(CliBound);
        if (code is null)
        {
            cli.Kill();
            Fail($"'{cli.CommandLine}' did not exit within {CliBound.TotalSeconds} s.");
        }

        return new CliResult(code!.Value, cli.Output, cli.Error, cli.Describe());
    }

    /// <summary>Runs a CLI command against <paramref name="agent"/> (<c>--agent URL</c> appended).</summary>
    public Task<CliResult> CliAsync(AgentProcess agent, params string[] args) => CliAsync([.. args, "--agent", agent.Agent]);

    /// <summary>As <see cref="CliAsync(AgentProcess, string[])"/>, failing unless it exits 0.</summary>
    public async Task<CliResult> CliOkAsync(AgentProcess agent, params string[] args)
    {
        CliResult result = await CliAsync(agent, args);
        if (result.ExitCode != 0)
        {
            Fail($"'rumor {string.Join(' ', args)}' against {agent.Name} exited {result.ExitCode}, expected 0.");
        }

        return result;
    }

    /// <summary>Runs a CLI command with <c>--json</c> against <paramref name="agent"/>, requires exit 0, and parses its output.</summary>
    public async Task<JsonElement> CliJsonAsync(AgentProcess agent, params string[] args)
    {
        CliResult result = await CliOkAsync(agent, [.. args, "--json"]);
        return ParseJson(result.Output, $"the output of 'rumor {string.Join(' ', args)} --json' against {agent.Name}");
    }

    /// <summary>Starts a long-running CLI command (<c>kv watch</c>, <c>monitor</c>); the cluster kills it at the end.</summary>
    public RumorProcess StartCli(AgentProcess agent, params string[] args) => Track(RumorProcess.Start("cli", [.. args, "--agent", agent.Agent]));

    /// <summary>The members as <paramref name="agent"/> sees them, by name, through <c>GET /v1/members</c>.</summary>
    public async Task<Dictionary<string, JsonElement>> MembersAsync(AgentProcess agent)
    {
        JsonElement members = await GetJsonAsync(agent, "v1/members");
        return members.EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!, m => m, StringComparer.Ordinal);
    }

    /// <summary>GET on the agent's API; fails with the status and body unless it is 2xx JSON.</summary>
    public async Task<JsonElement> GetJsonAsync(AgentProcess agent, string path)
    {
        using HttpResponseMessage response = await Http.GetAsync(new Uri(agent.HttpUrl, path));
        string body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            Fail($"GET {path} on {agent.Name} answered {(int)response.StatusCode}: {body}");
        }

        return ParseJson(body, $"GET {path} on {agent.Name}");
    }

    /// <summary>Sends a JSON body; returns the status and the parsed answer.</summary>
    public async Task<(int Status, JsonElement Body)> SendJsonAsync(AgentProcess agent, HttpMethod method, string path, object? body)
    {
        using HttpRequestMessage request = new(method, new Uri(agent.HttpUrl, path));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using HttpResponseMessage response = await Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, ParseJson(text, $"{method} {path} on {agent.Name}"));
    }

    /// <summary>
    /// Polls <paramref name="check"/> (null: satisfied; otherwise what it saw) every 200 ms until it
    /// is satisfied or <paramref name="bound"/> passes, then fails with the last observation.
    /// </summary>
    public async Task WaitUntilAsync(string what, TimeSpan bound, Func<Task<string?>> check)
    {
        Stopwatch waited = Stopwatch.StartNew();
        string? observed;
        while ((observed = await check()) is not null)
        {
            if (waited.Elapsed > bound)
            {
                Fail($"{what}: not within {bound.TotalSeconds} s; last seen: {observed}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Waits until each of <paramref name="observers"/> sees each of <paramref name="names"/> in <paramref name="state"/>.</summary>
    public Task WaitForStateAsync(IEnumerable<string> observers, IEnumerable<string> names, string state) =>
        WaitUntilAsync($"{string.Join(", ", observers)} to see {string.Join(", ", names)} {state}", ConvergeBound, async () =>
        {
            List<string> wrong = [];
            foreach (string observer in observers)
            {
                Dictionary<string, JsonElement> members = await MembersAsync(this[observer]);
                foreach (string name in names)
                {
                    string actual = members.TryGetValue(name, out JsonElement m) ? m.GetProperty("state").GetString()! : "unknown";
                    if (actual != state)
                    {
                        wrong.Add($"{observer} sees {name} {actual}");
                    }
                }
            }

            return wrong.Count == 0 ? null : string.Join("; ", wrong);
        });

    public Task WaitForAllAliveAsync(params string[] names) => WaitForStateAsync(names, names, "alive");

    /// <summary>Fails the test with <paramref name="message"/> and every process's output.</summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public void Fail(string message) => throw new EndToEndException(message + "\n\n" + Report());

    /// <summary>Fails unless <paramref name="condition"/> holds.</summary>
    public void Check([System.Diagnostics.CodeAnalysis.DoesNotReturnIf(false)] bool condition, string message)
    {
        if (!condition)
        {
            Fail(message);
        }
    }

    /// <summary>Every process of the cluster so far, in start order: command line, status, output.</summary>
    public string Report()
    {
        StringBuilder text = new("Processes of this test:\n");
        lock (_lock)
        {
            foreach (RumorProcess process in _processes)
            {
                text.Append(process.Describe());
            }
        }

        return text.ToString();
    }

    public JsonElement ParseJson(string text, string what)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            Fail($"{what} is not JSON ({e.Message}): {text}");
            return default;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (RumorProcess process in _processes)
            {
                process.Dispose();
            }
        }

        Http.Dispose();
        try
        {
            _root.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A temp directory left behind is harmless.
        }
    }

    private RumorProcess Track(RumorProcess process)
    {
        lock (_lock)
        {
            _processes.Add(process);
        }

        return process;
    }

    [GeneratedRegex(@"running at (?<gossip>\S+) \(bound .*HTTP API and dashboard at (?<http>http://\S+?);")]
    private static partial Regex RunningAt();
}
