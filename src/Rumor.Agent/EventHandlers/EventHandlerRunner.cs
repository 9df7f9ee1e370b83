using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Rumor.Core;
using Rumor.Core.Events;
using Rumor.Core.Membership;
using Rumor.Hosting;

namespace Rumor.Agent.EventHandlers;

/// <summary>
/// Runs the agent's event handlers as Serf does: for each member event, user event and query that
/// a handler's filter matches, <c>/bin/sh -c SCRIPT</c> with the event in environment variables
/// (RUMOR_EVENT, RUMOR_SELF_NAME, RUMOR_SELF_ROLE, RUMOR_TAG_*, RUMOR_USER_EVENT, RUMOR_USER_LTIME,
/// RUMOR_QUERY_NAME, RUMOR_QUERY_LTIME, RUMOR_MEMBER_COUNT) and on standard input (member events:
/// one line per member, <c>name TAB address TAB role TAB tags</c>; user events and queries: the
/// payload). A query is answered with the handler's standard output when it exits 0.
/// <para>
/// Bounds: at most <see cref="EventHandlerOptions.Concurrency"/> scripts run at once, at most
/// <see cref="EventHandlerOptions.QueueMax"/> wait (more are dropped and logged), each is killed
/// (with its children) after <see cref="EventHandlerOptions.Timeout"/>, and at most 64 KiB of its
/// output is read. Every failure (exit code, timeout, start failure) is logged with the script.
/// The events come from the node's bounded stream, so a slow handler never slows the node.
/// </para>
/// </summary>
public sealed partial class EventHandlerRunner : IAsyncDisposable
{
    private const int OutputMaxBytes = 64 * 1024;

    private readonly RumorNode _node;
    private readonly ILogger _logger;
    private readonly RumorSubscription _events;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _slots;
    private readonly Task _pump;
    private readonly Lock _lock = new();
    private readonly Lock _optionsLock = new();
    private readonly HashSet<Task> _running = [];
    private volatile EventHandlerOptions _options;
    private volatile IReadOnlyList<EventHandlerSpec> _handlers;
    private int _waiting;
    private int _disposed;

    /// <summary>Starts reading the node's events for <paramref name="handlers"/>.</summary>
    public EventHandlerRunner(RumorNode node, IReadOnlyList<EventHandlerSpec> handlers, EventHandlerOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(handlers);
        ArgumentNullException.ThrowIfNull(options);
        _node = node;
        _handlers = handlers;
        _options = options;
        _logger = logger;

        // No maximum: SetOptions adds slots by releasing more, and retires slots by taking them.
        _slots = new SemaphoreSlim(options.Concurrency, int.MaxValue);
        _events = node.OpenStream();
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Every line the runner logs, also given here (the <c>rumor agent</c> command prints them).</summary>
    public event Action<LogLevel, string>? Logged;

    /// <summary>The bounds it runs with (changed by <see cref="SetOptions"/>).</summary>
    public EventHandlerOptions Options => _options;

    /// <summary>The handlers in force.</summary>
    public IReadOnlyList<EventHandlerSpec> Handlers => _handlers;

    /// <summary>Scripts started so far.</summary>
    public long Started => Interlocked.Read(ref _started);

    /// <summary>Handler runs dropped because QueueMax were waiting.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    private long _started;
    private long _dropped;

    /// <summary>Replaces the handlers (a configuration reload); runs in progress finish.</summary>
    public void SetHandlers(IReadOnlyList<EventHandlerSpec> handlers)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        _handlers = handlers;
    }

    /// <summary>
    /// Applies new bounds (a configuration reload) without a restart: the timeout and the queue bound
    /// apply to every run that starts from now; more slots open at once, and fewer take effect as
    /// running scripts finish (none is killed to make room).
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

    private async Task PumpAsync()
    {
        try
        {
            await foreach (GossipEvent gossipEvent in _events.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                (string name, string? detail)? described = gossipEvent switch
                {
                    MemberChanged changed => MemberEventName(changed.Kind) is { } member ? (member, null) : null,
                    UserEventReceived received => ("user", received.Event.Name),
                    // The agent answers its built-in queries itself (as Serf keeps its internal ones from handlers).
                    QueryReceived query when !BuiltInQueries.Names.Contains(query.Request.Name) => ("query", query.Request.Name),
                    _ => null,
                };
                if (described is not { } e)
                {
                    continue;
                }

                foreach (EventHandlerSpec handler in _handlers)
                {
                    if (handler.Matches(e.name, e.detail))
                    {
                        Dispatch(handler, e.name, gossipEvent);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    /// <summary>The RUMOR_EVENT name of a member change (Serf's names); null for changes Serf has no event for.</summary>
    internal static string? MemberEventName(MemberChangeKind kind) => kind switch
    {
        MemberChangeKind.Joined => "member-join",
        MemberChangeKind.Left => "member-leave",
        MemberChangeKind.Failed => "member-failed",
        MemberChangeKind.Updated => "member-update",
        MemberChangeKind.Reaped => "member-reap",
        _ => null,
    };

    private void Dispatch(EventHandlerSpec handler, string eventName, GossipEvent gossipEvent)
    {
        if (Interlocked.Increment(ref _waiting) > Options.QueueMax)
        {
            Interlocked.Decrement(ref _waiting);
            Interlocked.Increment(ref _dropped);
            Report(LogLevel.Warning, $"event handler '{handler.Script}' not run for {eventName}: {Options.QueueMax} runs are already waiting (EventHandlerQueueMax)");
            return;
        }

        Task run = RunAsync(handler, eventName, gossipEvent);
        lock (_lock)
        {
            if (!run.IsCompleted)
            {
                _running.Add(run);
            }
        }

        _ = run.ContinueWith(
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

    private async Task RunAsync(EventHandlerSpec handler, string eventName, GossipEvent gossipEvent)
    {
        bool entered = false;
        try
        {
            await _slots.WaitAsync(_stop.Token).ConfigureAwait(false);
            entered = true;
            Interlocked.Decrement(ref _waiting);
            await RunScriptAsync(handler, eventName, gossipEvent).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // The agent is stopping.
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Report(LogLevel.Error, $"event handler '{handler.Script}' for {eventName} failed: {e.Message}");
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

    private async Task RunScriptAsync(EventHandlerSpec handler, string eventName, GossipEvent gossipEvent)
    {
        IReadOnlyDictionary<string, string> selfTags = await _node.GetTagsAsync(_stop.Token).ConfigureAwait(false);
        ProcessStartInfo start = new("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(handler.Script);
        start.Environment["RUMOR_EVENT"] = eventName;
        start.Environment["RUMOR_SELF_NAME"] = _node.Name;
        start.Environment["RUMOR_SELF_ROLE"] = selfTags.GetValueOrDefault("role", string.Empty);
        foreach (KeyValuePair<string, string> tag in selfTags)
        {
            start.Environment["RUMOR_TAG_" + EnvironmentName(tag.Key)] = tag.Value;
        }

        byte[] input;
        QueryRequest? query = null;
        switch (gossipEvent)
        {
            case MemberChanged changed:
                start.Environment["RUMOR_MEMBER_COUNT"] = "1";
                input = Encoding.UTF8.GetBytes(MemberLine(changed.Member));
                break;
            case UserEventReceived received:
                start.Environment["RUMOR_USER_EVENT"] = received.Event.Name;
                start.Environment["RUMOR_USER_LTIME"] = received.Event.LamportTime.ToString(CultureInfo.InvariantCulture);
                input = received.Event.Payload;
                break;
            case QueryReceived asked:
                query = asked.Request;
                start.Environment["RUMOR_QUERY_NAME"] = query.Name;
                start.Environment["RUMOR_QUERY_LTIME"] = query.LamportTime.ToString(CultureInfo.InvariantCulture);
                start.Environment["RUMOR_QUERY_ASKER"] = query.Asker;
                input = query.Payload;
                break;
            default:
                return;
        }

        using Process process = new() { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            Report(LogLevel.Error, $"event handler '{handler.Script}' for {eventName} could not start: {e.Message}");
            return;
        }

        Interlocked.Increment(ref _started);
        using CancellationTokenSource timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(Options.Timeout);
        Task<byte[]> output = ReadBoundedAsync(process.StandardOutput.BaseStream, timeout.Token);
        Task<byte[]> errors = ReadBoundedAsync(process.StandardError.BaseStream, timeout.Token);
        try
        {
            try
            {
                await process.StandardInput.BaseStream.WriteAsync(input, timeout.Token).ConfigureAwait(false);
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
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (_stop.IsCancellationRequested)
            {
                return;
            }

            Report(LogLevel.Error, $"event handler '{handler.Script}' for {eventName} ran longer than {Options.Timeout.TotalSeconds:0.###} s (EventHandlerTimeout) and was killed");
            return;
        }

        byte[] stdout = await output.ConfigureAwait(false);
        byte[] stderr = await errors.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            string said = Encoding.UTF8.GetString(stderr).Trim();
            Report(LogLevel.Warning, $"event handler '{handler.Script}' for {eventName} exited with code {process.ExitCode}{(said.Length > 0 ? ": " + FirstLine(said) : string.Empty)}");
            return;
        }

        if (query is null)
        {
            return;
        }

        try
        {
            if (!await _node.RespondToQueryAsync(query, stdout, _stop.Token).ConfigureAwait(false))
            {
                Report(LogLevel.Warning, $"event handler '{handler.Script}' answered query {query.Name} too late (or it was answered already)");
            }
        }
        catch (ArgumentException e)
        {
            Report(LogLevel.Warning, $"event handler '{handler.Script}' for query {query.Name}: its output cannot be the answer: {e.Message.Split(" (Parameter", 2)[0]}");
        }
        catch (InvalidOperationException e)
        {
            // Another handler answered first, or the node forgot the query.
            Report(LogLevel.Information, $"event handler '{handler.Script}' for query {query.Name}: not sent: {e.Message}");
        }
    }

    /// <summary>Serf's member line: name, address, role tag and the tags as k=v,k=v, tab-separated.</summary>
    internal static string MemberLine(MemberSnapshot member)
    {
        IReadOnlyList<KeyValuePair<string, string>> tags = MemberTags.Decode(member.Metadata);
        string role = tags.FirstOrDefault(t => t.Key == "role").Value ?? string.Empty;
        return $"{member.Name}\t{member.Address.ToIPAddress()}\t{role}\t{string.Join(',', tags.Select(t => t.Key + "=" + t.Value))}\n";
    }

    /// <summary>A tag key as an environment variable's name: upper case, anything but letters and digits as '_'.</summary>
    internal static string EnvironmentName(string key)
    {
        StringBuilder name = new(key.Length);
        foreach (char c in key)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_');
        }

        return name.ToString();
    }

    private static string FirstLine(string text)
    {
        int end = text.IndexOf('\n', StringComparison.Ordinal);
        string line = end < 0 ? text : text[..end];
        return line.Length > 200 ? line[..200] + "…" : line;
    }

    /// <summary>Reads at most <see cref="OutputMaxBytes"/> and discards the rest, so a chatty script neither blocks nor fills memory.</summary>
    private static async Task<byte[]> ReadBoundedAsync(Stream stream, CancellationToken cancellationToken)
    {
        using MemoryStream kept = new();
        byte[] buffer = new byte[8192];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                int keep = Math.Min(read, OutputMaxBytes - (int)kept.Length);
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

    private void Report(LogLevel level, string message)
    {
        LogHandler(_logger, level, message);
        Logged?.Invoke(level, message);
    }

    [LoggerMessage(EventId = 4001, Message = "{Message}")]
    private static partial void LogHandler(ILogger logger, LogLevel level, string message);

    /// <summary>Stops reading events, kills running scripts and waits (bounded) for them.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _events.DisposeAsync().ConfigureAwait(false);
        Task[] running;
        lock (_lock)
        {
            running = [.. _running];
        }

        await Task.WhenAny(Task.WhenAll([_pump, .. running]), Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        _stop.Dispose();
        _slots.Dispose();
    }
}

/// <summary>The bounds of the event handlers (docs/CONFIGURATION.md).</summary>
/// <param name="Timeout">A script still running after this is killed, with its children (EventHandlerTimeout, default 30 s).</param>
/// <param name="Concurrency">Scripts running at once, at most (EventHandlerConcurrency, default 4).</param>
/// <param name="QueueMax">Runs waiting for a slot, at most; more are dropped and logged (EventHandlerQueueMax, default 256).</param>
public sealed record EventHandlerOptions(TimeSpan Timeout, int Concurrency, int QueueMax)
{
    /// <summary>The defaults.</summary>
    public static readonly EventHandlerOptions Default = new(TimeSpan.FromSeconds(30), 4, 256);
}
