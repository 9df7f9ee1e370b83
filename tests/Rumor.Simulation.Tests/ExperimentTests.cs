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

    [Fact]
    public void The_cluster_scenario_measures_every_step_and_one_seed_replays_it()
    {
        // The simulator's side of the real-socket scale run: 30 nodes, two keys, events and crashes.
        ClusterScenarioResult first = ClusterScenario.Run(30, repeat: 2, settle: TimeSpan.FromSeconds(10), seed: 4);
        Assert.Equal(0, first.Missed);
        Assert.Equal(2, first.KeyAllSeconds.Count);
        Assert.Equal(2, first.EventAllSeconds.Count);
        Assert.Equal(2, first.DeadAllSeconds.Count);

        // The joins go as rumor cluster's do (16 in flight, each through node 0 and node i/2): every
        // one answered, and the cluster agrees only after the last answer.
        Assert.Equal(0, first.JoinsFailed);
        Assert.InRange(first.JoinsAnsweredSeconds, 0.001, first.JoinSeconds);

        // An event is pushed at once and hop by hop; a key waits for state rounds of 1 s; a crash is
        // declared only after the suspicion timeout (at least 4 × log10(30) ≈ 5.9 s plus the probe).
        Assert.All(first.EventAllSeconds, s => Assert.InRange(s, 0.001, 2));
        Assert.All(first.KeyAllSeconds, s => Assert.InRange(s, 0.001, 20));
        for (int i = 0; i < 2; i++)
        {
            Assert.InRange(first.SuspectFirstSeconds[i], 0.5, first.DeadFirstSeconds[i]);
            Assert.InRange(first.DeadFirstSeconds[i], 5.9, first.DeadAllSeconds[i]);
            Assert.InRange(first.DeadAllSeconds[i], first.DeadFirstSeconds[i], 60);
        }

        ClusterScenarioResult again = ClusterScenario.Run(30, repeat: 2, settle: TimeSpan.FromSeconds(10), seed: 4);
        Assert.Equal(first.JoinSeconds, again.JoinSeconds);
        Assert.Equal(first.JoinsAnsweredSeconds, again.JoinsAnsweredSeconds);
        Assert.Equal(first.Missed, again.Missed);
        Assert.Equal(first.KeyAllSeconds, again.KeyAllSeconds);
        Assert.Equal(first.EventAllSeconds, again.EventAllSeconds);
        Assert.Equal(first.SuspectFirstSeconds, again.SuspectFirstSeconds);
        Assert.Equal(first.DeadFirstSeconds, again.DeadFirstSeconds);
        Assert.Equal(first.DeadAllSeconds, again.DeadAllSeconds);
    }
}
