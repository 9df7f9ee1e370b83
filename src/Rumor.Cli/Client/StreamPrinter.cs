using Rumor.Client;

namespace Rumor.Cli.Client;

/// <summary>
/// Prints a server-sent event stream of the agent (<c>rumor kv watch</c>, <c>rumor monitor</c>) as it
/// arrives: one line per event for people, or one compact JSON object per line with <c>--json</c>
/// (<c>{"event":"member","data":{…}}</c>, ready for <c>jq</c>). Ctrl+C is the normal end (exit 0);
/// the agent closing the stream is a failure (exit 1), since the watcher asked for more.
/// </summary>
internal static class StreamPrinter
{
    public static async Task<int> RunAsync<T>(ClientContext context, Func<CancellationToken, Task<RumorEventStream<T>>> open, Func<T, StreamEvent> toEvent)
        where T : class
    {
        try
        {
            RumorEventStream<T> stream = await open(context.Stop).ConfigureAwait(false);
            await using (((IAsyncDisposable)stream).ConfigureAwait(false))
            {
                await foreach (T item in stream.WithCancellation(context.Stop).ConfigureAwait(false))
                {
                    await PrintAsync(context, toEvent(item)).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (context.Stop.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }

        if (context.Stop.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }

        await context.Error.WriteLineAsync($"rumor {context.Command}: the agent at {ClientCommand.Display(context.Agent.BaseAddress)} closed the stream.").ConfigureAwait(false);
        return ExitCodes.Failure;
    }

    private static async Task PrintAsync(ClientContext context, StreamEvent item)
    {
        string line = context.Json ? Format.CompactJson(item) : Describe(item, context.Environment.Time);
        await context.Output.WriteLineAsync(line).ConfigureAwait(false);
        await context.Output.FlushAsync(context.Stop).ConfigureAwait(false);
    }

    /// <summary>One event as one line: the time it happened (or arrived), its kind, what changed.</summary>
    internal static string Describe(StreamEvent item, TimeProvider clock)
    {
        switch (item)
        {
            case { Member: { } m }:
                string previous = m.Previous is { } p ? Format.Name(p) + " -> " : string.Empty;
                return $"{When(m.At, clock)}  member {Format.Cell(m.Name)} {previous}{Format.Name(m.State)}";
            case { UserEvent: { } e }:
                string payload = Format.Payload(e.Payload, e.PayloadBase64);
                return $"{When(e.ReceivedAt, clock)}  event {Format.Cell(e.Name)} from {Format.Cell(e.Origin)}: {(payload == "-" ? "(no payload)" : payload)} (lamport time {e.LamportTime})";
            case { Kv: { } k }:
                string newValue = Format.Payload(k.NewValue, k.NewValueBase64);
                string oldValue = Format.Payload(k.OldValue, k.OldValueBase64);
                string change = newValue == "-"
                    ? "deleted"
                    : oldValue == "-" ? $"= {newValue} (new)" : $"{oldValue} -> {newValue}";
                return $"{When(null, clock)}  kv {Format.Cell(k.Owner)}/{Format.Cell(k.Key)} {change} (version {k.Version})";
            case { Dropped: { } d }:
                return $"{When(null, clock)}  dropped {d.Dropped} event(s): this reader fell behind the agent's bound {d.Option}";
            default:
                return $"{When(null, clock)}  {item.Type}";
        }
    }

    /// <summary>The time of day an event happened, or arrived when the event carries no time.</summary>
    private static string When(DateTimeOffset? at, TimeProvider clock) =>
        Format.TimeOfDay(at is { } t && t != default ? t : clock.GetUtcNow(), clock);
}
