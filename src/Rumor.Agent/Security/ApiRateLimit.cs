using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rumor.Agent.Security;

/// <summary>
/// Request rate limiting (Microsoft.AspNetCore.RateLimiting's middleware, <see cref="ClientRateLimiter"/>'s buckets): one token bucket per client address
/// of <see cref="ApiSettings.EffectiveBurst"/> requests, refilled by
/// <see cref="ApiSettings.RequestsPerSecond"/> a second (in proportion to the time elapsed), no queueing. A refused request gets a
/// 429 problem with <c>Retry-After</c> (whole seconds until a token is back) and a log line.
/// It runs after the Host and Origin checks and before the token check, so guessing tokens is
/// rate limited too. A stream counts once, when it opens.
/// </summary>
internal static class ApiRateLimit
{
    public static void Add(IServiceCollection services, ApiSettings api)
    {
        if (api.RequestsPerSecond <= 0)
        {
            return;
        }

        services.AddRateLimiter(limiter =>
        {
            // Our own partitioned token bucket: the library's runs a 100 ms timer for its lifetime (ClientRateLimiter).
            limiter.GlobalLimiter = new ClientRateLimiter(api.EffectiveBurst, api.RequestsPerSecond, api.RatePeriod, TimeProvider.System);
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                HttpContext context = rejected.HttpContext;
                TimeSpan retry = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan after) ? after : api.RatePeriod;
                long seconds = Math.Max(1, (long)Math.Ceiling(retry.TotalSeconds));
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                ILogger logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(ApiLog.Category);
                ApiLog.RateLimited(logger, context.Request.Method, context.Request.Path.Value ?? "/", context.Connection.RemoteIpAddress?.ToString() ?? "?", api.RequestsPerSecond, api.EffectiveBurst);
                await ApiJson.Problem(
                    StatusCodes.Status429TooManyRequests,
                    "Too many requests",
                    $"This client sent more than {api.EffectiveBurst} requests at once or {api.RequestsPerSecond} a second (HttpRateLimit, HttpRateBurst); retry after {seconds} s.")
                    .ExecuteAsync(context).ConfigureAwait(false);
            };
        });
    }
}
