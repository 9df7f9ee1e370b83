namespace Rumor.Core.Coordinates;

/// <summary>
/// The tuning of Serf's Vivaldi client (hashicorp/serf <c>coordinate.DefaultConfig</c>). The
/// defaults are Serf's; a coordinate of another dimensionality is refused by Serf agents, so change
/// them only in tests.
/// </summary>
public sealed class VivaldiOptions
{
    /// <summary>Serf's defaults: 8 dimensions, error max 1.5, ce = cc = 0.25, a 20-sample adjustment window, height min 10 µs, a 3-sample latency filter, gravity rho 150.</summary>
    public static readonly VivaldiOptions Default = new();

    /// <summary>Dimensions of the Euclidean part (Serf: 8).</summary>
    public int Dimensionality { get; init; } = 8;

    /// <summary>The error a new coordinate starts with and the cap on error (Serf: 1.5).</summary>
    public double ErrorMax { get; init; } = 1.5;

    /// <summary>How fast the error estimate follows observed wrongness (Vivaldi's c_e; Serf: 0.25).</summary>
    public double ErrorGain { get; init; } = 0.25;

    /// <summary>How far one observation moves the coordinate (Vivaldi's c_c; Serf: 0.25).</summary>
    public double CoordinateGain { get; init; } = 0.25;

    /// <summary>Samples averaged into the adjustment term, which absorbs what the Euclidean model cannot (Serf: 20; 0 disables it).</summary>
    public int AdjustmentWindowSize { get; init; } = 20;

    /// <summary>The smallest height, in seconds (Serf: 10 µs).</summary>
    public double HeightMinSeconds { get; init; } = 10.0e-6;

    /// <summary>Per-peer RTT samples whose median feeds the update, so one outlier is never seen (Serf: 3).</summary>
    public int LatencyFilterSize { get; init; } = 3;

    /// <summary>Gravity's rho, in seconds: a weak pull towards the origin keeps the whole cloud from drifting (Serf: 150).</summary>
    public double GravityRhoSeconds { get; init; } = 150.0;
}
