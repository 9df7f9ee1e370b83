using System.Globalization;
using Rumor.Core;

namespace Rumor.Simulation.Tests;

/// <summary>
/// Helpers shared by the simulation tests: the seed (overridable with RUMOR_SIM_SEED to replay a
/// failure), cluster construction, and assertions whose failure message carries the seed, the
/// replay command and the last trace records.
/// </summary>
internal static class Sim
{
    /// <summary>Fast LAN-like timings used by most tests (memberlist LAN defaults).</summary>
    public static GossipOptions Lan => GossipOptions.Lan;

    public static ulong SeedOr(ulong defaultSeed)
    {
        string? text = Environment.GetEnvironmentVariable("RUMOR_SIM_SEED");
        return text is not null && ulong.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong seed) ? seed : defaultSeed;
    }

    public static SimCluster Cluster(ulong seed, int nodes, GossipOptions? gossip = null, NetworkOptions? network = null)
    {
        SimCluster cluster = new(new SimulationOptions
        {
            Seed = SeedOr(seed),
            Gossip = gossip ?? Lan,
            Network = network ?? new NetworkOptions(),
        });
        cluster.AddNodes(nodes);
        return cluster;
    }

    /// <summary>
    /// Runs until the membership agrees, failing with the seed if it does not within <paramref name="bound"/>;
    /// returns the virtual time it took, at the resolution of <paramref name="checkEvery"/> (RunUntil's default when null).
    /// </summary>
    public static TimeSpan Converge(SimCluster cluster, TimeSpan bound, string what, TimeSpan? checkEvery = null)
    {
        TimeSpan? took = cluster.RunUntil(cluster.MembershipAgrees, bound, checkEvery);
        if (took is null)
        {
            cluster.MembershipAgrees(out string differences);
            Fail(cluster, $"{what}: membership did not agree within {bound.TotalSeconds} s of virtual time. {differences}");
        }

        return took!.Value;
    }

    public static void NoViolations(SimCluster cluster)
    {
        if (cluster.Checkers.ViolationCount > 0)
        {
            Fail(cluster, $"{cluster.Checkers.ViolationCount} invariant violations");
        }
    }

    public static void Fail(SimCluster cluster, string message) =>
        throw new SimulationFailedException(message + Environment.NewLine + cluster.Describe() +
            $"Replay: RUMOR_SIM_SEED={cluster.Seed} dotnet test tests/Rumor.Simulation.Tests");
}

/// <summary>A simulation run broke its promise; the message says how to replay it.</summary>
public sealed class SimulationFailedException(string message) : Exception(message);
