using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Rumor.EndToEnd.Tests.Support;

/// <summary>
/// Runs one of the repository's bash scripts as a process, bounded in time, with every line it
/// prints copied to the test output. The scripts that need root and system tools (network
/// namespaces) are checked for them first, so a missing tool fails the test saying what to install
/// rather than as an obscure script error; none of them is ever skipped.
/// </summary>
internal static class ScriptRun
{
    /// <summary>The script's exit code and every line it printed (stdout and stderr, interleaved).</summary>
    public sealed record Result(int ExitCode, IReadOnlyList<string> Lines);

    public static async Task<Result> RunAsync(ITestOutputHelper output, TimeSpan bound, string script, params string[] args)
    {
        string root = RepositoryRoot();
        ProcessStartInfo start = new("bash")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(root, script));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        List<string> lines = [];
        Task readOut = PumpAsync(process.StandardOutput, lines, output);
        Task readErr = PumpAsync(process.StandardError, lines, output);
        using CancellationTokenSource timeout = new(bound);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM: the scripts' traps remove what they created (namespaces, bridges, agents).
            Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])?.WaitForExit(5000);
            process.WaitForExit(30_000);
            Assert.Fail($"{script} did not finish within {bound.TotalMinutes:0.#} minutes");
        }

        await Task.WhenAll(readOut, readErr);
        lock (lines)
        {
            return new Result(process.ExitCode, [.. lines]);
        }
    }

    /// <summary>Fails the test unless it runs as root and every tool is on the PATH (or in /sbin).</summary>
    public static void RequireRootAnd(string what, string install, params string[] tools)
    {
        List<string> missing = [.. tools.Where(tool => !OnPath(tool))];
        if (missing.Count > 0)
        {
            Assert.Fail($"{what} needs {string.Join(", ", missing)}: {install} (.ci/run does)");
        }

        if (Environment.UserName != "root")
        {
            Assert.Fail($"{what} needs root (network namespaces); running as {Environment.UserName}");
        }
    }

    private static async Task PumpAsync(StreamReader reader, List<string> lines, ITestOutputHelper output)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (lines)
            {
                lines.Add(line);
            }

            output.WriteLine(line);
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
            if (File.Exists(Path.Combine(directory.FullName, "Rumor.slnx")) && Directory.Exists(Path.Combine(directory.FullName, "scripts")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no repository root (Rumor.slnx and scripts/) above {AppContext.BaseDirectory}");
    }
}
