using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Rumor.Cli.Tests.Support;

namespace Rumor.Cli.Tests;

/// <summary>The built rumor command as a child process: the demo end to end, the agent's failures and its graceful stop.</summary>
public sealed partial class ProcessTests
{
    private static readonly TimeSpan ProcessBound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_demo_converges_detects_the_crash_and_exits_0()
    {
        (int code, string output, string error) = await CliProcess.RunAsync(ProcessBound, "demo");

        Assert.True(code == 0, $"exit {code}\nstdout:\n{output}\nstderr:\n{error}");
        Assert.Contains("converged: all 5 nodes see 5 alive members", output, StringComparison.Ordinal);
        Assert.Contains("stopping node-4 abruptly (no leave)", output, StringComparison.Ordinal);
        Assert.Contains("detected: all 4 live nodes see node-4 as failed", output, StringComparison.Ordinal);
        Assert.Matches(TimelineLine(), output);
    }

    [Fact]
    public async Task The_agent_reports_a_port_in_use()
    {
        using Socket holder = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        holder.Listen();
        string address = $"127.0.0.1:{((IPEndPoint)holder.LocalEndPoint!).Port}";

        (int code, string output, string error) = await CliProcess.RunAsync(ProcessBound, "agent", "--name", "a", "--bind", address, "--http", "127.0.0.1:0");

        Assert.True(code == 1, $"exit {code}\nstdout:\n{output}\nstderr:\n{error}");
        Assert.Contains($"{address} is already in use", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_agent_fails_when_no_seed_answers()
    {
        string closed = $"127.0.0.1:{ClosedPort()}";

        (int code, string output, string error) = await CliProcess.RunAsync(ProcessBound, "agent", "--name", "a", "--bind", "127.0.0.1:0", "--preset", "lan", "--join", closed, "--http", "127.0.0.1:0");

        Assert.True(code == 1, $"exit {code}\nstdout:\n{output}\nstderr:\n{error}");
        Assert.Contains($"could not join through {closed}: connection refused", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_agent_prints_debug_lines_at_log_level_debug_only()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return; // Signals are sent with kill(1).
        }

        // A debug line every agent writes at start: the JIT build keeps the start-up data (not a
        // Native AOT executable), the AOT binary outside Linux; on Linux the AOT binary releases it
        // (an information line), so the test looks for either.
        foreach (string level in new[] { "debug", "information" })
        {
            using CliProcess agent = CliProcess.Start("agent", "--name", "d", "--bind", "127.0.0.1:0", "--preset", "local", "--http", "127.0.0.1:0", "--log-level", level);
            await agent.WaitForOutputAsync("running at", ProcessBound);
            await agent.SignalAsync("INT");
            Assert.Equal(0, await agent.WaitForExitAsync(ProcessBound));
            bool debugLine = agent.Output.Contains("debug: Rumor.Agent.Memory: Kept the executable's start-up-only data", StringComparison.Ordinal);
            bool released = agent.Output.Contains("info: Rumor.Agent.Memory: Released", StringComparison.Ordinal);
            if (level == "debug")
            {
                Assert.True(debugLine || released, $"no debug line at --log-level debug:\n{agent.Output}");
            }
            else
            {
                Assert.False(debugLine, $"a debug line at --log-level information:\n{agent.Output}");
            }
        }
    }

    [Fact]
    public async Task Two_agents_meet_and_a_terminated_one_leaves_gracefully()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return; // Signals are sent with kill(1).
        }

        using CliProcess first = CliProcess.Start("agent", "--name", "first", "--bind", "127.0.0.1:0", "--preset", "local", "--http", "127.0.0.1:0");
        await first.WaitForOutputAsync("running at", ProcessBound);
        string firstAddress = RunningAt().Match(first.Output).Groups["address"].Value;

        using CliProcess second = CliProcess.Start("agent", "--name", "second", "--bind", "127.0.0.1:0", "--preset", "local", "--join", firstAddress, "--meta", "role=test", "--http", "127.0.0.1:0");
        await second.WaitForOutputAsync($"joined through {firstAddress}", ProcessBound);
        await first.WaitForOutputAsync("member second 127.0.0.1:", ProcessBound);

        await second.SignalAsync("TERM");
        int code = await second.WaitForExitAsync(ProcessBound);

        Assert.True(code == 0, $"exit {code}\nstdout:\n{second.Output}\nstderr:\n{second.Error}");
        Assert.Contains("left the cluster", second.Output, StringComparison.Ordinal);
        await first.WaitForOutputAsync(SecondLeft(), ProcessBound);

        await first.SignalAsync("INT");
        Assert.Equal(0, await first.WaitForExitAsync(ProcessBound));
    }

    private static int ClosedPort()
    {
        using Socket probe = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    [GeneratedRegex(@"\+\d+\.\d{3}s\s+node-\d sees node-\d joined")]
    private static partial Regex TimelineLine();

    [GeneratedRegex(@"\d\d:\d\d:\d\d\.\d{3}  member second 127\.0\.0\.1:\d+ left")]
    private static partial Regex SecondLeft();

    [GeneratedRegex(@"running at (?<address>127\.0\.0\.1:\d+)")]
    private static partial Regex RunningAt();
}
