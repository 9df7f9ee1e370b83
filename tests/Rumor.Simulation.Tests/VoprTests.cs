using Rumor.Core;
using Rumor.Simulation.Vopr;
using Xunit.Abstractions;

namespace Rumor.Simulation.Tests;

/// <summary>The VOPR seed sweep: a fixed sweep for CI, replay, detection, and the seeds it found.</summary>
public sealed class VoprTests(ITestOutputHelper output)
{
    /// <summary>The CI sweep: seeds 1–12 (about a minute of wall time on 2 cores shared with other work).</summary>
    [Fact]
    public void A_fixed_sweep_passes_every_invariant()
    {
        IReadOnlyList<VoprResult> results = VoprSweep.Run(VoprSweep.ParseSeeds("1-12"), Environment.ProcessorCount, budget: null, _ => { });
        foreach (VoprResult result in results)
        {
            output.WriteLine($"seed {result.Seed}: {result.Scenario.NodeCount} nodes, {result.Scenario.Faults.Count} faults, {(result.Passed ? "ok" : "FAILED")}");
        }

        VoprResult? failed = results.FirstOrDefault(r => !r.Passed);
        Assert.True(failed is null, failed is null ? "" : Report(failed));
        Assert.Equal(12, results.Count);
    }

    [Fact]
    public void A_seed_replays_with_the_same_trace_hash()
    {
        VoprResult first = VoprRun.Run(3);
        VoprResult second = VoprRun.Run(3);
        Assert.Equal(first.TraceHash, second.TraceHash);
        Assert.Equal(first.Events, second.Events);
        Assert.Equal(first.Scenario.Describe(), second.Scenario.Describe());
        Assert.NotEqual(first.TraceHash, VoprRun.Run(5).TraceHash);
    }

    [Fact]
    public void A_broken_cluster_is_reported_with_its_replay_command_and_trace()
    {
        // Cut node 1 off for good after the heal (and let the others notice): the membership invariant must catch it.
        VoprResult result = VoprRun.Run(6, sabotage: c =>
        {
            c.Network.Partition([[c.Nodes[1]]]);
            c.RunFor(TimeSpan.FromSeconds(90));
        });
        Assert.False(result.Passed);
        Assert.StartsWith("membership:", result.Violations[0], StringComparison.Ordinal);
        Assert.Equal("rumor vopr --seeds 6", result.ReplayCommand);
        Assert.NotEmpty(result.Trace);

        // The trace follows the members the violation names (not the last packets of anyone): how
        // each live view holds the cut-off node now, with generation and incarnation, and the
        // membership changes the named nodes saw. Bounded.
        output.WriteLine(string.Join(Environment.NewLine, result.Trace));
        Assert.InRange(result.Trace.Count, 1, VoprRun.RelevantTraceMax);
        Assert.Contains(result.Trace, r => r.StartsWith("  now node-0002 (up at g", StringComparison.Ordinal) && r.Contains("Dead g", StringComparison.Ordinal));
        Assert.Contains(result.Trace, r => r.Contains(" sees node-0002 Failed: ", StringComparison.Ordinal));
    }

    /// <summary>
    /// An interrupted sweep (Ctrl-C, SIGTERM) stops its threads and throws
    /// <see cref="OperationCanceledException"/> to its caller: a run cancelled inside a worker thread
    /// used to throw there, which ended the process with an unhandled exception instead of letting
    /// <c>rumor vopr</c> print "interrupted." and exit 130.
    /// </summary>
    [Fact]
    public void A_cancelled_sweep_throws_to_its_caller_not_on_a_thread()
    {
        // Seed 735 draws 234 nodes: the cancel lands inside a run on both threads.
        using CancellationTokenSource cancel = new();
        cancel.CancelAfter(TimeSpan.FromMilliseconds(500));
        List<ulong> reported = [];
        System.Diagnostics.Stopwatch wall = System.Diagnostics.Stopwatch.StartNew();
        Assert.ThrowsAny<OperationCanceledException>(() => VoprSweep.Run([735, 734, 735], 2, budget: null, r => reported.Add(r.Seed), cancel.Token));
        Assert.Empty(reported);
        Assert.True(wall.Elapsed < TimeSpan.FromMinutes(2), $"stopping took {wall.Elapsed}");

        // Cancelled before it starts: nothing runs, the caller is told.
        Assert.ThrowsAny<OperationCanceledException>(() => VoprSweep.Run([1], 1, budget: null, r => reported.Add(r.Seed), new CancellationToken(canceled: true)));
        Assert.Empty(reported);
    }

    /// <summary>
    /// Seed 730 (86 nodes, 12.4 % loss, k = 1): a mass restart brings node-0022 back fresh (a newer
    /// generation) and 6 s later it leaves for good. node-0009, node-0080 and node-0086 had declared
    /// the older generation dead and heard neither the newer alive nor the leave; push-pull then
    /// brought them "left at the newer generation", which the kernel ignored as news about a
    /// generation they did not hold, so they kept "dead" forever while all others saw "left" (the
    /// weaker leave promise: a dead member accepts a later leave). A departure of a newer
    /// generation now wins from every state (GossipNode.ApplyDead; NewerGenerationDepartureTests and
    /// MembershipTests.A_member_that_restarts_and_leaves_unheard_by_an_observer_is_seen_left_by_it
    /// are the short regressions). Seed 1040 (22 nodes, 10.1 % loss) is the same with a persisted
    /// restart (the data dir keeps the incarnation, but every start is a newer generation):
    /// node-0003 restarts at 85.5 s and leaves at 89.6 s, and node-0009 kept it dead.
    /// </summary>
    [Theory]
    [InlineData(730)]
    [InlineData(1040)]
    public void A_leave_of_a_newer_generation_reaches_those_who_hold_the_older_one_dead(ulong seed)
    {
        VoprResult result = VoprRun.Run(seed);
        Assert.False(VoprRun.LeavePromised(result.Scenario));
        Assert.True(result.Passed, Report(result));
    }

    /// <summary>
    /// Seed 1905 (3 nodes + 3 joins, 1.5 % loss: inside the leave promise): node-0002 restarts fresh
    /// at 65.3 s and is told to leave 0.65 s later, before its join push-pull is answered. It used to
    /// report LeaveCompleted at once (no other member in its view) while the seed then added it, so
    /// it was declared dead. Now the leave waits for the join's answer and is then gossiped; its two
    /// copies (budget 2 at N = 3) went to node-0004 and node-0005, which had not heard of the
    /// restarted member yet and dropped a leave of an unknown member (memberlist's rule), and one was
    /// lost. Such a leave is now remembered and passed on (RecentDepartures), and node-0004's and
    /// node-0005's older copy of the member's replicated state is dropped with it. The short
    /// regressions: MembershipTests.A_member_that_leaves_before_its_join_is_answered_is_seen_left
    /// and UnknownMemberLeaveTests.
    /// </summary>
    [Fact]
    public void Seed_1905_a_leave_before_the_join_is_answered_is_seen_left()
    {
        VoprResult result = VoprRun.Run(1905);
        Assert.True(VoprRun.LeavePromised(result.Scenario));
        Assert.True(result.Passed, Report(result));
    }

    /// <summary>
    /// Seed 7472 (3 nodes, φ-accrual detector, 19.6 % loss; one member leaves, then a one-way block and
    /// a partition): the two survivors ended up suspecting each other at once. A member sent its
    /// heartbeats only to members it held alive, so each fell silent to the other while it suspected
    /// it; no counter advanced, φ stayed high, and each accused the other again at every judgement
    /// (four a second) right after the refutation, for the whole 121 s after the heal (incarnation
    /// 610). Heartbeats now go to suspect members too. The short regression:
    /// PhiModeTests.A_member_keeps_sending_heartbeats_to_a_member_it_suspects.
    /// </summary>
    /// <summary>
    /// VOPR seed 313 (192 nodes, φ mode, 19.8 % loss, two partitions): node-0137 was declared dead
    /// inside a partition, and its refutation spent its budget on its own side. After the heal no
    /// one told it (nobody sends heartbeats, probes or push-pulls to the dead, and the death's
    /// gossip had expired) while its own view decayed to all dead, so it stayed dead in 190 views
    /// for 125 s and missed two events whose retention ran out meanwhile. Fixed: a member that
    /// receives the own heartbeat of a member it holds dead sends it the verdict, and the member
    /// answers with its alive (found by this session's sweep of main at 1e326de).
    /// </summary>
    [Fact]
    public void Seed_313_a_member_held_dead_after_a_partition_is_told_by_its_own_heartbeats()
    {
        VoprResult result = VoprRun.Run(313);
        Assert.Equal(Core.FailureDetectorKind.PhiAccrual, result.Scenario.Options.FailureDetector);
        Assert.True(result.Passed, Report(result));
    }

    [Fact]
    public void Seed_7472_members_who_suspect_each_other_under_phi_still_hear_each_other()
    {
        VoprResult result = VoprRun.Run(7472);
        Assert.Equal(Core.FailureDetectorKind.PhiAccrual, result.Scenario.Options.FailureDetector);
        Assert.True(result.Passed, Report(result));
    }

    [Fact]
    public void Every_drawn_option_set_validates()
    {
        for (ulong seed = 1; seed <= 2000; seed++)
        {
            VoprScenario scenario = VoprScenario.Generate(seed);
            Core.GossipOptions options = scenario.Options with { Name = "n", AdvertiseAddress = new Core.NodeAddress(0x7F000001u, 7946) };
            Assert.Empty(options.Validate());
            Assert.InRange(scenario.NodeCount, 3, VoprScenario.NodesMax);
        }
    }

    [Theory]
    [InlineData("5", new ulong[] { 5 })]
    [InlineData("1,7,9", new ulong[] { 1, 7, 9 })]
    [InlineData("3-6", new ulong[] { 3, 4, 5, 6 })]
    [InlineData("1,4-5", new ulong[] { 1, 4, 5 })]
    public void Seed_sets_parse(string text, ulong[] expected) => Assert.Equal(expected, VoprSweep.ParseSeeds(text));

    [Theory]
    [InlineData("")]
    [InlineData("x")]
    [InlineData("5-3")]
    [InlineData("1-2-3")]
    public void Bad_seed_sets_are_refused(string text) => Assert.Throws<FormatException>(() => VoprSweep.ParseSeeds(text));

    /// <summary>
    /// Seed 4 (78 nodes, a partition of half the cluster): after the heal the minority's dead
    /// verdicts reached majority members that had never heard the accusation, a legitimate brief
    /// false dead. The promise now excludes runs with a partition (see VoprRun.FalseDeadPromised).
    /// </summary>
    [Fact]
    public void Seed_4_a_partition_s_dead_verdicts_after_heal_are_outside_the_promise()
    {
        VoprResult result = VoprRun.Run(4);
        Assert.False(VoprRun.FalseDeadPromised(result.Scenario));
        Assert.True(result.Passed, Report(result));
    }

    /// <summary>
    /// Seed 120 (252 nodes, φ mode, 13.9 % loss in the fault phase): the initial join, without loss,
    /// never converged because φ mode sent only one datagram of heartbeat counters per round (see
    /// PhiModeTests.A_cluster_larger_than_one_datagram_of_counters_stays_whole, the short regression).
    /// </summary>
    [Fact]
    public void Seed_120_a_large_phi_mode_cluster_converges()
    {
        VoprResult result = VoprRun.Run(120);
        Assert.True(result.Passed, Report(result));
    }

    /// <summary>
    /// Seed 151 (3 nodes, φ mode, 16 % loss): two of the three members leave; node-0001 missed every
    /// copy of node-0002's leave (a transmit budget of 2), nobody who had seen it stayed, and φ then
    /// declared the silent member dead. A graceful leave is best effort under such loss (as in
    /// memberlist), so this run is outside the leave promise (VoprRun.LeavePromised); the weaker
    /// promise (dead only while no live member sees the departed member left) holds. Since the
    /// checksum probe and the φ heartbeat ring changed the draws, the leave now arrives in this
    /// run (it passes the strict check too): the test keeps the seed and the promise's scope.
    /// </summary>
    [Fact]
    public void Seed_151_a_leave_lost_under_heavy_loss_is_outside_the_leave_promise()
    {
        VoprResult result = VoprRun.Run(151);
        Assert.False(VoprRun.LeavePromised(result.Scenario));
        Assert.True(result.Passed, Report(result));
    }

    /// <summary>
    /// Seed 228 (3 nodes, 11.2 % loss): both other members leave for good, so the after-heal Count
    /// aggregate runs on one live member. Its estimate was exact (count 1, bound 0) for 466 rounds
    /// but never reported Converged: the sample window fills only with peers' estimates. A member
    /// alone in its view now takes its own last rounds as the window (AggregatesModule.Snapshot;
    /// AggregateNodeTests.Alone_a_node_s_exact_estimate_converges_but_not_while_a_live_peer_is_unheard
    /// is the short regression).
    /// </summary>
    [Fact]
    public void Seed_228_a_lone_survivor_s_aggregate_converges()
    {
        VoprResult result = VoprRun.Run(228);
        Assert.True(result.Passed, Report(result));
        Assert.True(result.Coverage.GetValueOrDefault("aggregate estimates") > 0, $"seed 228: no converged estimate was checked ({string.Join(", ", result.Coverage)})");
    }

    /// <summary>
    /// Seeds whose restarted members (fresh maps, newer generations) left their older generation's
    /// entries on every other node: checksums never agreed and stale values were served as current.
    /// Fixed by forgetting an owner's older generation when the member restarts
    /// (ReplicatedStateModule.OnMemberRestarted), also when the member had been reaped and comes
    /// back as new (seed 37). Seeds 14 and 38 (89 and 232 nodes) failed the same way; they are left
    /// to sweeps to keep this suite short.
    /// </summary>
    [Theory]
    [InlineData(23)]
    [InlineData(24)]
    [InlineData(29)]
    [InlineData(37)]
    public void A_restarted_member_s_older_generation_is_forgotten(ulong seed)
    {
        VoprResult result = VoprRun.Run(seed);
        Assert.True(result.Passed, Report(result));
    }

    /// <summary>
    /// The workload promises are not vacuous: over a few small seeds, each of them is actually
    /// checked (TTL'd keys expired and alive, deletes, events and last coalescing events delivered,
    /// query answers demanded, the aggregate's mass and converged estimates, joins).
    /// </summary>
    [Fact]
    public void Every_workload_promise_is_checked_on_small_seeds()
    {
        Dictionary<string, int> covered = [];
        foreach (ulong seed in SmallSeeds(6))
        {
            VoprResult result = VoprRun.Run(seed);
            Assert.True(result.Passed, Report(result));
            output.WriteLine($"seed {seed}: {string.Join(", ", result.Coverage.Select(c => $"{c.Key} {c.Value}"))}");
            foreach ((string what, int count) in result.Coverage)
            {
                covered[what] = covered.GetValueOrDefault(what) + count;
            }
        }

        foreach (string what in new[] { "ttl expired", "ttl live", "writes", "event deliveries", "coalesced deliveries", "query answers demanded", "aggregate mass", "aggregate estimates", "joins" })
        {
            Assert.True(covered.GetValueOrDefault(what) > 0, $"'{what}' never checked: {string.Join(", ", covered)}");
        }
    }

    /// <summary>Members that answer a query with someone else's name are reported (the answers are checked, not just counted).</summary>
    [Fact]
    public void A_forged_query_answer_is_reported()
    {
        ulong seed = SmallSeeds(1, s => s.QueriesAfterHeal > 0).Single();
        VoprResult result = VoprRun.Run(seed, sabotage: c =>
        {
            foreach (SimNode node in c.LiveNodes)
            {
                node.LiveNode.QueryResponder = _ => "someone-else"u8.ToArray();
            }
        });
        Assert.False(result.Passed);
        Assert.Contains(result.Violations, v => v.StartsWith("queries:", StringComparison.Ordinal) && v.Contains("carries 'someone-else'", StringComparison.Ordinal));
    }

    /// <summary>A node flooding its broadcast queue and event log with events nobody sent through the workload breaks the bounds.</summary>
    [Fact]
    public void A_flooded_broadcast_queue_breaks_the_bounds()
    {
        ulong seed = SmallSeeds(1).Single();
        VoprResult result = VoprRun.Run(seed, sabotage: c =>
        {
            SimNode node = c.LiveNodes.First();
            for (int i = 0; i < 500; i++)
            {
                node.Command((n, now) => n.SendEvent($"flood{i}", [], now));
            }
        });
        Assert.False(result.Passed);
        Assert.Contains(result.Violations, v => v.StartsWith("bounds:", StringComparison.Ordinal) && v.Contains("broadcasts", StringComparison.Ordinal));
        Assert.Contains(result.Violations, v => v.StartsWith("bounds:", StringComparison.Ordinal) && v.Contains("events", StringComparison.Ordinal));
    }

    /// <summary>The first seeds (from 1) that draw at most 8 nodes and, if given, match <paramref name="filter"/>.</summary>
    private static IEnumerable<ulong> SmallSeeds(int count, Func<VoprScenario, bool>? filter = null)
    {
        int found = 0;
        for (ulong seed = 1; found < count; seed++)
        {
            VoprScenario scenario = VoprScenario.Generate(seed);
            if (scenario.NodeCount <= 8 && (filter?.Invoke(scenario) ?? true))
            {
                found++;
                yield return seed;
            }
        }
    }

    private static string Report(VoprResult result) =>
        $"seed {result.Seed} failed ({result.ReplayCommand}): {result.Scenario.Describe()}{Environment.NewLine}" +
        string.Join(Environment.NewLine, result.Violations.Take(10)) + Environment.NewLine + string.Join(Environment.NewLine, result.Trace);
}
