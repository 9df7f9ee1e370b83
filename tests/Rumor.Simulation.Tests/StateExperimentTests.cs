using Rumor.Core;
using Rumor.Simulation.Experiments;

namespace Rumor.Simulation.Tests;

/// <summary>The replicated-state experiment engine at a size a test can afford, so it keeps working.</summary>
public sealed class StateExperimentTests
{
    [Fact]
    public void One_change_reaches_every_node_and_costs_bytes()
    {
        StateSpreadResult result = StateExperiments.Spread(20, GossipStrategy.PushPull, trials: 2, seed: 5);
        Assert.Equal(2, result.Rounds.Count);
        Assert.InRange(result.Rounds.Min, 0.01, 30);
        Assert.True(result.Bytes.Min > 0, "a spread sends bytes");
        Assert.True(result.BackgroundBytesPerSecond > 0, "an idle cluster still probes");
    }

    [Fact]
    public void A_bulk_write_converges_and_idle_traffic_is_measured()
    {
        StateBulkResult bulk = StateExperiments.BulkWrite(20, keys: 200, valueBytes: 40, seed: 6);
        Assert.True(bulk.Took > TimeSpan.Zero);
        Assert.True(bulk.DatagramBytes + bulk.StreamBytes > 200 * 40, "the keys were sent to the other nodes");

        StateIdleResult idle = StateExperiments.Idle(20, stateGossip: true, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), seed: 7);
        Assert.True(idle.BytesPerNodePerSecond > 0);
    }
}
