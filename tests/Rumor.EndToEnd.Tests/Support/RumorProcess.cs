using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Rumor.EndToEnd.Tests.Support;

/// <summary>
/// The built <c>rumor</c> command in a child process (<c>dotnet rumor.dll ...</c>, copied next to
/// the tests by the project reference, or the executable <c>RUMOR_E2E_BINARY</c> names). Output is collected as it arrives so a test can wait for a
/// line; every wait is bounded; <see cref="Dispose"/> kills the process if it still runs. The child
/// gets no <c>RUMOR_*</c> variable from the test runner's environment: the agent reads its options
/// from them and the CLI its agent address, and a stray one would change what is tested.
/// </summary>
internal sealed class RumorProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly Lock _lock = new();
    private readonly Stopwatch _started = Stopwatch.StartNew();
    private TimeSpan? _ran;

    private RumorProcess(Process process, string label, string commandLine)
    {
        _process = process;
        Label = label;
        CommandLine = commandLine;
    }

    /// <summary>What the process is in the cluster (an agent's name, "cli").</summary>
    public string Label { get; }

    /// <summary>The arguments as a person would type them, for failure messages.</summary>
    public string CommandLine { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

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

    /// <summary>
    /// The variable naming a published <c>rumor</c> executable (the Native AOT binary of
    /// scripts/publish-agent.sh) to test instead of <c>dotnet rumor.dll</c>; unset runs the built dll.
    /// </summary>
    public const string BinaryVariable = "RUMOR_E2E_BINARY";

    public static RumorProcess Start(string label, params string[] args)
    {
        string? binary = Environment.GetEnvironmentVariable(BinaryVariable);
        string dll = Path.Combine(AppContext.BaseDirectory, "rumor.dll");
        if (!string.IsNullOrEmpty(binary))
        {
            if (!File.Exists(binary))
            {
                throw new InvalidOperationException($"{BinaryVariable}={binary}: no such file (publish it with scripts/publish-agent.sh, or unset {BinaryVariable} to test rumor.dll).");
            }
        }
        else if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"rumor.dll not found next to the tests at {dll}: the project reference to Rumor.Cli copies it.");
        }

        ProcessStartInfo start = new(string.IsNullOrEmpty(binary) ? Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet" : Path.GetFullPath(binary))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string variable in start.Environment.Keys.Where(k => k.StartsWith("RUMOR_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(variable);
        }

        if (string.IsNullOrEmpty(binary))
        {
            start.ArgumentList.Add(dll);
        }

        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        Process process = new() { StartInfo = start };
        RumorProcess rumor = new(process, label, "rumor " + string.Join(' ', args.Select(a => a.Contains(' ', StringComparison.Ordinal) || a.Length == 0 ? $"'{a}'" : a)));
        process.OutputDataReceived += (_, e) => rumor.Append(rumor._output, e.Data);
        process.ErrorDataReceived += (_, e) => rumor.Append(rumor._error, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return rumor;
    }

    /// <summary>Writes <paramref name="text"/> to standard input and closes it (for <c>kv set KEY -</c>).</summary>
    public async Task WriteInputAndCloseAsync(string text)
    {
        await _process.StandardInput.WriteAsync(text);
        _process.StandardInput.Close();
    }

    /// <summary>The exit code, waiting at most <paramref name="timeout"/>; null (the process still runs) when it did not exit by then.</summary>
    public async Task<int?> TryWaitForExitAsync(TimeSpan timeout)
    {
        using CancellationTokenSource cancel = new(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }

        // The parameterless wait also drains the redirected output to its end.
        await _process.WaitForExitAsync(CancellationToken.None);
        _ran ??= _started.Elapsed;
        return _process.ExitCode;
    }

    /// <summary>Waits until the accumulated standard output satisfies <paramref name="found"/>; false when the bound passed or the process exited first.</summary>
    public async Task<bool> WaitForOutputAsync(Func<string, bool> found, TimeSpan timeout)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (!found(Output))
        {
            if (waited.Elapsed > timeout)
            {
                return false;
            }

            if (_process.HasExited)
            {
                // Let the last lines arrive before the final look.
                await _process.WaitForExitAsync(CancellationToken.None);
                return found(Output);
            }

            await Task.Delay(50);
        }

        return true;
    }

    /// <summary>Sends a POSIX signal (TERM, INT) with the system's kill(1).</summary>
    public async Task SignalAsync(string signal)
    {
        using Process kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(CultureInfo.InvariantCulture)]);
        using CancellationTokenSource cancel = new(TimeSpan.FromSeconds(10));
        await kill.WaitForExitAsync(cancel.Token);
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} exited {kill.ExitCode}.");
        }
    }

    /// <summary>Stops the process abruptly (SIGKILL): no leave, no goodbye, as a crash.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _ran ??= _started.Elapsed;
    }

    /// <summary>The command, whether and how it ended, and everything it printed: for failure messages.</summary>
    public string Describe()
    {
        string state;
        try
        {
            state = _process.HasExited ? $"exited {_process.ExitCode} after {(_ran ?? _started.Elapsed).TotalSeconds:0.0} s" : $"running for {_started.Elapsed.TotalSeconds:0.0} s";
        }
        catch (InvalidOperationException)
        {
            state = "never started";
        }

        return $"--- [{Label}] pid {SafeId()} {CommandLine} ({state})\nstdout:\n{Indent(Output)}stderr:\n{Indent(Error)}";
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }

        _process.Dispose();
    }

    private string SafeId()
    {
        try
        {
            return _process.Id.ToString(CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return "?";
        }
    }

    private static string Indent(string text) =>
        text.Length == 0 ? "    (nothing)\n" : string.Concat(text.Split('\n').Where(l => l.Length > 0).Select(l => "    " + l.TrimEnd('\r') + "\n"));

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
