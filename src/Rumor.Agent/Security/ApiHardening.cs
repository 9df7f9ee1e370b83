using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rumor.Agent.Security;

/// <summary>
/// The API's protections in two calls, shared by both agents (Rumor's and the Serf-mode agent), so
/// neither dialect serves an open API: <see cref="Listen"/> before the app is built (the loopback
/// rule without a token, TLS, the body bound, the rate limiter) and <see cref="UseGuards"/> after
/// (Host/Origin, rate limit, token and content-type checks; see <see cref="ApiGuard"/>).
/// </summary>
internal static class ApiHardening
{
    /// <summary>Refuses a non-loopback address without a token, and configures Kestrel (TLS, body bound and rate) and the rate limiter.</summary>
    public static void Listen(WebApplicationBuilder builder, AgentSettings settings)
    {
        ApiSettings api = settings.Api;
        IPAddress httpAddress = settings.Http.ToIPAddress();
        if (!IPAddress.IsLoopback(httpAddress) && !api.RequiresToken)
        {
            throw new AgentConfigurationException($"Http {settings.Http} is not a loopback address, and no token is set: the API would let anyone who reaches it run the node. Set a token (Token or TokenFile; RUMOR_TOKEN) or listen on 127.0.0.1.");
        }

        X509Certificate2? certificate = api.TlsCertificateFile is null ? null : ApiTls.Load(api);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = api.BodyMaxBytes;
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(ApiSettings.BodyMinBytesPerSecond, TimeSpan.FromSeconds(api.BodyGraceSeconds));
            kestrel.Listen(new IPEndPoint(httpAddress, settings.Http.Port), listen =>
            {
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
        });
        builder.Services.AddSingleton(api);
        ApiRateLimit.Add(builder.Services, api);
    }

    /// <summary>Adds the Host/Origin check, the rate limiter and the token check, in that order; returns the guard (its tokens can be replaced later).</summary>
    public static ApiGuard UseGuards(WebApplication app, AgentSettings settings)
    {
        ApiGuard guard = new(settings.Api, settings.Http, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(ApiLog.Category));
        app.Use(guard.CheckOriginAsync);
        if (settings.Api.RequestsPerSecond > 0)
        {
            ApiRateLimit.Use(app, settings.Api);
        }

        app.Use(guard.AuthorizeAsync);
        return guard;
    }
}
