using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Rumor.Client;
using Rumor.Core;
using Rumor.Core.AntiEntropy;
using Rumor.Hosting;

namespace Rumor.Agent.Endpoints;

/// <summary>Key-value state: <c>GET /v1/kv</c>, <c>GET|PUT|DELETE /v1/kv/{key}</c> (the watch is in <see cref="StreamEndpoints"/>).</summary>
internal static class KvEndpoints
{
    public static IEndpointRouteBuilder MapKvEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/kv", async (RumorNode node, string? prefix, string? owner, CancellationToken cancellationToken) =>
        {
            IReadOnlyList<KeyValueEntry> entries = await node.ListAsync(prefix ?? string.Empty, NullIfEmpty(owner), cancellationToken).ConfigureAwait(false);
            return ApiJson.Json(entries.Select(ApiMapping.ToApi).ToArray(), ApiJson.Options);
        })
        .Produces<KvEntryDto[]>();

        app.MapGet("/v1/kv/{**key}", async (RumorNode node, string key, string? owner, CancellationToken cancellationToken) =>
        {
            IReadOnlyList<KeyValueEntry> entries = await node.GetAsync(key, NullIfEmpty(owner), cancellationToken).ConfigureAwait(false);
            if (entries.Count == 0)
            {
                return ApiJson.NotFound(owner is { Length: > 0 } ? $"Member '{owner}' has no key '{key}'." : $"No member has a key '{key}'.");
            }

            return ApiJson.Json(entries.Select(ApiMapping.ToApi).ToArray(), ApiJson.Options);
        })
        .Produces<KvEntryDto[]>().ProducesProblem(StatusCodes.Status404NotFound);

        app.MapPut("/v1/kv/{**key}", async (RumorNode node, string key, HttpRequest request, CancellationToken cancellationToken) =>
        {
            (KvPutRequest? body, IResult? problem) = await ApiJson.ReadBodyAsync<KvPutRequest>(request).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            if (!ApiJson.TryBytes(body!.Value, body.ValueBase64, "value", required: true, out byte[] value, out IResult? valueProblem))
            {
                return valueProblem!;
            }

            TimeSpan? ttl = null;
            if (body.TtlMs is { } ms)
            {
                if (ms <= 0 || ms > StateLimits.TimeToLiveMaxMilliseconds)
                {
                    return ApiJson.BadRequest($"ttlMs is {ms}; a time to live is positive and at most {StateLimits.TimeToLiveMaxMilliseconds} ms ({StateLimits.TimeToLiveMaxText}).");
                }

                ttl = TimeSpan.FromMilliseconds(ms);
            }

            try
            {
                ulong version = await node.SetAsync(key, value, ttl, cancellationToken).ConfigureAwait(false);
                return ApiJson.Json(new KvWriteResponse(node.Name, key, version), ApiJson.Options);
            }
            catch (ArgumentException e)
            {
                return ApiJson.BadRequest(e);
            }
        })
        .Accepts<KvPutRequest>("application/json").Produces<KvWriteResponse>().ProducesProblem(StatusCodes.Status400BadRequest);

        app.MapDelete("/v1/kv/{**key}", async (RumorNode node, string key, CancellationToken cancellationToken) =>
        {
            try
            {
                ulong version = await node.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
                return version == 0
                    ? ApiJson.NotFound($"{node.Name} owns no key '{key}' (only a key's owner can delete it).")
                    : ApiJson.Json(new KvWriteResponse(node.Name, key, version), ApiJson.Options);
            }
            catch (ArgumentException e)
            {
                return ApiJson.BadRequest(e);
            }
        })
        .Produces<KvWriteResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;
}
