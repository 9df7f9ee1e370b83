using Rumor.Simulation.Experiments;

namespace Rumor.Simulation.Tests;

/// <summary>The convergence experiment's engines, at sizes a test can afford.</summary>
public sealed class ExperimentTests
{
    [Fact]
    public void The_ideal_push_model_matches_the_published_means()
    {
        // Synchronous push, fanout 3: about 8.2 rounds at N = 1,000.
        double mean = IdealPush.Rounds(1000, 3, 400, seed: 1).Average();
        Assert.InRange(mean, 7.9, 8.5);
    }

    [Fact]
    public void In_phase_dissemination_is_within_one_round_of_the_ideal()
    {
        double ideal = IdealPush.Rounds(1000, 3, 400, seed: 2).Average();
        BroadcastSpreadResult result = BroadcastSpread.DisseminationOnly(1000, trials: 10, seed: 2, synchronous: true);
        Assert.InRange(result.Rounds.Mean, ideal - 1, ideal + 1);
    }

    [Fact]
    public void The_full_protocol_spreads_an_update_to_every_node()
    {
        BroadcastSpreadResult result = BroadcastSpread.FullProtocol(100, trials: 3, seed: 3);
        Assert.Equal(3, result.Rounds.Count);

        // Asynchronous ticks forward within one interval, so the spread beats the synchronous model.
        Assert.InRange(result.Rounds.Mean, 1, IdealPush.Rounds(100, 3, 200, seed: 3).Average() + 1);
    }
}
