using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Rumor.Client;
using Rumor.Core;
using Rumor.Core.Events;
using Rumor.Hosting;

namespace Rumor.Agent.Endpoints;

/// <summary>
/// Server-sent events: <c>GET /v1/kv/watch</c> (key changes under a prefix) and <c>GET /v1/stream</c>
/// (member changes, user events and key changes), written by <c>TypedResults.ServerSentEvents</c>.
/// Each subscription is registered before the response starts, and the response starts with a
/// <c>: subscribed</c> comment, so a client that has seen the headers misses nothing afterwards.
/// A client that reads too slowly loses the oldest events (bounded queue), never slows the node.
/// </summary>
internal static class StreamEndpoints
{
    private static readonly string[] Kinds = ["member", "event", "kv"];

    /// <summary>The first bytes of every stream: a comment (which SseItem cannot express) that puts the headers on the wire at once.</summary>
    private static readonly byte[] Subscribed = ": subscribed\n\n"u8.ToArray();

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
                return ApiJson.Unavailable(e.Message);
            }

            return Start(context, Changes(context, watch, aborted));
        })
        .Produces<KvChangeDto>(StatusCodes.Status200OK, "text/event-stream")
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        app.MapGet("/v1/stream", (RumorNode node, HttpContext context, string? kinds) =>
        {
            HashSet<string> wanted = new(Kinds, StringComparer.OrdinalIgnoreCase);
            if (!string.IsNullOrWhiteSpace(kinds))
            {
                wanted = new(kinds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.OrdinalIgnoreCase);
                if (wanted.FirstOrDefault(kind => !Kinds.Contains(kind, StringComparer.OrdinalIgnoreCase)) is { } unknown)
                {
                    return ApiJson.BadRequest($"kind '{unknown}' is not streamed: expected a comma-separated list of {string.Join(", ", Kinds)}.");
                }
            }

            RumorSubscription stream = node.OpenStream();
            DateTimeOffset epoch = node.TimeProvider.GetUtcNow() - node.Transport.Now;
            return Start(context, Everything(context, stream, wanted, epoch, node.TimeProvider, context.RequestAborted));
        })
        .Produces<StreamEvent>(StatusCodes.Status200OK, "text/event-stream")
        .ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    private static IResult Start<T>(HttpContext context, IAsyncEnumerable<SseItem<T>> items)
    {
        // Proxies such as nginx would otherwise hold the events back.
        context.Response.Headers["X-Accel-Buffering"] = "no";
        return TypedResults.ServerSentEvents(items);
    }

    private static async IAsyncEnumerable<SseItem<KvChangeDto>> Changes(HttpContext context, RumorSubscription watch, [EnumeratorCancellation] CancellationToken aborted)
    {
        await using (watch.ConfigureAwait(false))
        {
            await SubscribedAsync(context, aborted).ConfigureAwait(false);
            await foreach (GossipEvent gossipEvent in ReadUntilAbortedAsync(watch, aborted).ConfigureAwait(false))
            {
                yield return new SseItem<KvChangeDto>(((KeyChanged)gossipEvent).ToApi(), StreamEvent.ChangeType);
            }
        }
    }

    // One stream carries three shapes: each item's data is its own model, serialized with that
    // model's source-generated metadata (an SseItem<object> would need reflection to find it).
    private static async IAsyncEnumerable<SseItem<JsonElement>> Everything(HttpContext context, RumorSubscription stream, HashSet<string> wanted, DateTimeOffset epoch, TimeProvider time, [EnumeratorCancellation] CancellationToken aborted)
    {
        await using (stream.ConfigureAwait(false))
        {
            await SubscribedAsync(context, aborted).ConfigureAwait(false);
            await foreach (GossipEvent gossipEvent in ReadUntilAbortedAsync(stream, aborted).ConfigureAwait(false))
            {
                switch (gossipEvent)
                {
                    case MemberChanged changed when wanted.Contains("member"):
                        yield return new(JsonSerializer.SerializeToElement(changed.ToApi(epoch), RumorJsonContext.Default.MemberEventDto), StreamEvent.MemberType);
                        break;
                    case UserEventReceived received when wanted.Contains("event"):
                        yield return new(JsonSerializer.SerializeToElement(received.Event.ToApi(time.GetUtcNow()), RumorJsonContext.Default.EventDto), StreamEvent.UserType);
                        break;
                    case KeyChanged changed when wanted.Contains("kv"):
                        yield return new(JsonSerializer.SerializeToElement(changed.ToApi(), RumorJsonContext.Default.KvChangeDto), StreamEvent.KvType);
                        break;
                    default:
                        break;
                }
            }
        }
    }

    /// <summary>
    /// Sends the headers and the <c>: subscribed</c> comment before the first event: the subscription
    /// is registered by now, and a client waiting for the headers learns it at once rather than at
    /// the first change. Runs inside the result's execution, after it set the content type.
    /// </summary>
    private static async Task SubscribedAsync(HttpContext context, CancellationToken aborted)
    {
        try
        {
            await context.Response.Body.WriteAsync(Subscribed, aborted).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client went away; the enumeration ends at the next read.
        }
    }

    private static async IAsyncEnumerable<GossipEvent> ReadUntilAbortedAsync(RumorSubscription subscription, [EnumeratorCancellation] CancellationToken aborted)
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
}
