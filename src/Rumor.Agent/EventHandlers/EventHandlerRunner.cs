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
    private readonly BoundedScriptRunner _runner;
    private readonly Task _pump;
    private volatile IReadOnlyList<EventHandlerSpec> _handlers;
    private int _disposed;

    /// <summary>Starts reading the node's events for <paramref name="handlers"/>.</summary>
    public EventHandlerRunner(RumorNode node, IReadOnlyList<EventHandlerSpec> handlers, EventHandlerOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(handlers);
        ArgumentNullException.ThrowIfNull(options);
        _node = node;
        _handlers = handlers;
        _logger = logger;
        _runner = new BoundedScriptRunner(options, Report);
        _events = node.OpenStream();
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Every line the runner logs, also given here (the <c>rumor agent</c> command prints them).</summary>
    public event Action<LogLevel, string>? Logged;

    /// <summary>The bounds it runs with (changed by <see cref="SetOptions"/>).</summary>
    public EventHandlerOptions Options => _runner.Options;

    /// <summary>The handlers in force.</summary>
    public IReadOnlyList<EventHandlerSpec> Handlers => _handlers;

    /// <summary>Scripts started so far.</summary>
    public long Started => _runner.Started;

    /// <summary>Handler runs dropped because QueueMax were waiting.</summary>
    public long Dropped => _runner.Dropped;

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
    public void SetOptions(EventHandlerOptions options) => _runner.SetOptions(options);

    private async Task PumpAsync()
    {
        try
        {
            await foreach (GossipEvent gossipEvent in _events.ReadAllAsync(_runner.Stopping).ConfigureAwait(false))
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
                        string eventName = e.name;
                        _runner.Dispatch(handler.Script, eventName, () => RunScriptAsync(handler, eventName, gossipEvent));
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

    // Rumor mode's environment and standard input for one event; the shared runner runs the script.
    private async Task RunScriptAsync(EventHandlerSpec handler, string eventName, GossipEvent gossipEvent)
    {
        IReadOnlyDictionary<string, string> selfTags = await _node.GetTagsAsync(_runner.Stopping).ConfigureAwait(false);
        Dictionary<string, string> environment = new(StringComparer.Ordinal)
        {
            ["RUMOR_EVENT"] = eventName,
            ["RUMOR_SELF_NAME"] = _node.Name,
            ["RUMOR_SELF_ROLE"] = selfTags.GetValueOrDefault("role", string.Empty),
        };
        foreach (KeyValuePair<string, string> tag in selfTags)
        {
            environment["RUMOR_TAG_" + EnvironmentName(tag.Key)] = tag.Value;
        }

        byte[] input;
        QueryRequest? query = null;
        switch (gossipEvent)
        {
            case MemberChanged changed:
                environment["RUMOR_MEMBER_COUNT"] = "1";
                input = Encoding.UTF8.GetBytes(MemberLine(changed.Member));
                break;
            case UserEventReceived received:
                environment["RUMOR_USER_EVENT"] = received.Event.Name;
                environment["RUMOR_USER_LTIME"] = received.Event.LamportTime.ToString(CultureInfo.InvariantCulture);
                input = received.Event.Payload;
                break;
            case QueryReceived asked:
                query = asked.Request;
                environment["RUMOR_QUERY_NAME"] = query.Name;
                environment["RUMOR_QUERY_LTIME"] = query.LamportTime.ToString(CultureInfo.InvariantCulture);
                environment["RUMOR_QUERY_ASKER"] = query.Asker;
                input = query.Payload;
                break;
            default:
                return;
        }

        HeadOutput output = new(OutputMaxBytes);
        if (await _runner.RunProcessAsync(handler.Script, eventName, environment, input, output).ConfigureAwait(false) is not { } exitCode)
        {
            return;
        }

        if (exitCode != 0)
        {
            string said = Encoding.UTF8.GetString(output.StandardError).Trim();
            Report(LogLevel.Warning, $"event handler '{handler.Script}' for {eventName} exited with code {exitCode}{(said.Length > 0 ? ": " + FirstLine(said) : string.Empty)}");
            return;
        }

        if (query is null)
        {
            return;
        }

        try
        {
            if (!await _node.RespondToQueryAsync(query, output.StandardOutput, _runner.Stopping).ConfigureAwait(false))
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

        await _runner.CancelAsync().ConfigureAwait(false);
        await _events.DisposeAsync().ConfigureAwait(false);
        await _runner.StopAsync([_pump]).ConfigureAwait(false);
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
