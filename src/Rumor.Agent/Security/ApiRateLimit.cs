using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rumor.Agent.Security;

/// <summary>
/// Request rate limiting with <see cref="ClientRateLimiter"/>'s buckets: one token bucket per client
/// address of <see cref="ApiSettings.EffectiveBurst"/> requests, refilled by
/// <see cref="ApiSettings.RequestsPerSecond"/> a second (in proportion to the time elapsed), no
/// queueing. A refused request gets a 429 problem with <c>Retry-After</c> (whole seconds until a
/// token is back) and a log line. It runs after the Host and Origin checks and before the token
/// check, so guessing tokens is rate limited too. A stream counts once, when it opens.
/// <para>
/// A small middleware of our own rather than Microsoft.AspNetCore.RateLimiting's
/// <c>UseRateLimiter</c>: that middleware always builds a partitioned limiter for endpoint
/// policies, whose 100 ms timer runs for the agent's lifetime even with only a global limiter and
/// no policy, and was ~105 of an idle agent's ~116 wake-ups a second (docs/BENCHMARKS.md, "Agent
/// footprint").
/// </para>
/// </summary>
internal static class ApiRateLimit
{
    public static void Add(IServiceCollection services, ApiSettings api)
    {
        if (api.RequestsPerSecond > 0)
        {
            services.AddSingleton(new ClientRateLimiter(api.EffectiveBurst, api.RequestsPerSecond, api.RatePeriod, TimeProvider.System));
        }
    }

    /// <summary>Adds the limiter to the pipeline (only when <see cref="Add"/> registered one).</summary>
    public static void Use(WebApplication app, ApiSettings api)
    {
        ClientRateLimiter limiter = app.Services.GetRequiredService<ClientRateLimiter>();
        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(ApiLog.Category);
        app.Use(async (context, next) =>
        {
            using RateLimitLease lease = limiter.AttemptAcquire(context);
            if (lease.IsAcquired)
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            TimeSpan retry = lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan after) ? after : api.RatePeriod;
            long seconds = Math.Max(1, (long)Math.Ceiling(retry.TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            ApiLog.RateLimited(logger, context.Request.Method, context.Request.Path.Value ?? "/", context.Connection.RemoteIpAddress?.ToString() ?? "?", api.RequestsPerSecond, api.EffectiveBurst);
            await ApiJson.Problem(
                StatusCodes.Status429TooManyRequests,
                "Too many requests",
                $"This client sent more than {api.EffectiveBurst} requests at once or {api.RequestsPerSecond} a second (HttpRateLimit, HttpRateBurst); retry after {seconds} s.")
                .ExecuteAsync(context).ConfigureAwait(false);
        });
    }
}
