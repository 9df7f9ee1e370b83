using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Rumor.Cli.Tests.Support;

/// <summary>
/// The built <c>rumor</c> command in a child process (<c>dotnet rumor.dll ...</c>; the project
/// reference copies rumor.dll next to the tests). Output is collected as it arrives so tests can wait
/// for a line; every wait is bounded, and disposing kills the process tree if it is still running.
/// </summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly Lock _lock = new();

    private CliProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public string Output
    {
        get
        {
            lock (_lock)
            {
                return _output.ToString();
            }
        }
    }

    public string Error
    {
        get
        {
            lock (_lock)
            {
                return _error.ToString();
            }
        }
    }

    public static CliProcess Start(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "rumor.dll");
        Assert.True(File.Exists(dll), $"rumor.dll not found next to the tests at {dll}");
        ProcessStartInfo start = new(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
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

        Process process = new() { StartInfo = start };
        CliProcess cli = new(process);
        process.OutputDataReceived += (_, e) => cli.Append(cli._output, e.Data);
        process.ErrorDataReceived += (_, e) => cli.Append(cli._error, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    /// <summary>Runs to completion within <paramref name="timeout"/> (killed and failed otherwise).</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(TimeSpan timeout, params string[] args)
    {
        using CliProcess cli = Start(args);
        int exitCode = await cli.WaitForExitAsync(timeout);
        return (exitCode, cli.Output, cli.Error);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using CancellationTokenSource cancel = new(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"rumor did not exit within {timeout.TotalSeconds} s.\nstdout:\n{Output}\nstderr:\n{Error}");
        }

        // The parameterless wait also drains the redirected output to its end.
        await _process.WaitForExitAsync(CancellationToken.None);
        return _process.ExitCode;
    }

    public Task WaitForOutputAsync(string text, TimeSpan timeout) =>
        WaitForOutputAsync(output => output.Contains(text, StringComparison.Ordinal), text, timeout);

    public Task WaitForOutputAsync(Regex pattern, TimeSpan timeout) =>
        WaitForOutputAsync(pattern.IsMatch, pattern.ToString(), timeout);

    private async Task WaitForOutputAsync(Func<string, bool> found, string text, TimeSpan timeout)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (!found(Output))
        {
            if (waited.Elapsed > timeout || _process.HasExited)
            {
                Assert.Fail($"rumor did not print '{text}' within {timeout.TotalSeconds} s (exited: {_process.HasExited}).\nstdout:\n{Output}\nstderr:\n{Error}");
            }

            await Task.Delay(25);
        }
    }

    /// <summary>Sends a POSIX signal (TERM, INT) with the system's kill command.</summary>
    public async Task SignalAsync(string signal)
    {
        using Process kill = Process.Start("kill", ["-s", signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        using CancellationTokenSource cancel = new(TimeSpan.FromSeconds(5));
        await kill.WaitForExitAsync(cancel.Token);
        Assert.Equal(0, kill.ExitCode);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }

        _process.Dispose();
    }

    private void Append(StringBuilder target, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            target.AppendLine(line);
        }
    }
}
