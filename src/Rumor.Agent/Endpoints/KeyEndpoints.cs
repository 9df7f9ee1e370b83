using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Rumor.Client;
using Rumor.Hosting;

namespace Rumor.Agent.Endpoints;

/// <summary>
/// Live key rotation (docs/SECURITY.md "Rotating keys"): <c>GET /v1/keys</c> lists every member's
/// keys; <c>POST /v1/keys/install</c>, <c>/use</c> and <c>/remove</c> change every member's keyring.
/// Each is one cluster-wide query; the answer is 200 with each member's answer and the members that
/// did not answer (<c>succeeded</c> false when any refused or is missing), 400 for a malformed key,
/// 409 when this agent refuses before asking (encryption off or migrating, the primary key removed,
/// an uninstalled key made primary).
/// </summary>
internal static class KeyEndpoints
{
    private const long TimeoutMsMax = 60_000;

    public static IEndpointRouteBuilder MapKeyEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/keys", async (RumorNode node, long? timeoutMs, CancellationToken cancellationToken) =>
        {
            if (!TryTimeout(timeoutMs, out TimeSpan? timeout, out IResult? problem))
            {
                return problem!;
            }

            return await RunAsync(() => node.ListKeysAsync(timeout, cancellationToken)).ConfigureAwait(false);
        })
        .Produces<KeysResponse>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);

        app.MapPost("/v1/keys/{operation}", async (RumorNode node, string operation, HttpRequest request, CancellationToken cancellationToken) =>
        {
            Func<string, TimeSpan?, CancellationToken, Task<KeyOperationReport>>? change = operation switch
            {
                "install" => node.InstallKeyAsync,
                "use" => node.UseKeyAsync,
                "remove" => node.RemoveKeyAsync,
                _ => null,
            };
            if (change is null)
            {
                return ApiJson.NotFound($"No key operation '{operation}': use install, use or remove.");
            }

            (KeyRequest? body, IResult? problem) = await ApiJson.ReadBodyAsync<KeyRequest>(request).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            if (string.IsNullOrWhiteSpace(body!.Key))
            {
                return ApiJson.BadRequest("key is missing: give the key as base64, for example {\"key\":\"<rumor keygen>\"}.");
            }

            if (!TryTimeout(body.TimeoutMs, out TimeSpan? timeout, out IResult? timeoutProblem))
            {
                return timeoutProblem!;
            }

            return await RunAsync(() => change(body.Key, timeout, cancellationToken)).ConfigureAwait(false);
        })
        .Accepts<KeyRequest>("application/json").Produces<KeysResponse>()
        .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    private static bool TryTimeout(long? timeoutMs, out TimeSpan? timeout, out IResult? problem)
    {
        timeout = null;
        problem = null;
        if (timeoutMs is { } ms)
        {
            if (ms is <= 0 or > TimeoutMsMax)
            {
                problem = ApiJson.BadRequest($"timeoutMs is {ms}; it must be from 1 to {TimeoutMsMax}.");
                return false;
            }

            timeout = TimeSpan.FromMilliseconds(ms);
        }

        return true;
    }

    private static async Task<IResult> RunAsync(Func<Task<KeyOperationReport>> operation)
    {
        try
        {
            KeyOperationReport report = await operation().ConfigureAwait(false);
            return ApiJson.Json(ToApi(report), ApiJson.Options);
        }
        catch (ArgumentException e)
        {
            return ApiJson.BadRequest(e);
        }
        catch (InvalidOperationException e)
        {
            return ApiJson.Problem(StatusCodes.Status409Conflict, "Conflict", e.Message);
        }
    }

    private static KeysResponse ToApi(KeyOperationReport report) => new(
        report.Operation,
        report.Expected,
        [.. report.Answers.Select(a => new KeyAnswerDto(a.Member, a.Ok, a.Error, a.RingVersion, a.Keys.Count == 0 ? null : a.Keys))],
        report.Missing,
        [.. report.Keys.Select(k => new KeyHoldingDto(k.Key, k.Members, k.PrimaryOn))],
        report.Succeeded);
}
