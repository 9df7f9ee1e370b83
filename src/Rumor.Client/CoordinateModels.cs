namespace Rumor.Client;

/// <summary>A Vivaldi network coordinate as Serf keeps it; every quantity in seconds.</summary>
/// <param name="Vec">The Euclidean part (8 dimensions in Serf).</param>
/// <param name="Error">The node's own estimate of how wrong the coordinate is (relative; 1.5 = knows nothing yet).</param>
/// <param name="Adjustment">A correction added to distances from the node.</param>
/// <param name="Height">The access-link delay every path to the node pays.</param>
public sealed record CoordinateDto(IReadOnlyList<double> Vec, double Error, double Adjustment, double Height);

/// <summary>One member's last known coordinate (<c>GET /v1/coordinates</c>).</summary>
/// <param name="Node">The member.</param>
/// <param name="Coordinate">Its coordinate.</param>
/// <param name="IsLocal">True for the agent's own node.</param>
public sealed record NodeCoordinateDto(string Node, CoordinateDto Coordinate, bool IsLocal);

/// <summary>What <c>rumor rtt --json</c> prints: the round trip estimated from two members' coordinates.</summary>
/// <param name="From">The first member.</param>
/// <param name="To">The second member.</param>
/// <param name="RttMs">The estimate, milliseconds.</param>
public sealed record RttEstimateDto(string From, string To, double RttMs);
