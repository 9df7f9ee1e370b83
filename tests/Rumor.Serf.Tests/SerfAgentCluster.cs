using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace Rumor.Serf.Tests;

/// <summary>
/// Real <c>serf agent</c> processes (Debian's serf) on loopback for interop tests: agent k of
/// cluster c binds 127.83.c.k:27946 (UDP and TCP) with RPC on 127.83.c.k:27373, LAN profile, and
/// a user-event handler script that appends "node name payload" to a file per agent. Agents 2..N
/// join agent 1. Every process is killed on dispose; every wait is bounded.
/// </summary>
internal sealed class SerfAgentCluster : IDisposable
{
    public const int GossipPort = 27946;
    public const int RpcPort = 27373;

    private readonly List<Process> _agents = [];
    private readonly string _directory;
    private readonly int _cluster;

    private readonly string[] _extraArgs;

    private SerfAgentCluster(int cluster, string[] extraArgs)
    {
        _cluster = cluster;
        _extraArgs = extraArgs;
        _directory = Path.Combine(Path.GetTempPath(), $"rumor-serf-{cluster}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_directory);
    }

    public int Count => _agents.Count;

    public static IPAddress AgentAddress(int cluster, int agent) => IPAddress.Parse($"127.83.{cluster}.{agent}");

    public IPEndPoint GossipEndPoint(int agent) => new(AgentAddress(_cluster, agent), GossipPort);

    public string RpcAddress(int agent) => $"{AgentAddress(_cluster, agent)}:{RpcPort}";

    public string EventLog(int agent) => Path.Combine(_directory, $"events-{agent}.log");

    /// <summary>Starts <paramref name="count"/> agents and waits until agent 1 lists them all alive.</summary>
    public static async Task<SerfAgentCluster> StartAsync(int cluster, int count, params string[] extraArgs)
    {
        SerfAgentCluster agents = new(cluster, extraArgs);
        try
        {
            string handler = Path.Combine(agents._directory, "handler.sh");
            await File.WriteAllTextAsync(handler, "#!/bin/sh\npayload=$(cat)\nprintf '%s %s %s\\n' \"$SERF_SELF_NAME\" \"$SERF_USER_EVENT\" \"$payload\" >> \"$1\"\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(handler, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            for (int k = 1; k <= count; k++)
            {
                agents.StartAgent(k, handler);
                if (k == 1)
                {
                    await agents.WaitForAsync(1, members => members.Any(m => m.Name == "serf1" && m.Status == "alive"), "agent 1 answers RPC");
                }
            }

            await agents.WaitForAsync(1, members => members.Count(m => m.Status == "alive") == count, $"{count} agents alive");
            return agents;
        }
        catch
        {
            agents.Dispose();
            throw;
        }
    }

    /// <summary>Starts one more agent k named <paramref name="name"/> (a name another agent may already have) that joins agent 1; not waited for.</summary>
    public void StartExtra(int k, string name) => StartAgent(k, Path.Combine(_directory, "handler.sh"), name);

    private void StartAgent(int k, string handler, string? name = null)
    {
        ProcessStartInfo start = new("serf")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[]
        {
            "agent", $"-node={name ?? $"serf{k}"}", $"-bind={GossipEndPoint(k)}", $"-rpc-addr={RpcAddress(k)}", "-profile=lan",
            "-tag", "role=serf", "-tag", $"idx={k}", "-log-level=debug",
            $"-event-handler=user={handler} {EventLog(k)}",
        })
        {
            start.ArgumentList.Add(arg);
        }

        if (k > 1)
        {
            start.ArgumentList.Add($"-join={GossipEndPoint(1)}");
        }

        foreach (string arg in _extraArgs)
        {
            start.ArgumentList.Add(arg);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start serf");
        string log = Path.Combine(_directory, $"agent-{k}.log");
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _agents.Add(process);
    }

    private static void Append(string path, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (typeof(SerfAgentCluster))
        {
            File.AppendAllText(path, line + "\n");
        }
    }

    /// <summary>The last lines of agent k's log, for failure messages.</summary>
    public string LogTail(int k)
    {
        string path = Path.Combine(_directory, $"agent-{k}.log");
        lock (typeof(SerfAgentCluster))
        {
            return File.Exists(path) ? string.Join("\n", File.ReadAllLines(path).TakeLast(40)) : "(no log)";
        }
    }

    /// <summary>Agent k's whole log so far.</summary>
    public string Log(int k)
    {
        string path = Path.Combine(_directory, $"agent-{k}.log");
        lock (typeof(SerfAgentCluster))
        {
            return File.Exists(path) ? File.ReadAllText(path) : "";
        }
    }

    /// <summary>Kills agent k at once (SIGKILL).</summary>
    public void Kill(int k)
    {
        Process process = _agents[k - 1];
        if (!process.HasExited)
        {
            process.Kill();
            process.WaitForExit(10_000);
        }
    }

    /// <summary><c>serf members -format=json</c> as seen by agent k.</summary>
    public async Task<IReadOnlyList<AgentMember>> MembersAsync(int k)
    {
        (int exit, string output) = await RunSerfAsync("members", "-format=json", $"-rpc-addr={RpcAddress(k)}");
        if (exit != 0)
        {
            return [];
        }

        using JsonDocument json = JsonDocument.Parse(output);
        List<AgentMember> members = [];
        foreach (JsonElement m in json.RootElement.GetProperty("members").EnumerateArray())
        {
            Dictionary<string, string> tags = [];
            if (m.TryGetProperty("tags", out JsonElement t) && t.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty p in t.EnumerateObject())
                {
                    tags[p.Name] = p.Value.GetString() ?? "";
                }
            }

            members.Add(new AgentMember(m.GetProperty("name").GetString()!, m.GetProperty("addr").GetString()!, m.GetProperty("status").GetString()!, tags));
        }

        return members;
    }

    /// <summary>Sends a user event through agent k (<c>-coalesce=false</c>, so handlers run at once).</summary>
    public async Task SendEventAsync(int k, string name, string payload)
    {
        (int exit, string output) = await RunSerfAsync("event", "-coalesce=false", $"-rpc-addr={RpcAddress(k)}", name, payload);
        Assert.True(exit == 0, $"serf event failed: {output}");
    }

    /// <summary>Runs <c>serf query</c> through agent k with extra arguments; returns its output (fails on a non-zero exit).</summary>
    public async Task<string> QueryAsync(int k, params string[] args)
    {
        (int exit, string output) = await RunSerfAsync(["query", "-timeout=5s", $"-rpc-addr={RpcAddress(k)}", .. args]);
        Assert.True(exit == 0, $"serf query failed: {output}");
        return output;
    }

    /// <summary>Asks agent k to leave gracefully (<c>serf leave</c>): it broadcasts its leave intent, then exits.</summary>
    public async Task LeaveAsync(int k)
    {
        (int exit, string output) = await RunSerfAsync("leave", $"-rpc-addr={RpcAddress(k)}");
        Assert.True(exit == 0, $"serf leave failed: {output}");
    }

    /// <summary>Polls agent k's member list until <paramref name="condition"/> holds; fails after 60 s with the last list.</summary>
    public async Task WaitForAsync(int k, Func<IReadOnlyList<AgentMember>, bool> condition, string what)
    {
        IReadOnlyList<AgentMember> last = [];
        bool ok = await Wait.UntilAsync(async () =>
        {
            last = await MembersAsync(k);
            return condition(last);
        }, TimeSpan.FromSeconds(60));
        Assert.True(ok, $"timed out waiting for: {what}; serf{k} lists: {string.Join(", ", last)}\n{LogTail(k)}");
    }

    /// <summary>Runs the serf CLI with <paramref name="args"/> (20 s bound); returns its exit code and its output and errors.</summary>
    public static async Task<(int Exit, string Output)> RunSerfAsync(params string[] args)
    {
        ProcessStartInfo start = new("serf")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start serf");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using CancellationTokenSource timeout = new(TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            return (-1, "serf command timed out");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    public void Dispose()
    {
        foreach (Process process in _agents)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill();
                    process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
            }

            process.Dispose();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal sealed record AgentMember(string Name, string Addr, string Status, IReadOnlyDictionary<string, string> Tags)
{
    public override string ToString() => $"{Name} {Addr} {Status} [{string.Join(",", Tags.Select(t => t.Key + "=" + t.Value))}]";
}

internal static class Wait
{
    /// <summary>Polls every 200 ms until the condition holds or <paramref name="timeout"/> passes.</summary>
    public static async Task<bool> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        Stopwatch clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(200);
        }

        return await condition();
    }

    public static Task<bool> UntilAsync(Func<bool> condition, TimeSpan timeout) => UntilAsync(() => Task.FromResult(condition()), timeout);
}
