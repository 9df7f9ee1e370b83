using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Rumor.Agent.EventHandlers;
using Rumor.Serf;

namespace Rumor.Agent.Serf;

/// <summary>
/// The event handlers of a Serf-mode agent, run as Serf's agent runs them (command/agent/invoke.go):
/// member events (coalesced over <see cref="SerfCoalesceOptions.CoalescePeriod"/> and
/// <see cref="SerfCoalesceOptions.QuiescentPeriod"/>), user events (those sent with the coalesce
/// flag coalesced per name to the latest Lamport time) and queries reach each handler whose filter
/// matches, as <c>/bin/sh -c SCRIPT</c> with SERF_EVENT, SERF_SELF_NAME, SERF_SELF_ROLE, SERF_TAG_*,
/// SERF_USER_EVENT, SERF_USER_LTIME, SERF_QUERY_NAME and SERF_QUERY_LTIME, and on standard input
/// one line per member (<c>name TAB address TAB role TAB k=v,k=v</c>, tabs and newlines escaped) or
/// the payload with a newline added when it lacks one. Standard output and standard error go to one
/// buffer that keeps the last 8 KiB; a query is answered with it when the script exits 0 and wrote
/// anything (Serf's rules: once, before the query's deadline, at most 1024 bytes).
/// <para>
/// Bounds (<see cref="EventHandlerOptions"/>, the same as Rumor mode): at most Concurrency scripts
/// at once (Serf runs one at a time: Concurrency 1 keeps its order), at most QueueMax waiting (more
/// are dropped and logged), each killed after Timeout. At most 1024 events wait for the coalescers;
/// more are dropped and logged, so a flood never blocks the node.
/// </para>
/// </summary>
public sealed partial class SerfEventHandlerRunner : IAsyncDisposable
{
    /// <summary>Serf's maxBufSize: the output kept of a script (the last bytes).</summary>
    public const int OutputMaxBytes = 8 * 1024;

    private const int InputQueueMax = 1024;

    private readonly SerfNode _node;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<EventHandlerSpec> _handlers;
    private readonly Channel<SerfHandlerEvent> _input = Channel.CreateBounded<SerfHandlerEvent>(new BoundedChannelOptions(InputQueueMax) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly BoundedScriptRunner _runner;
    private readonly List<Task> _loops = [];
    private int _disposed;

    /// <summary>Subscribes to <paramref name="node"/>'s member events, user events and queries for <paramref name="handlers"/>.</summary>
    public SerfEventHandlerRunner(SerfNode node, IReadOnlyList<EventHandlerSpec> handlers, EventHandlerOptions options, SerfCoalesceOptions coalesce, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(handlers);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(coalesce);
        _node = node;
        _handlers = handlers;
        _logger = logger;
        _runner = new BoundedScriptRunner(options, Report);

        // Serf's chain: user coalescer, then member coalescer, then the handlers.
        ChannelReader<SerfHandlerEvent> reader = _input.Reader;
        if (coalesce.CoalescesUserEvents)
        {
            reader = Coalesce(reader, new SerfUserCoalescer(), coalesce.UserCoalescePeriod, coalesce.UserQuiescentPeriod);
        }

        if (coalesce.CoalescesMembers)
        {
            reader = Coalesce(reader, new SerfMemberCoalescer(), coalesce.CoalescePeriod, coalesce.QuiescentPeriod);
        }

        _loops.Add(Task.Run(() => DispatchLoopAsync(reader)));
        if (handlers.Count > 0)
        {
            node.MemberChanged += OnMemberChanged;
            node.UserEventReceived += OnUserEvent;
            node.QueryReceived += OnQuery;
        }
    }

    /// <summary>Every line the runner logs, also given here (the <c>rumor agent</c> command prints them).</summary>
    public event Action<LogLevel, string>? Logged;

    /// <summary>Scripts started so far.</summary>
    public long Started => _runner.Started;

    /// <summary>Events or runs dropped because a bound was reached.</summary>
    public long Dropped => _runner.Dropped;

    private void OnMemberChanged(SerfMemberEvent e) => Enqueue(new SerfMembersEvent(SerfMembersEvent.KindName(e.Kind), [e.Member]));

    private void OnUserEvent(SerfUserEvent e) => Enqueue(new SerfUserHandlerEvent(e));

    private void OnQuery(SerfQuery query)
    {
        if (_handlers.Any(h => h.Matches("query", query.Name)))
        {
            Enqueue(new SerfQueryHandlerEvent(query));
        }
    }

    private void Enqueue(SerfHandlerEvent e)
    {
        if (!_input.Writer.TryWrite(e) && Volatile.Read(ref _disposed) == 0)
        {
            _runner.CountDrop();
            Report(LogLevel.Warning, $"event handlers: {e.EventName} {e.Name} dropped: {InputQueueMax} events are already waiting");
        }
    }

    // Serf's coalesceLoop: events the coalescer does not take pass at once; the first one it takes
    // starts the quantum (coalesce period), every one restarts the quiescent timer; the batch is
    // flushed when either runs out (or at shutdown).
    private ChannelReader<SerfHandlerEvent> Coalesce(ChannelReader<SerfHandlerEvent> input, ISerfCoalescer coalescer, TimeSpan period, TimeSpan quiescent)
    {
        Channel<SerfHandlerEvent> output = Channel.CreateBounded<SerfHandlerEvent>(new BoundedChannelOptions(InputQueueMax) { SingleReader = true, SingleWriter = true });
        _loops.Add(Task.Run(async () =>
        {
            CancellationToken stop = _runner.Stopping;
            try
            {
                bool open = true;
                while (open && !stop.IsCancellationRequested)
                {
                    long quantumDue = long.MaxValue;
                    long quiescentDue = long.MaxValue;
                    while (true)
                    {
                        long due = Math.Min(quantumDue, quiescentDue);
                        long now = System.Environment.TickCount64;
                        if (due != long.MaxValue && now >= due)
                        {
                            break;
                        }

                        if (input.TryRead(out SerfHandlerEvent? e))
                        {
                            if (!coalescer.Handles(e))
                            {
                                await output.Writer.WriteAsync(e, stop).ConfigureAwait(false);
                                continue;
                            }

                            if (quantumDue == long.MaxValue)
                            {
                                quantumDue = now + (long)period.TotalMilliseconds;
                            }

                            quiescentDue = now + (long)quiescent.TotalMilliseconds;
                            coalescer.Coalesce(e);
                            continue;
                        }

                        using CancellationTokenSource wait = CancellationTokenSource.CreateLinkedTokenSource(stop);
                        if (due != long.MaxValue)
                        {
                            wait.CancelAfter(TimeSpan.FromMilliseconds(Math.Max(1, due - now)));
                        }

                        try
                        {
                            if (!await input.WaitToReadAsync(wait.Token).ConfigureAwait(false))
                            {
                                open = false;
                                break;
                            }
                        }
                        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                        {
                            // A timer ran out: flush.
                        }
                    }

                    foreach (SerfHandlerEvent flushed in coalescer.Flush())
                    {
                        await output.Writer.WriteAsync(flushed, stop).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Stopping.
            }
            finally
            {
                output.Writer.TryComplete();
            }
        }));
        return output.Reader;
    }

    private async Task DispatchLoopAsync(ChannelReader<SerfHandlerEvent> reader)
    {
        try
        {
            await foreach (SerfHandlerEvent e in reader.ReadAllAsync(_runner.Stopping).ConfigureAwait(false))
            {
                foreach (EventHandlerSpec handler in _handlers)
                {
                    if (handler.Matches(e.EventName, e.Name))
                    {
                        _runner.Dispatch(handler.Script, e.EventName, () => RunScriptAsync(handler, e));
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>The environment Serf's invokeEventScript sets for <paramref name="e"/> (besides the inherited one).</summary>
    public static IReadOnlyDictionary<string, string> Environment(SerfHandlerEvent e, string selfName, IReadOnlyDictionary<string, string> selfTags)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(selfTags);
        Dictionary<string, string> environment = new(StringComparer.Ordinal)
        {
            ["SERF_EVENT"] = e.EventName,
            ["SERF_SELF_NAME"] = selfName,
            ["SERF_SELF_ROLE"] = selfTags.GetValueOrDefault("role", string.Empty),
        };
        foreach (KeyValuePair<string, string> tag in selfTags)
        {
            environment["SERF_TAG_" + TagVariable(tag.Key)] = tag.Value;
        }

        switch (e)
        {
            case SerfUserHandlerEvent user:
                environment["SERF_USER_EVENT"] = user.Event.Name;
                environment["SERF_USER_LTIME"] = user.Event.LTime.ToString(CultureInfo.InvariantCulture);
                break;
            case SerfQueryHandlerEvent query:
                environment["SERF_QUERY_NAME"] = query.Query.Name;
                environment["SERF_QUERY_LTIME"] = query.Query.LTime.ToString(CultureInfo.InvariantCulture);
                break;
        }

        return environment;
    }

    /// <summary>What Serf writes to the script's standard input for <paramref name="e"/>.</summary>
    public static byte[] StandardInput(SerfHandlerEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        byte[] payload = e switch
        {
            SerfMembersEvent members => Encoding.UTF8.GetBytes(string.Concat(members.Members.Select(MemberLine))),
            SerfUserHandlerEvent user => user.Event.Payload,
            SerfQueryHandlerEvent query => query.Query.Payload,
            _ => [],
        };
        return e is SerfMembersEvent || payload.Length == 0 || payload[^1] == (byte)'\n' ? payload : [.. payload, (byte)'\n'];
    }

    /// <summary>Serf's memberEventStdin line: name, address, role tag, tags as k=v,k=v (sorted here; Go's map order is random), tab-separated; tabs and newlines in name, role and tags escaped as \t and \n.</summary>
    public static string MemberLine(SerfMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        string tags = string.Join(',', member.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => t.Key + "=" + t.Value));
        return $"{Clean(member.Name)}\t{member.Address}\t{Clean(member.Tags.GetValueOrDefault("role", string.Empty))}\t{Clean(tags)}\n";
    }

    private static string Clean(string value) => value.Replace("\t", "\\t", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>Serf's tag variable name: upper case, every character outside A-Z, 0-9 and _ as _.</summary>
    public static string TagVariable(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        StringBuilder name = new(key.Length);
        foreach (char c in key.ToUpperInvariant())
        {
            name.Append(c is (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' ? c : '_');
        }

        return name.ToString();
    }

    // Serf's environment and standard input for one event; the shared runner runs the script.
    private async Task RunScriptAsync(EventHandlerSpec handler, SerfHandlerEvent e)
    {
        IReadOnlyDictionary<string, string> selfTags = _node.FindMember(_node.Name)?.Tags ?? new Dictionary<string, string>();
        TailOutput output = new(OutputMaxBytes);
        if (await _runner.RunProcessAsync(handler.Script, e.EventName, Environment(e, _node.Name, selfTags), StandardInput(e), output).ConfigureAwait(false) is not { } exitCode)
        {
            return;
        }

        if (output.TotalWritten > OutputMaxBytes)
        {
            Report(LogLevel.Warning, $"event handler '{handler.Script}' generated {output.TotalWritten} bytes of output, truncated to {OutputMaxBytes}");
        }

        if (exitCode != 0)
        {
            Report(LogLevel.Warning, $"event handler '{handler.Script}' for {e.EventName} exited with code {exitCode}");
            return;
        }

        if (e is SerfQueryHandlerEvent query && output.TotalWritten > 0 && query.Query.Respond(output.ToArray()) is { } problem)
        {
            Report(LogLevel.Warning, $"event handler '{handler.Script}': failed to respond to query '{query.Query.Name}': {problem}");
        }
    }

    private void Report(LogLevel level, string message)
    {
        LogHandler(_logger, level, message);
        Logged?.Invoke(level, message);
    }

    [LoggerMessage(EventId = 4101, Message = "{Message}")]
    private static partial void LogHandler(ILogger logger, LogLevel level, string message);

    /// <summary>Stops taking events, kills running scripts and waits (at most 5 s) for them.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _node.MemberChanged -= OnMemberChanged;
        _node.UserEventReceived -= OnUserEvent;
        _node.QueryReceived -= OnQuery;
        _input.Writer.TryComplete();
        await _runner.StopAsync(_loops).ConfigureAwait(false);
    }
}
