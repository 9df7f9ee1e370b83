using Rumor.Core.Coordinates;

namespace Rumor.Hosting;

public sealed partial class RumorNode
{
    /// <summary>
    /// The latest network coordinate of every member this node has one for (its own included), by
    /// name; null when the node keeps none (<see cref="Rumor.Core.GossipOptions.NetworkCoordinates"/> off).
    /// Coordinates are immutable, so the result is a safe copy.
    /// </summary>
    public Task<IReadOnlyDictionary<string, NetworkCoordinate>?> GetCoordinatesAsync(CancellationToken cancellationToken = default) =>
        Transport.InvokeAsync<IReadOnlyDictionary<string, NetworkCoordinate>?>(
            node => node.Options.NetworkCoordinates ? node.Coordinates : null,
            cancellationToken);
}
