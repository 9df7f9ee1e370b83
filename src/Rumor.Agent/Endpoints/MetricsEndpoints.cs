using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Rumor.Hosting;

namespace Rumor.Agent.Endpoints;

/// <summary><c>GET /metrics</c>: the Rumor meter in Prometheus text format 0.0.4.</summary>
internal static class MetricsEndpoints
{
    public static IEndpointRouteBuilder MapMetricsEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/metrics", async (RumorNode node, PrometheusExporter exporter, CancellationToken cancellationToken) =>
        {
            // A fresh sample, so a scrape sees the node as it is now rather than up to one SampleInterval ago.
            await node.SampleAsync(cancellationToken).ConfigureAwait(false);
            return Results.Text(exporter.Collect(), "text/plain; version=0.0.4; charset=utf-8");
        })
        .Produces<string>(StatusCodes.Status200OK, "text/plain");
        return app;
    }
}
