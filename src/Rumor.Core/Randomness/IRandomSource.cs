namespace Rumor.Core.Randomness;

/// <summary>
/// The only source of randomness the core may use. Injected and seeded, so that one seed replays a
/// whole simulated run; implementations must give the same sequence on every .NET version and
/// platform (which <c>System.Random</c> does not promise).
/// </summary>
public interface IRandomSource
{
    /// <summary>A uniformly distributed 64-bit value.</summary>
    ulong NextUInt64();

    /// <summary>A uniform integer in [0, maxExclusive); maxExclusive must be positive.</summary>
    int NextInt(int maxExclusive);

    /// <summary>A uniform double in [0, 1).</summary>
    double NextDouble();
}
