using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Rumor.Client;
using Rumor.Core;
using Rumor.Hosting;

namespace Rumor.Agent.Endpoints;

/// <summary>
/// The lifecycle of cluster aggregates: <c>POST /v1/aggregates</c> starts one with a lifetime,
/// <c>GET /v1/aggregates</c> lists them, <c>GET /v1/aggregates/{key}</c> reads one (and never
/// starts cluster-wide work), <c>DELETE /v1/aggregates/{key}</c> stops one cluster-wide.
/// </summary>
internal static class AggregateEndpoints
{
    /// <summary>The lifetime of an aggregate whose start names none.</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromMinutes(10);

    /// <summary>The longest lifetime a start may ask for: an aggregate nobody reads should not run for days.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(1);

    public static IEndpointRouteBuilder MapAggregateEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/aggregates", async (RumorNode node, HttpRequest request, CancellationToken cancellationToken) =>
        {
            (AggregateStartRequest? body, IResult? problem) = await ApiJson.ReadBodyAsync<AggregateStartRequest>(request).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            if (string.IsNullOrEmpty(body!.Key))
            {
                return ApiJson.BadRequest("key is missing: an aggregate needs the numeric key to aggregate, for example {\"key\":\"load\",\"function\":\"average\",\"lifetimeMs\":600000}.");
            }

            AggregateFunction function = AggregateFunction.Average;
            if (body.Function is { } name && !ApiMapping.TryParseFunction(name, out function))
            {
                return ApiJson.BadRequest($"function is '{name}'; it must be one of average, sum, count, min, max.");
            }

            TimeSpan lifetime = DefaultLifetime;
            if (body.LifetimeMs is { } ms)
            {
                if (ms <= 0 || ms > (long)MaxLifetime.TotalMilliseconds)
                {
                    return ApiJson.BadRequest($"lifetimeMs is {ms}; an aggregate runs between 1 and {(long)MaxLifetime.TotalMilliseconds} ms (1 day).");
                }

                lifetime = TimeSpan.FromMilliseconds(ms);
            }

            try
            {
                (bool started, AggregateReading reading) = await node.StartAggregateAsync(body.Key, function, lifetime, cancellationToken).ConfigureAwait(false);
                AggregateDto answer = reading.ToApi();
                return started
                    ? ApiJson.Json(answer, ApiJson.Options, statusCode: StatusCodes.Status201Created)
                    : ApiJson.Json(answer, ApiJson.Options);
            }
            catch (ArgumentException e)
            {
                return ApiJson.BadRequest(e);
            }
        })
        .Accepts<AggregateStartRequest>("application/json").Produces<AggregateDto>(StatusCodes.Status201Created).Produces<AggregateDto>()
        .ProducesProblem(StatusCodes.Status400BadRequest);

        app.MapGet("/v1/aggregates", async (RumorNode node, CancellationToken cancellationToken) =>
            ApiJson.Json((await node.ListAggregatesAsync(cancellationToken).ConfigureAwait(false)).Select(ApiMapping.ToApi).ToArray(), ApiJson.Options))
            .Produces<AggregateDto[]>();

        app.MapGet("/v1/aggregates/{**key}", async (RumorNode node, string key, CancellationToken cancellationToken) =>
            await node.GetAggregateAsync(key, cancellationToken).ConfigureAwait(false) is { } reading
                ? ApiJson.Json(reading.ToApi(), ApiJson.Options)
                : NotRunning(key))
            .Produces<AggregateDto>().ProducesProblem(StatusCodes.Status404NotFound);

        app.MapDelete("/v1/aggregates/{**key}", async (RumorNode node, string key, CancellationToken cancellationToken) =>
            await node.StopAggregateAsync(key, cancellationToken).ConfigureAwait(false)
                ? ApiJson.Json(new AggregateStoppedDto(key, true), ApiJson.Options)
                : NotRunning(key))
            .Produces<AggregateStoppedDto>().ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static IResult NotRunning(string key) =>
        ApiJson.NotFound($"No aggregate of '{key}' runs at this member (never started, stopped, or past its lifetime). Start one with POST /v1/aggregates {{\"key\":\"{key}\"}} or 'rumor aggregate start {key}'.");
}
