using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Rumor.Client;
using Rumor.Core.Coordinates;
using Rumor.Hosting;

namespace Rumor.Agent.Endpoints;

/// <summary><c>GET /v1/coordinates</c> in Rumor mode: the same answer as in Serf mode (<see cref="NodeCoordinateDto"/>), from the kernel's coordinates.</summary>
internal static class CoordinateEndpoints
{
    public static IEndpointRouteBuilder MapCoordinateEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/coordinates", async (RumorNode node, CancellationToken cancellationToken) =>
        {
            IReadOnlyDictionary<string, NetworkCoordinate>? all = await node.GetCoordinatesAsync(cancellationToken).ConfigureAwait(false);
            if (all is null)
            {
                return ApiJson.NotFound($"{node.Name} keeps no network coordinates: NetworkCoordinates is off in its configuration.");
            }

            return ApiJson.Json(
                all.OrderBy(c => c.Key, StringComparer.Ordinal)
                    .Select(c => new NodeCoordinateDto(c.Key, new CoordinateDto([.. c.Value.Vec], c.Value.Error, c.Value.Adjustment, c.Value.Height), c.Key == node.Name))
                    .ToArray(),
                ApiJson.Options);
        })
        .Produces<NodeCoordinateDto[]>().ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }
}
