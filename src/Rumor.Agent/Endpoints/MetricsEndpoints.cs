using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Rumor.Hosting;

namespace Rumor.Agent.Endpoints;

/// <summary>
/// <c>GET /metrics</c>: the Rumor meter in the Prometheus text format (0.0.4, or OpenMetrics when
/// the scraper asks for it), written by OpenTelemetry's Prometheus exporter (see <see cref="AgentTelemetry"/>).
/// </summary>
internal static class MetricsEndpoints
{
    public static IEndpointRouteBuilder MapMetricsEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null, configureBranchedPipeline: branch => branch.Use(SampleFirstAsync), optionsName: null);
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
