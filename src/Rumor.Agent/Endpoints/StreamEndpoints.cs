using System.Text.Json;
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
/// subscriber in events and bytes, with a <c>dropped</c> event telling the reader what it lost);
/// each <c>/v1/kv/watch</c> (bounded in number by WatchesMax) has a queue bounded the same way
/// (<see cref="StreamHub.CreateWatchQueue"/>), fed by a pump that serializes each change once.
/// </summary>
internal static class StreamEndpoints
{
    private static readonly string[] Kinds = ["member", "event", "kv"];

    /// <summary>The first bytes of every stream: a comment (which SseItem cannot express) that puts the headers on the wire at once.</summary>
    private static readonly byte[] Subscribed = ": subscribed\n\n"u8.ToArray();

    public static IEndpointRouteBuilder MapStreamEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/kv/watch", async (RumorNode node, StreamHub hub, HttpContext context, string? prefix) =>
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

            // The watch's changes are serialized as they come into a queue bounded in events and
            // bytes (a slow reader loses the oldest and is told, as on /v1/stream); only this
            // request waits on the client's socket.
            await using (watch.ConfigureAwait(false))
            {
                using StreamSubscriber queue = hub.CreateWatchQueue(Client(context));
                using CancellationTokenSource done = CancellationTokenSource.CreateLinkedTokenSource(aborted);
                Task pump = PumpWatchAsync(watch, queue, done.Token);
                await WriteAsync(context, queue).ConfigureAwait(false);
                await done.CancelAsync().ConfigureAwait(false);
                await pump.ConfigureAwait(false);
            }

            return Results.Empty;
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

            StreamSubscriber? subscriber = hub.TrySubscribe(wanted, Client(context));
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

    private static string Client(HttpContext context) =>
        context.Connection.RemoteIpAddress + ":" + context.Connection.RemotePort.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Moves a watch's changes into its bounded queue as server-sent <c>change</c> frames until the
    /// client goes (<paramref name="stop"/>) or the node stops (then the stream ends after what is queued).
    /// </summary>
    private static async Task PumpWatchAsync(RumorSubscription watch, StreamSubscriber queue, CancellationToken stop)
    {
        try
        {
            await foreach (GossipEvent gossipEvent in watch.ReadAllAsync(stop).ConfigureAwait(false))
            {
                queue.Offer(StreamItem.Create(StreamEvent.ChangeType, JsonSerializer.SerializeToUtf8Bytes(((KeyChanged)gossipEvent).ToApi(), RumorJsonContext.Default.KvChangeDto)));
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
        finally
        {
            queue.Complete();
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
}
