using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Rumor.Hosting;

namespace Rumor.Agent.Endpoints;

/// <summary>
/// <c>GET /metrics</c>: the Rumor meter in the Prometheus text format (0.0.4, or OpenMetrics when
/// the scraper asks for it), written by OpenTelemetry's Prometheus exporter (see <see cref="AgentTelemetry"/>), built at the first scrape (<see cref="PrometheusScrape"/>).
/// </summary>
internal static class MetricsEndpoints
{
    public static IEndpointRouteBuilder MapMetricsEndpoints(this IEndpointRouteBuilder app)
    {
        // A branch of its own, as MapPrometheusScrapingEndpoint maps it, but the exporter is
        // PrometheusScrape's, built at the first scrape: that method would build the meter provider
        // when the endpoint is mapped, at start.
        IApplicationBuilder branch = app.CreateApplicationBuilder();
        branch.Use(SampleFirstAsync);
        branch.Run(context => context.RequestServices.GetRequiredService<PrometheusScrape>().InvokeAsync(context));
        app.Map("/metrics", branch.Build());
        return app;
    }

    /// <summary>A fresh sample before the exporter reads the meter, so a scrape sees the node as it is now rather than up to one SampleInterval ago.</summary>
    private static async Task SampleFirstAsync(HttpContext context, RequestDelegate next)
    {
        RumorNode node = context.RequestServices.GetRequiredService<RumorNode>();
        if (node.IsRunning)
        {
            try
            {
                await node.SampleAsync(context.RequestAborted).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // Stopped meanwhile: the exporter serves the last sample.
            }
        }

        await next(context).ConfigureAwait(false);
    }
}
