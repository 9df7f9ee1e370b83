using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rumor.Hosting;

namespace Rumor.Agent.Security;

/// <summary>
/// Every bound the API can hit answers the same way: 429 with <c>Retry-After</c> and a problem
/// document whose detail says what was reached and whose <c>option</c> member names the option that
/// sets it, and one warning in the log (event 2000). 429, not 503: the node is healthy and serving;
/// the caller asked for more at once than a bound admits and may try again shortly (a load balancer
/// or a health check must not read a full query table as an unavailable node). The node's own bounds (QueriesMax, AggregatesMax, WatchesMax) arrive as
/// <see cref="InvalidOperationException"/>s whose message names the option; <see cref="OptionOf"/>
/// recognises them (the middleware in <see cref="RumorAgent"/> turns them into this answer, so an
/// endpoint added later is covered too).
/// </summary>
internal static class ApiLimits
{
    /// <summary>The node's options whose refusals are limits, not faults.</summary>
    private static readonly string[] NodeOptions = ["QueriesMax", "AggregatesMax", "WatchesMax"];

    /// <summary>The option a refusal of the node names, or null when <paramref name="e"/> is not a limit.</summary>
    public static string? OptionOf(Exception e) =>
        e is InvalidOperationException and not RumorNodeNotRunningException and not ObjectDisposedException
            ? Array.Find(NodeOptions, option => e.Message.Contains(option, StringComparison.Ordinal))
            : null;

    /// <summary>The answer to a request that hit <paramref name="option"/> (logged here).</summary>
    public static IResult Reached(HttpContext context, string option, int? limit, string detail)
    {
        ILogger logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(ApiLog.Category);
        ApiLog.LimitReached(logger, context.Request.Method, context.Request.Path.Value ?? "/", option, detail);
        context.Response.Headers.RetryAfter = "1";
        Dictionary<string, object?> extensions = new(StringComparer.Ordinal) { ["option"] = option };
        if (limit is { } max)
        {
            extensions["limit"] = max;
        }

        return Results.Problem(
            detail: detail,
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Limit reached",
            type: "https://rumor.dev/problems/limit-reached",
            extensions: extensions);
    }
}
