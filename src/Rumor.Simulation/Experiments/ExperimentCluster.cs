using Rumor.Core;

namespace Rumor.Simulation.Experiments;

/// <summary>The start every full-protocol experiment shares: N real nodes joined and agreeing.</summary>
internal static class ExperimentCluster
{
    /// <summary>How long the join may take in virtual time before the experiment gives up.</summary>
    public static readonly TimeSpan JoinBound = TimeSpan.FromSeconds(300);

    /// <summary>How long the join news gets to drain from the broadcast queues before measuring.</summary>
    public static readonly TimeSpan Drain = TimeSpan.FromSeconds(20);

    /// <summary>
    /// N nodes started 2 ms apart, run until every node agrees on the membership (throws naming the
    /// differences and the seed when that takes longer than <see cref="JoinBound"/>), then, with
    /// <paramref name="drain"/>, <see cref="Drain"/> more so the join news stops competing with what
    /// the experiment measures. The incarnation checker is off: experiments measure, tests check.
    /// </summary>
    public static SimCluster Joined(int n, ulong seed, GossipOptions gossip, NetworkOptions? network = null, bool drain = true)
    {
        SimCluster cluster = new(new SimulationOptions { Seed = seed, Gossip = gossip, Network = network ?? new NetworkOptions(), TraceRecent = 0 });
        cluster.Checkers.TrackIncarnations = false;
        cluster.AddNodes(n);
        cluster.StartAll(TimeSpan.FromMilliseconds(2));
        if (cluster.RunUntil(cluster.MembershipAgrees, JoinBound, TimeSpan.FromSeconds(1)) is null)
        {
            cluster.MembershipAgrees(out string differences);
            throw new InvalidOperationException($"{n} nodes did not converge within {JoinBound.TotalSeconds} s (seed {seed}): {differences}");
        }

        if (drain)
        {
            cluster.RunFor(Drain);
        }

        return cluster;
    }
}
