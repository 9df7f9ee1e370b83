using System.Xml.Linq;
using Rumor.Core;
using Rumor.Simulation.Charts;
using Rumor.Simulation.Experiments;

namespace Rumor.Simulation.Tests;

/// <summary>The spread experiment of <c>rumor simulate</c>: the compact engine's invariants, the ideals, full mode, the charts. Small N only.</summary>
public sealed class SpreadExperimentTests
{
    [Theory]
    [InlineData(GossipStrategy.Push, 1)]
    [InlineData(GossipStrategy.Push, 3)]
    [InlineData(GossipStrategy.Pull, 1)]
    [InlineData(GossipStrategy.PushPull, 1)]
    public void Without_loss_every_node_learns_the_rumor(GossipStrategy strategy, int fanout)
    {
        ulong seed = Sim.SeedOr(11);
        SpreadSettings settings = new() { Nodes = 2000, Strategy = strategy, Fanout = fanout, Trials = 10, Seed = seed };
        IReadOnlyList<SpreadTrial> trials = new DisseminationEngine(settings).Run();

        Assert.Equal(10, trials.Count);
        foreach (SpreadTrial trial in trials)
        {
            Assert.True(trial.RoundsToEveryone is not null, $"a trial did not reach everyone (seed {seed})");
            Assert.Equal(0, trial.NeverInformed);
            Assert.Equal(1, trial.InformedPerRound[0]);
            Assert.Equal(2000, trial.InformedPerRound[^1]);
            Assert.Equal(trial.InformedPerRound.Length - 1, (int)trial.RoundsToEveryone!.Value);
            for (int r = 1; r < trial.InformedPerRound.Length; r++)
            {
                Assert.True(trial.InformedPerRound[r] >= trial.InformedPerRound[r - 1], $"the informed count fell in round {r} without churn (seed {seed})");

                // Synchronous rounds: at most 1 + fanout copies per informed node per round (push), or a doubling-ish bound for the others.
                Assert.True(trial.InformedPerRound[r] <= trial.InformedPerRound[r - 1] * (strategy == GossipStrategy.Push ? 1 + fanout : 2 + (2 * fanout)), $"round {r} grew faster than the round model allows (seed {seed})");
            }
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_spread_and_another_seed_another()
    {
        SpreadSettings settings = new() { Nodes = 3000, Strategy = GossipStrategy.Push, Fanout = 1, Trials = 5, Seed = 42, Loss = 0.1 };
        IReadOnlyList<SpreadTrial> first = new DisseminationEngine(settings).Run();
        IReadOnlyList<SpreadTrial> second = new DisseminationEngine(settings).Run();
        IReadOnlyList<SpreadTrial> other = new DisseminationEngine(settings with { Seed = 43 }).Run();

        for (int t = 0; t < first.Count; t++)
        {
            Assert.Equal(first[t].InformedPerRound, second[t].InformedPerRound);
            Assert.Equal(first[t].RoundsToEveryone, second[t].RoundsToEveryone);
            Assert.Equal(first[t].Transmissions, second[t].Transmissions);
        }

        Assert.NotEqual(first.Select(t => t.Transmissions), other.Select(t => t.Transmissions));
    }

    [Theory]
    [InlineData(GossipStrategy.Push, 0.0, false)]
    [InlineData(GossipStrategy.Push, 0.2, true)]
    [InlineData(GossipStrategy.Pull, 0.1, false)]
    [InlineData(GossipStrategy.PushPull, 0.1, true)]
    public void Trials_on_several_threads_equal_the_trials_one_after_another(GossipStrategy strategy, double loss, bool faults)
    {
        ulong seed = Sim.SeedOr(17);
        SpreadSettings settings = new()
        {
            Nodes = 1500,
            Strategy = strategy,
            Fanout = strategy == GossipStrategy.Push ? 2 : 1,
            Trials = 9,
            Seed = seed,
            Loss = loss,
            Partition = faults ? new PartitionPlan(0.25, 2, 6) : null,
            Churn = faults ? new ChurnPlan(0.01, 3, 8) : null,
        };

        // Sequential, then 3 and 4 workers (more workers than cores is allowed: the result must not depend on the schedule).
        SpreadReport sequential = SpreadExperiment.Run(settings, SpreadMode.Dissemination, idealTrials: 20, parallelism: 1);
        foreach (int workers in new[] { 3, 4 })
        {
            SpreadReport parallel = SpreadExperiment.Run(settings, SpreadMode.Dissemination, idealTrials: 20, parallelism: workers);
            AssertSameTrials(sequential.Trials, parallel.Trials, $"measured, {workers} workers, seed {seed}");
            AssertSameTrials(sequential.IdealTrials, parallel.IdealTrials, $"ideal, {workers} workers, seed {seed}");
            Assert.Equal(sequential.MeanCurve(), parallel.MeanCurve());
            Assert.Equal(sequential.Rounds, parallel.Rounds);
            Assert.Equal(sequential.TransmissionsPerNode, parallel.TransmissionsPerNode);
        }

        // The trials differ from one another (the forks are per trial, not one shared draw sequence).
        Assert.True(sequential.Trials.Select(t => t.Transmissions).Distinct().Count() > 1, $"all trials sent the same number of messages (seed {seed})");
    }

    [Fact]
    public void Trials_stay_in_order_and_complete_when_workers_outnumber_them()
    {
        SpreadSettings settings = new() { Nodes = 500, Strategy = GossipStrategy.Push, Fanout = 1, Trials = 2, Seed = 5, Loss = 0.1 };
        IReadOnlyList<SpreadTrial> one = new DisseminationEngine(settings).Run(parallelism: 1);
        IReadOnlyList<SpreadTrial> many = new DisseminationEngine(settings).Run(parallelism: 8);
        AssertSameTrials(one, many, "2 trials, 8 workers");
    }

    [Fact]
    public void A_cancelled_parallel_run_throws_and_stops()
    {
        SpreadSettings settings = new() { Nodes = 2000, Strategy = GossipStrategy.Push, Fanout = 1, Trials = 50, Seed = 5 };
        using CancellationTokenSource cancel = new();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => new DisseminationEngine(settings).Run(parallelism: 3, cancel.Token));
    }

    private static void AssertSameTrials(IReadOnlyList<SpreadTrial> expected, IReadOnlyList<SpreadTrial> actual, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int t = 0; t < expected.Count; t++)
        {
            Assert.True(expected[t].InformedPerRound.AsSpan().SequenceEqual(actual[t].InformedPerRound), $"trial {t} ({what}): informed per round differs");
            Assert.Equal(expected[t].RoundsToEveryone, actual[t].RoundsToEveryone);
            Assert.Equal(expected[t].Transmissions, actual[t].Transmissions);
            Assert.Equal(expected[t].NeverInformed, actual[t].NeverInformed);
        }
    }

    [Theory]
    [InlineData(GossipStrategy.Push, 1, 1000, 18.0)]
    [InlineData(GossipStrategy.Push, 3, 1000, 8.2)]
    [InlineData(GossipStrategy.Pull, 1, 1000, 13.8)]
    [InlineData(GossipStrategy.PushPull, 1, 1000, 9.1)]
    [InlineData(GossipStrategy.Push, 1, 10000, 23.6)]
    [InlineData(GossipStrategy.Push, 3, 10000, 10.6)]
    [InlineData(GossipStrategy.Pull, 1, 10000, 17.6)]
    [InlineData(GossipStrategy.PushPull, 1, 10000, 11.6)]
    public void The_ideal_matches_the_published_simulated_ideals(GossipStrategy strategy, int fanout, int nodes, double published)
    {
        SpreadSettings settings = new() { Nodes = nodes, Strategy = strategy, Fanout = fanout };
        int runs = nodes <= 1000 ? 300 : 60;
        double mean = DisseminationEngine.Ideal(settings, runs, seed: 5).Average(t => t.RoundsToEveryone!.Value);

        // Sampling error of the mean over these runs is under 0.25 rounds.
        Assert.InRange(mean, published - 0.5, published + 0.5);
    }

    [Theory]
    [InlineData(GossipStrategy.Push, 1, new[] { 18.0, 23.6, 29.4, 35.2 })]
    [InlineData(GossipStrategy.Push, 3, new[] { 8.2, 10.6, 13.0, 15.4 })]
    [InlineData(GossipStrategy.Pull, 1, new[] { 13.8, 17.6, 21.1, 25.0 })]
    [InlineData(GossipStrategy.PushPull, 1, new[] { 9.1, 11.6, 13.9, 16.4 })]
    public void The_mean_field_recurrences_come_within_a_round_of_the_published_ideals(GossipStrategy strategy, int fanout, double[] published)
    {
        int[] sizes = [1000, 10000, 100000, 1000000];
        for (int k = 0; k < sizes.Length; k++)
        {
            int rounds = MeanFieldSpread.RoundsToEveryone(sizes[k], strategy, fanout);
            Assert.InRange(rounds, published[k] - 1, published[k] + 1);
        }

        double[] curve = MeanFieldSpread.Curve(1000, strategy, fanout, 100);
        Assert.Equal(0.001, curve[0], 9);
        Assert.True(curve.Zip(curve.Skip(1)).All(p => p.Second > p.First), "the mean-field curve must climb");
    }

    [Fact]
    public void Damped_push_sends_at_most_the_transmit_limit_and_can_leave_residue()
    {
        // RetransmitMultiplier 1 at N = 1,000: limit 4 transmissions per node with fanout 1, so the
        // rumor often dies out before everyone has it; the trial must end (not run to the bound) and
        // report the residue.
        SpreadSettings settings = new() { Nodes = 1000, Strategy = GossipStrategy.Push, Fanout = 1, RetransmitMultiplier = 1, Trials = 20, Seed = Sim.SeedOr(3), MaxRounds = 500 };
        Assert.Equal(4, settings.TransmitLimit);
        IReadOnlyList<SpreadTrial> trials = new DisseminationEngine(settings).Run();

        Assert.All(trials, t => Assert.True(t.Transmissions <= 4L * 1000, "no node sends more than the limit"));
        SpreadTrial[] died = [.. trials.Where(t => t.RoundsToEveryone is null)];
        Assert.NotEmpty(died);
        Assert.All(died, t =>
        {
            Assert.True(t.NeverInformed > 0);
            Assert.Equal(1000 - t.NeverInformed, t.InformedPerRound[^1]);
            Assert.True(t.InformedPerRound.Length < 200, "a dead rumor ends the trial");
        });

        // The LAN limit (4 × ceil(log10(1001)) = 16) leaves no residue at this size.
        IReadOnlyList<SpreadTrial> lan = new DisseminationEngine(settings with { RetransmitMultiplier = 4 }).Run();
        Assert.All(lan, t => Assert.Equal(0, t.NeverInformed));
    }

    [Fact]
    public void The_compact_engine_agrees_with_the_real_broadcast_queue_in_phase()
    {
        // Same rules, two implementations: the real BroadcastQueue / PacketBuilder / PacketReader
        // with in-phase ticks, and the compact arrays. Push, fanout 3, limit 16, N = 1,000.
        BroadcastSpreadResult real = BroadcastSpread.DisseminationOnly(1000, trials: 20, seed: 8, synchronous: true);
        SpreadSettings settings = new() { Nodes = 1000, Strategy = GossipStrategy.Push, Fanout = 3, Trials = 40, Seed = 8 };
        double compact = new DisseminationEngine(settings).Run().Average(t => t.RoundsToEveryone!.Value);

        Assert.InRange(compact, real.Rounds.Mean - 0.75, real.Rounds.Mean + 0.75);
    }

    [Fact]
    public void Loss_slows_the_spread_but_pull_still_reaches_everyone()
    {
        SpreadSettings clean = new() { Nodes = 2000, Strategy = GossipStrategy.Pull, Fanout = 1, Trials = 10, Seed = Sim.SeedOr(4) };
        double fast = new DisseminationEngine(clean).Run().Average(t => t.RoundsToEveryone!.Value);
        IReadOnlyList<SpreadTrial> lossy = new DisseminationEngine(clean with { Loss = 0.3 }).Run();

        Assert.All(lossy, t => Assert.NotNull(t.RoundsToEveryone));
        Assert.True(lossy.Average(t => t.RoundsToEveryone!.Value) > fast + 1, "30 % loss on both legs of a pull must cost rounds");
    }

    [Fact]
    public void A_partition_holds_the_rumor_back_until_it_heals_and_a_standing_one_hits_the_bound()
    {
        SpreadSettings settings = new() { Nodes = 1000, Strategy = GossipStrategy.PushPull, Fanout = 1, Trials = 5, Seed = Sim.SeedOr(6), MaxRounds = 60, Partition = new PartitionPlan(0.3, 1, 25) };
        IReadOnlyList<SpreadTrial> healed = new DisseminationEngine(settings).Run();
        Assert.All(healed, t =>
        {
            Assert.NotNull(t.RoundsToEveryone);
            Assert.True(t.RoundsToEveryone >= 25, "no one across the cut can hear of it before round 25");
        });

        IReadOnlyList<SpreadTrial> standing = new DisseminationEngine(settings with { Partition = new PartitionPlan(0.3, 1, 1000) }).Run();
        Assert.All(standing, t =>
        {
            Assert.Null(t.RoundsToEveryone);
            Assert.Equal(61, t.InformedPerRound.Length); // ran to the bound of 60 rounds, no further
            Assert.True(t.NeverInformed is 300 or 700, $"one side of the cut stays uninformed, not {t.NeverInformed}");
        });
    }

    [Fact]
    public void Under_churn_crashed_nodes_forget_and_the_rumor_still_reaches_every_up_node()
    {
        SpreadSettings settings = new() { Nodes = 2000, Strategy = GossipStrategy.PushPull, Fanout = 1, Trials = 5, Seed = Sim.SeedOr(9), Churn = new ChurnPlan(0.01, 3, 15) };
        IReadOnlyList<SpreadTrial> trials = new DisseminationEngine(settings).Run();

        Assert.All(trials, t => Assert.NotNull(t.RoundsToEveryone));

        // Without churn and loss, push-pull informs each of the N − 1 others with exactly one
        // transmission. Restarted nodes come back empty and must be told again, so there are more.
        SpreadSettings calm = settings with { Churn = null };
        Assert.All(new DisseminationEngine(calm).Run(), t => Assert.Equal(1999, t.Transmissions));
        Assert.Contains(trials, t => t.Transmissions > t.InformedPerRound[^1] - 1);

        // Some nodes are still down when a trial completes: "everyone" means every up node.
        Assert.Contains(trials, t => t.InformedPerRound[^1] < 2000);
    }

    [Theory]
    [InlineData(GossipStrategy.Push)]
    [InlineData(GossipStrategy.Pull)]
    [InlineData(GossipStrategy.PushPull)]
    public void Full_mode_spreads_through_real_nodes(GossipStrategy strategy)
    {
        SpreadSettings settings = new() { Nodes = 40, Strategy = strategy, Fanout = strategy == GossipStrategy.Push ? 3 : 1, Trials = 2, Seed = Sim.SeedOr(12), MaxRounds = 60 };
        SpreadReport report = SpreadExperiment.Run(settings, SpreadMode.Full, idealTrials: 20);

        Assert.Equal(2, report.Converged);
        Assert.All(report.Trials, t => Assert.Equal(40, t.InformedPerRound[^1]));
        Assert.InRange(report.Rounds.Mean, 0.1, 30);
        Assert.Equal(0, report.NeverInformedFraction);
    }

    [Theory]
    [InlineData(GossipStrategy.Push, 0.1)]
    [InlineData(GossipStrategy.PushPull, 0.05)]
    public void Full_mode_trials_split_over_clusters_are_the_same_on_one_thread_and_on_several(GossipStrategy strategy, double loss)
    {
        ulong seed = Sim.SeedOr(31);
        SpreadSettings single = new()
        {
            Nodes = 30,
            Strategy = strategy,
            Fanout = strategy == GossipStrategy.Push ? 3 : 1,
            Trials = 5,
            Seed = seed,
            Loss = loss,
            MaxRounds = 60,
            Churn = new ChurnPlan(0.02, 2, 4),
        };
        SpreadSettings split = single with { Clusters = 3 };

        IReadOnlyList<SpreadTrial> one = SpreadExperiment.RunFull(split, parallelism: 1);
        IReadOnlyList<SpreadTrial> three = SpreadExperiment.RunFull(split, parallelism: 3);
        AssertSameTrials(one, three, $"3 clusters, 1 thread against 3, seed {seed}");

        // The first cluster is the single cluster (same seed, same draws): its block is the single run's first trials.
        IReadOnlyList<SpreadTrial> whole = SpreadExperiment.RunFull(single, parallelism: 2);
        Assert.Equal(5, whole.Count);
        int firstBlock = split.FirstTrialOf(1);
        Assert.Equal(1, firstBlock);
        AssertSameTrials(whole.Take(firstBlock).ToList(), one.Take(firstBlock).ToList(), $"the first cluster against the single cluster, seed {seed}");

        // Each cluster joins with its own seed: the first trial of the second cluster is not a replay of the first cluster's first trial.
        SpreadTrial a = one[0], b = one[firstBlock];
        Assert.False(a.Transmissions == b.Transmissions && a.InformedPerRound.AsSpan().SequenceEqual(b.InformedPerRound), $"the second cluster replayed the first (seed {seed})");

        // Every trial ran (a slot left empty would be null) and reached everyone.
        Assert.All(one, t => Assert.NotNull(t.RoundsToEveryone));

        // The chart says the trials ran on several clusters.
        SpreadReport report = new(split, SpreadMode.Full, one, one, [1.0], TimeSpan.Zero, 0);
        Assert.Contains("full mode on 3 clusters", SpreadCharts.Chart(report).Title, StringComparison.Ordinal);
        Assert.Contains(", full mode, seed", SpreadCharts.Chart(report with { Settings = single }).Title, StringComparison.Ordinal);
    }

    [Fact]
    public void Clusters_take_contiguous_blocks_of_the_trials_and_each_its_own_seed()
    {
        for (int trials = 1; trials <= 40; trials++)
        {
            for (int clusters = 1; clusters <= trials; clusters++)
            {
                SpreadSettings settings = new() { Trials = trials, Clusters = clusters };
                Assert.Empty(settings.Validate());
                Assert.Equal(0, settings.FirstTrialOf(0));
                Assert.Equal(trials, settings.FirstTrialOf(clusters));
                for (int g = 0; g < clusters; g++)
                {
                    int size = settings.FirstTrialOf(g + 1) - settings.FirstTrialOf(g);
                    Assert.InRange(size, trials / clusters, (trials + clusters - 1) / clusters);
                }
            }
        }

        SpreadSettings seeded = new() { Seed = 42, Trials = 9, Clusters = 9 };
        Assert.Equal(42UL, seeded.ClusterSeed(0));
        Assert.Equal(9, Enumerable.Range(0, 9).Select(seeded.ClusterSeed).Distinct().Count());
        Assert.Equal(seeded.ClusterSeed(5), (seeded with { Clusters = 6, Trials = 6 }).ClusterSeed(5));
        Assert.NotEqual(seeded.ClusterSeed(1), (seeded with { Seed = 43 }).ClusterSeed(1));

        Assert.Contains((new SpreadSettings { Trials = 3, Clusters = 4 }).Validate(), p => p.StartsWith("Clusters is 4", StringComparison.Ordinal));
        Assert.Contains((new SpreadSettings { Clusters = 0 }).Validate(), p => p.StartsWith("Clusters is 0", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => SpreadExperiment.RunFull(new SpreadSettings { Nodes = 10, Trials = 2, Clusters = 3 }));
    }

    [Fact]
    public void Workers_run_every_index_once_and_rethrow_the_first_failure_after_all_have_stopped()
    {
        foreach (int parallelism in new[] { 1, 2, 5 })
        {
            int[] runs = new int[23];
            int workersBuilt = 0;
            TrialWorkers.Run(runs.Length, parallelism, _ =>
            {
                Interlocked.Increment(ref workersBuilt);
                return i => Interlocked.Increment(ref runs[i]);
            });
            Assert.All(runs, r => Assert.Equal(1, r));
            Assert.Equal(parallelism, workersBuilt);
        }

        int started = 0;
        InvalidOperationException thrown = Assert.Throws<InvalidOperationException>(() => TrialWorkers.Run(1000, 3, _ => i =>
        {
            Interlocked.Increment(ref started);
            if (i == 4)
            {
                throw new InvalidOperationException("index 4 failed");
            }

            Thread.Sleep(1);
        }));
        Assert.Equal("index 4 failed", thrown.Message);
        Assert.True(Volatile.Read(ref started) < 1000, "the other workers went on after a failure");
    }

    [Fact]
    public void The_chart_is_well_formed_svg_with_title_axes_and_three_curves()
    {
        SpreadSettings settings = new() { Nodes = 500, Strategy = GossipStrategy.Push, Fanout = 3, Trials = 3, Seed = 21 };
        SpreadReport report = SpreadExperiment.Run(settings, SpreadMode.Dissemination, idealTrials: 10);

        XDocument svg = XDocument.Parse(SpreadCharts.Chart(report).ToSvg());
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(ns + "svg", svg.Root!.Name);
        string[] texts = [.. svg.Descendants(ns + "text").Select(t => t.Value)];
        Assert.Contains(texts, t => t.Contains("N = 500", StringComparison.Ordinal) && t.Contains("push", StringComparison.Ordinal) && t.Contains("seed 21", StringComparison.Ordinal));
        Assert.Contains("informed fraction", texts);
        Assert.Equal(3, svg.Descendants(ns + "polyline").Count());

        string[] rows = SpreadCharts.TrialsCsv(report).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("trial,round,informed,fraction", rows[0]);
        Assert.Equal(1 + report.Trials.Sum(t => t.InformedPerRound.Length), rows.Length);
    }
}
