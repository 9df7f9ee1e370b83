using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Rumor.Core;
using Rumor.Core.Events;
using Rumor.Hosting;

namespace Rumor.Agent.Endpoints;

/// <summary>
/// Server-sent events: <c>GET /v1/kv/watch</c> (key changes under a prefix) and <c>GET /v1/stream</c>
/// (member changes and key changes). Each subscription is registered before the response starts,
/// so a client that has seen the headers misses nothing afterwards. A client that reads too slowly
/// loses the oldest events (bounded queue), never slows the node.
/// </summary>
internal static class StreamEndpoints
{
    private static readonly string[] Kinds = ["member", "event", "kv"];

    public static IEndpointRouteBuilder MapStreamEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/kv/watch", async (RumorNode node, HttpContext context, string? prefix) =>
        {
            CancellationToken aborted = context.RequestAborted;
            RumorSubscription watch;
            try
            {
                watch = await node.OpenWatchAsync(prefix ?? string.Empty, aborted).ConfigureAwait(false);
            }
            catch (InvalidOperationException e)
            {
                await ApiJson.Unavailable(e.Message).ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            await using (watch.ConfigureAwait(false))
            {
                await StartAsync(context.Response, aborted).ConfigureAwait(false);
                await foreach (GossipEvent gossipEvent in ReadUntilAbortedAsync(watch, aborted).ConfigureAwait(false))
                {
                    await WriteAsync(context.Response, "change", KvChangeDto.From((KeyChanged)gossipEvent), aborted).ConfigureAwait(false);
                }
            }
        });

        app.MapGet("/v1/stream", async (RumorNode node, HttpContext context, string? kinds) =>
        {
            HashSet<string> wanted = new(Kinds, StringComparer.OrdinalIgnoreCase);
            if (!string.IsNullOrWhiteSpace(kinds))
            {
                wanted = new(kinds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.OrdinalIgnoreCase);
                if (wanted.FirstOrDefault(kind => !Kinds.Contains(kind, StringComparer.OrdinalIgnoreCase)) is { } unknown)
                {
                    await ApiJson.BadRequest($"kind '{unknown}' is not streamed: expected a comma-separated list of {string.Join(", ", Kinds)}.").ExecuteAsync(context).ConfigureAwait(false);
                    return;
                }
            }

            CancellationToken aborted = context.RequestAborted;
            RumorSubscription stream = node.OpenStream();
            await using (stream.ConfigureAwait(false))
            {
                await StartAsync(context.Response, aborted).ConfigureAwait(false);
                DateTimeOffset epoch = node.TimeProvider.GetUtcNow() - node.Transport.Now;
                await foreach (GossipEvent gossipEvent in ReadUntilAbortedAsync(stream, aborted).ConfigureAwait(false))
                {
                    switch (gossipEvent)
                    {
                        case MemberChanged changed when wanted.Contains("member"):
                            MemberSnapshot m = changed.Member;
                            await WriteAsync(context.Response, "member", new MemberEventDto(m.Name, m.Address.ToString(), m.State, changed.Previous, changed.Kind, m.Incarnation, epoch + changed.At), aborted).ConfigureAwait(false);
                            break;
                        case UserEventReceived received when wanted.Contains("event"):
                            await WriteAsync(context.Response, "user", EventDto.From(received.Event, node.TimeProvider.GetUtcNow()), aborted).ConfigureAwait(false);
                            break;
                        case KeyChanged changed when wanted.Contains("kv"):
                            await WriteAsync(context.Response, "kv", KvChangeDto.From(changed), aborted).ConfigureAwait(false);
                            break;
                        default:
                            break;
                    }
                }
            }
        });
        return app;
    }

    private static async IAsyncEnumerable<GossipEvent> ReadUntilAbortedAsync(RumorSubscription subscription, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken aborted)
    {
        IAsyncEnumerator<GossipEvent> events = subscription.ReadAllAsync(aborted).GetAsyncEnumerator(aborted);
        await using (events.ConfigureAwait(false))
        {
            while (true)
            {
                try
                {
                    if (!await events.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }
                }
                catch (OperationCanceledException)
                {
                    // The client went away.
                    yield break;
                }

                yield return events.Current;
            }
        }
    }

    private static async Task StartAsync(HttpResponse response, CancellationToken aborted)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        // A comment line first: the client sees the headers (and knows it is subscribed) at once.
        await response.WriteAsync(": subscribed\n\n", aborted).ConfigureAwait(false);
        await response.Body.FlushAsync(aborted).ConfigureAwait(false);
    }

    private static async Task WriteAsync<T>(HttpResponse response, string eventName, T payload, CancellationToken aborted)
    {
        string json = JsonSerializer.Serialize(payload, ApiJson.Options);
        try
        {
            await response.WriteAsync($"event: {eventName}\ndata: {json}\n\n", Encoding.UTF8, aborted).ConfigureAwait(false);
            await response.Body.FlushAsync(aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client went away; the enumeration ends at the next read.
        }
    }
}
