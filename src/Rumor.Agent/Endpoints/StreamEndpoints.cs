using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Rumor.Agent.Security;
using Rumor.Agent.Streams;
using Rumor.Client;
using Rumor.Core;
using Rumor.Hosting;

namespace Rumor.Agent.Endpoints;

/// <summary>
/// Server-sent events: <c>GET /v1/kv/watch</c> (key changes under a prefix) and <c>GET /v1/stream</c>
/// (member changes, user events and key changes), written by <c>TypedResults.ServerSentEvents</c>.
/// Each subscription is registered before the response starts, and the response starts with a
/// <c>: subscribed</c> comment, so a client that has seen the headers misses nothing afterwards.
/// A client that reads too slowly loses the oldest events (bounded queue), never slows the node:
/// <c>/v1/stream</c> goes through <see cref="StreamHub"/> (bounded in subscribers, and per
/// subscriber in events and bytes, with a <c>dropped</c> event telling the reader what it lost).
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
            catch (InvalidOperationException e) when (ApiLimits.OptionOf(e) is { } option)
            {
                return ApiLimits.Reached(context, option, null, e.Message);
            }

            return Start(context, Changes(context, watch, aborted));
        })
        .Produces<KvChangeDto>(StatusCodes.Status200OK, "text/event-stream")
        .ProducesProblem(StatusCodes.Status429TooManyRequests);

        app.MapGet("/v1/stream", async (StreamHub hub, HttpContext context, string? kinds) =>
        {
            StreamKinds wanted = StreamKinds.All;
            if (!string.IsNullOrWhiteSpace(kinds))
            {
                wanted = StreamKinds.None;
                foreach (string kind in kinds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    int index = Array.FindIndex(Kinds, k => k.Equals(kind, StringComparison.OrdinalIgnoreCase));
                    if (index < 0)
                    {
                        return ApiJson.BadRequest($"kind '{kind}' is not streamed: expected a comma-separated list of {string.Join(", ", Kinds)}.");
                    }

                    wanted |= (StreamKinds)(1 << index);
                }
            }

            string client = context.Connection.RemoteIpAddress + ":" + context.Connection.RemotePort.ToString(System.Globalization.CultureInfo.InvariantCulture);
            StreamSubscriber? subscriber = hub.TrySubscribe(wanted, client);
            if (subscriber is null)
            {
                return ApiLimits.Reached(context, "StreamSubscribersMax", hub.Max, $"{hub.Max} clients are subscribed to /v1/stream, the most StreamSubscribersMax allows; try again when one has gone, or raise StreamSubscribersMax.");
            }

            using (subscriber)
            {
                await WriteAsync(context, subscriber).ConfigureAwait(false);
            }

            return Results.Empty;
        })
        .Produces<StreamEvent>(StatusCodes.Status200OK, "text/event-stream")
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesProblem(StatusCodes.Status429TooManyRequests);
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

    /// <summary>
    /// Writes one subscriber's frames until the client goes (the subscriber is then disposed by
    /// the caller, releasing its queue at once) or the node stops. Only this request waits on the
    /// client's socket; the hub only ever queues.
    /// </summary>
    private static async Task WriteAsync(HttpContext context, StreamSubscriber subscriber)
    {
        CancellationToken aborted = context.RequestAborted;
        HttpResponse response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache,no-store";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            await response.Body.WriteAsync(Subscribed, aborted).ConfigureAwait(false);
            await response.Body.FlushAsync(aborted).ConfigureAwait(false);
            while (await subscriber.ReadAsync(aborted).ConfigureAwait(false) is { } frame)
            {
                await response.Body.WriteAsync(frame, aborted).ConfigureAwait(false);
                if (subscriber.Queued == 0)
                {
                    await response.Body.FlushAsync(aborted).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client went away.
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
