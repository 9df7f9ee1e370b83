using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Rumor.Agent.EventHandlers;

/// <summary>
/// The bounded machinery both dialects' event handlers share (<see cref="EventHandlerRunner"/>
/// in Rumor mode, <c>SerfEventHandlerRunner</c> in Serf mode): at most
/// <see cref="EventHandlerOptions.Concurrency"/> scripts at once, at most
/// <see cref="EventHandlerOptions.QueueMax"/> runs waiting for a slot (more are dropped and
/// reported), each script <c>/bin/sh -c SCRIPT</c> with the dialect's environment and standard
/// input, killed with its children after <see cref="EventHandlerOptions.Timeout"/>, its output kept
/// by the dialect's <see cref="ScriptOutput"/>. The dialect decides what a script gets and what its
/// result means; this type only runs it within the bounds. No library does this (a process pool
/// with a queue bound, per-run timeouts and bounded output capture), hence the hand-written code.
/// </summary>
internal sealed class BoundedScriptRunner
{
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _slots;
    private readonly Lock _lock = new();
    private readonly Lock _optionsLock = new();
    private readonly HashSet<Task> _running = [];
    private readonly Action<LogLevel, string> _report;
    private volatile EventHandlerOptions _options;
    private int _waiting;
    private long _started;
    private long _dropped;
    private int _stopped;

    /// <summary>Creates the runner; <paramref name="report"/> logs a line about a run.</summary>
    public BoundedScriptRunner(EventHandlerOptions options, Action<LogLevel, string> report)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(report);
        _options = options;
        _report = report;

        // No maximum: SetOptions adds slots by releasing more, and retires slots by taking them.
        _slots = new SemaphoreSlim(options.Concurrency, int.MaxValue);
    }

    /// <summary>The bounds in force.</summary>
    public EventHandlerOptions Options => _options;

    /// <summary>Cancelled when the runner stops (the dialect's loops stop with it).</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>Scripts started so far.</summary>
    public long Started => Interlocked.Read(ref _started);

    /// <summary>Runs (or, counted by the dialect, events) dropped because a bound was reached.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Counts one more drop (an event the dialect could not queue).</summary>
    public void CountDrop() => Interlocked.Increment(ref _dropped);

    /// <summary>
    /// Applies new bounds without a restart: the timeout and the queue bound apply to every run that
    /// starts from now; more slots open at once, and fewer take effect as running scripts finish
    /// (none is killed to make room).
    /// </summary>
    public void SetOptions(EventHandlerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        lock (_optionsLock)
        {
            int change = options.Concurrency - _options.Concurrency;
            _options = options;
            if (change > 0)
            {
                _slots.Release(change);
            }
            else if (change < 0)
            {
                _ = RetireSlotsAsync(-change);
            }
        }
    }

    /// <summary>Takes <paramref name="count"/> slots as they come free and never gives them back.</summary>
    private async Task RetireSlotsAsync(int count)
    {
        try
        {
            for (int i = 0; i < count; i++)
            {
                await _slots.WaitAsync(_stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            // The agent is stopping.
        }
    }

    /// <summary>
    /// Queues <paramref name="run"/> (the dialect's work for one handler and one event) for a slot;
    /// drops and reports it when QueueMax runs already wait.
    /// </summary>
    public void Dispatch(string script, string eventName, Func<Task> run)
    {
        if (Interlocked.Increment(ref _waiting) > _options.QueueMax)
        {
            Interlocked.Decrement(ref _waiting);
            Interlocked.Increment(ref _dropped);
            _report(LogLevel.Warning, $"event handler '{script}' not run for {eventName}: {_options.QueueMax} runs are already waiting (EventHandlerQueueMax)");
            return;
        }

        Task task = RunInSlotAsync(script, eventName, run);
        lock (_lock)
        {
            if (!task.IsCompleted)
            {
                _running.Add(task);
            }
        }

        _ = task.ContinueWith(
            finished =>
            {
                lock (_lock)
                {
                    _running.Remove(finished);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private async Task RunInSlotAsync(string script, string eventName, Func<Task> run)
    {
        bool entered = false;
        try
        {
            await _slots.WaitAsync(_stop.Token).ConfigureAwait(false);
            entered = true;
            Interlocked.Decrement(ref _waiting);
            await run().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // The agent is stopping.
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _report(LogLevel.Error, $"event handler '{script}' for {eventName} failed: {e.Message}");
        }
        finally
        {
            if (entered)
            {
                _slots.Release();
            }
            else
            {
                Interlocked.Decrement(ref _waiting);
            }
        }
    }

    /// <summary>
    /// Runs <c>/bin/sh -c <paramref name="script"/></c> with <paramref name="environment"/> added
    /// to the inherited one and <paramref name="standardInput"/> written to it, its output kept by
    /// <paramref name="output"/>. Returns the exit code; null when it could not start, ran past the
    /// timeout (killed with its children) or the runner stopped, each reported but the last.
    /// </summary>
    public async Task<int?> RunProcessAsync(string script, string eventName, IReadOnlyDictionary<string, string> environment, byte[] standardInput, ScriptOutput output)
    {
        ProcessStartInfo start = new("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (KeyValuePair<string, string> variable in environment)
        {
            start.Environment[variable.Key] = variable.Value;
        }

        using Process process = new() { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            _report(LogLevel.Error, $"event handler '{script}' for {eventName} could not start: {e.Message}");
            return null;
        }

        Interlocked.Increment(ref _started);
        TimeSpan limit = _options.Timeout;
        using CancellationTokenSource timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(limit);
        Task reading = output.CaptureAsync(process.StandardOutput.BaseStream, process.StandardError.BaseStream, timeout.Token);
        try
        {
            try
            {
                await process.StandardInput.BaseStream.WriteAsync(standardInput, timeout.Token).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The script did not read its input: that is its choice.
            }
            finally
            {
                try
                {
                    process.StandardInput.Close();
                }
                catch (IOException)
                {
                    // Closing flushes: a script that exited without reading breaks the pipe here too (EPIPE).
                }
            }

            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            await reading.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (!_stop.IsCancellationRequested)
            {
                _report(LogLevel.Error, $"event handler '{script}' for {eventName} ran longer than {limit.TotalSeconds:0.###} s (EventHandlerTimeout) and was killed");
            }

            return null;
        }

        return process.ExitCode;
    }

    /// <summary>Cancels the runs (scripts are killed) and the dialect's loops.</summary>
    public Task CancelAsync() => _stop.CancelAsync();

    /// <summary>Cancels, then waits at most 5 s for the running scripts and <paramref name="loops"/>, then frees the runner.</summary>
    public async Task StopAsync(IEnumerable<Task> loops)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        Task[] running;
        lock (_lock)
        {
            running = [.. _running];
        }

        await Task.WhenAny(Task.WhenAll([.. loops, .. running]), Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        _stop.Dispose();
        _slots.Dispose();
    }
}

/// <summary>How a dialect keeps a script's output (standard output and standard error, read as they come).</summary>
internal abstract class ScriptOutput
{
    /// <summary>Reads both streams to their end (or until cancelled, as the capture decides).</summary>
    public abstract Task CaptureAsync(Stream standardOutput, Stream standardError, CancellationToken cancellationToken);
}

/// <summary>Rumor mode: each stream on its own, at most <c>maxBytes</c> of each kept (the first), the rest read and discarded.</summary>
internal sealed class HeadOutput(int maxBytes) : ScriptOutput
{
    public byte[] StandardOutput { get; private set; } = [];

    public byte[] StandardError { get; private set; } = [];

    public override async Task CaptureAsync(Stream standardOutput, Stream standardError, CancellationToken cancellationToken)
    {
        Task<byte[]> output = ReadBoundedAsync(standardOutput, cancellationToken);
        Task<byte[]> errors = ReadBoundedAsync(standardError, cancellationToken);
        StandardOutput = await output.ConfigureAwait(false);
        StandardError = await errors.ConfigureAwait(false);
    }

    /// <summary>Reads at most maxBytes and discards the rest, so a chatty script neither blocks nor fills memory.</summary>
    private async Task<byte[]> ReadBoundedAsync(Stream stream, CancellationToken cancellationToken)
    {
        using MemoryStream kept = new();
        byte[] buffer = new byte[8192];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                int keep = Math.Min(read, maxBytes - (int)kept.Length);
                if (keep > 0)
                {
                    kept.Write(buffer, 0, keep);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // Killed or closed: what was read is what there is.
        }

        return kept.ToArray();
    }
}

/// <summary>Serf mode: both streams into one buffer keeping the last <c>size</c> bytes and counting them all (Serf's circbuf).</summary>
internal sealed class TailOutput(int size) : ScriptOutput
{
    private readonly byte[] _buffer = new byte[size];
    private readonly Lock _gate = new();
    private long _written;

    public long TotalWritten
    {
        get
        {
            lock (_gate)
            {
                return _written;
            }
        }
    }

    public override Task CaptureAsync(Stream standardOutput, Stream standardError, CancellationToken cancellationToken) =>
        Task.WhenAll(ReadAsync(standardOutput, cancellationToken), ReadAsync(standardError, cancellationToken));

    private async Task ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] chunk = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                Write(chunk.AsSpan(0, read));
            }
        }
        catch (IOException)
        {
            // Closed: what was read is what there is.
        }
    }

    private void Write(ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            foreach (byte b in data)
            {
                _buffer[(int)(_written % _buffer.Length)] = b;
                _written++;
            }
        }
    }

    public byte[] ToArray()
    {
        lock (_gate)
        {
            if (_written <= _buffer.Length)
            {
                return _buffer[..(int)_written];
            }

            int start = (int)(_written % _buffer.Length);
            return [.. _buffer[start..], .. _buffer[..start]];
        }
    }
}
