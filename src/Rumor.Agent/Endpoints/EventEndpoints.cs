using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Rumor.Client;
using Rumor.Core.Events;
using Rumor.Hosting;

namespace Rumor.Agent.Endpoints;

/// <summary>
/// User events, queries and aggregates: <c>POST /v1/events</c>, <c>GET /v1/events</c>,
/// <c>POST /v1/query</c>; the aggregates are <see cref="AggregateEndpoints"/>.
/// The event stream itself is part of <c>GET /v1/stream</c> (<see cref="StreamEndpoints"/>).
/// </summary>
internal static class EventEndpoints
{
    /// <summary>The wait of a query when the request names none (Serf's default is similar).</summary>
    private static readonly TimeSpan DefaultQueryTimeout = TimeSpan.FromSeconds(2);

    public static IEndpointRouteBuilder MapEventEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/events", async (RumorNode node, HttpRequest request, CancellationToken cancellationToken) =>
        {
            (EventSendRequest? body, IResult? problem) = await ApiJson.ReadBodyAsync<EventSendRequest>(request).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            if (string.IsNullOrEmpty(body!.Name))
            {
                return ApiJson.BadRequest("name is missing: an event needs a name, for example {\"name\":\"deploy\",\"payload\":\"v42\"}.");
            }

            if (!ApiJson.TryBytes(body.Payload, body.PayloadBase64, "payload", required: false, out byte[] payload, out IResult? payloadProblem))
            {
                return payloadProblem!;
            }

            try
            {
                UserEvent sent = await node.SendEventAsync(body.Name, payload, body.Coalesce ?? false, cancellationToken).ConfigureAwait(false);
                return ApiJson.Json(new EventSentDto(ApiMapping.IdText(sent.Id), sent.Name, sent.LamportTime), ApiJson.Options);
            }
            catch (ArgumentException e)
            {
                return ApiJson.BadRequest(e);
            }
        })
        .Accepts<EventSendRequest>("application/json").Produces<EventSentDto>().ProducesProblem(StatusCodes.Status400BadRequest);

        app.MapGet("/v1/events", (RumorNode node, int? limit) =>
        {
            int wanted = limit ?? 100;
            if (wanted is <= 0 or > RumorNode.RecentEventsMax)
            {
                return ApiJson.BadRequest($"limit is {wanted}; it must be between 1 and {RumorNode.RecentEventsMax}.");
            }

            return ApiJson.Json(node.GetRecentEvents(wanted).Select(ApiMapping.ToApi).ToArray(), ApiJson.Options);
        })
        .Produces<EventDto[]>().ProducesProblem(StatusCodes.Status400BadRequest);

        app.MapPost("/v1/query", async (RumorNode node, HttpRequest request, CancellationToken cancellationToken) =>
        {
            (QueryPostRequest? body, IResult? problem) = await ApiJson.ReadBodyAsync<QueryPostRequest>(request).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            if (string.IsNullOrEmpty(body!.Name))
            {
                return ApiJson.BadRequest("name is missing: a query needs a name, for example {\"name\":\"rumor.ping\"}.");
            }

            if (!ApiJson.TryBytes(body.Payload, body.PayloadBase64, "payload", required: false, out byte[] payload, out IResult? payloadProblem))
            {
                return payloadProblem!;
            }

            if (body.Nodes is { Count: > 0 } || body.RelayFactor is > 0)
            {
                return ApiJson.BadRequest("nodes and relayFactor are Serf's query options (serf query -node, -relay-factor): only an agent running --protocol serf honours them; a Rumor-mode query selects members by tags (filter).");
            }

            TimeSpan timeout = DefaultQueryTimeout;
            if (body.TimeoutMs is { } ms)
            {
                if (ms <= 0)
                {
                    return ApiJson.BadRequest($"timeoutMs is {ms}; a query waits a positive time.");
                }

                timeout = TimeSpan.FromMilliseconds(Math.Min(ms, (long)TimeSpan.FromDays(1).TotalMilliseconds));
            }

            try
            {
                QueryResult result = await node.QueryAsync(body.Name, payload, body.Filter, timeout, cancellationToken).ConfigureAwait(false);
                return ApiJson.Json(result.ToApi(node.Name), ApiJson.Options);
            }
            catch (ArgumentException e)
            {
                return ApiJson.BadRequest(e);
            }
        })
        .Accepts<QueryPostRequest>("application/json").Produces<QueryResultDto>().ProducesProblem(StatusCodes.Status400BadRequest);
        app.MapAggregateEndpoints();
        return app;
    }
}
