using System.Diagnostics;
using Xunit.Abstractions;

namespace Rumor.EndToEnd.Tests;

/// <summary>
/// Drives scripts/netns-chaos.sh: six agents in their own network namespaces, found through a real
/// dnsmasq, under link faults, partitions, pauses, kills and a mass restart, judged by
/// tools/Rumor.Chaos. Needs root, iproute2, nftables, dnsmasq and curl (CI runs as root and
/// .ci/run installs them): without them the test fails saying what is missing; it never skips.
/// </summary>
public sealed class NetnsChaosTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(15);
    private readonly ITestOutputHelper _output;

    public NetnsChaosTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Six_agents_in_namespaces_lose_nothing_and_accuse_nobody_falsely()
    {
        string root = RepositoryRoot();
        List<string> missing = [.. new[] { "ip", "tc", "nft", "dnsmasq", "curl" }.Where(tool => !OnPath(tool))];
        if (missing.Count > 0)
        {
            Assert.Fail($"the network-namespace chaos test needs {string.Join(", ", missing)}: apt-get install -y iproute2 nftables dnsmasq curl (.ci/run does)");
        }

        if (Environment.UserName != "root")
        {
            Assert.Fail($"the network-namespace chaos test needs root (network namespaces, tc, nftables); running as {Environment.UserName}");
        }

        ProcessStartInfo start = new("bash")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in new[] { Path.Combine(root, "scripts", "netns-chaos.sh"), "--nodes", "6", "--seconds", "90", "--seed", "1" })
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        List<string> lines = [];
        Task readOut = PumpAsync(process.StandardOutput, lines);
        Task readErr = PumpAsync(process.StandardError, lines);
        using CancellationTokenSource timeout = new(Bound);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM: the script's trap removes the namespaces, the bridge and the agents.
            Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit(5000);
            process.WaitForExit(30_000);
            Assert.Fail($"scripts/netns-chaos.sh did not finish within {Bound.TotalMinutes:0} minutes");
        }

        await Task.WhenAll(readOut, readErr);
        string last;
        lock (lines)
        {
            last = lines.LastOrDefault(line => line.StartsWith("chaos: ", StringComparison.Ordinal)) ?? "(no chaos: line)";
        }

        Assert.True(process.ExitCode == 0, $"scripts/netns-chaos.sh exited {process.ExitCode}: {last}");
        Assert.Matches(@"^chaos: [1-9]\d* writes acknowledged, 0 lost, 0 resurrected, membership converged in [\d.]+ s after heal, 0 false dead$", last);
    }

    private async Task PumpAsync(StreamReader reader, List<string> lines)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (lines)
            {
                lines.Add(line);
            }

            _output.WriteLine(line);
        }
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin").Append("/sbin")
            .Any(directory => File.Exists(Path.Combine(directory, tool)));

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Rumor.slnx")) && File.Exists(Path.Combine(directory.FullName, "scripts", "netns-chaos.sh")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no repository root (Rumor.slnx and scripts/netns-chaos.sh) above {AppContext.BaseDirectory}");
    }
}
