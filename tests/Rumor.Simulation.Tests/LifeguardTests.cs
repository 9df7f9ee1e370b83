using Rumor.Core;
using Rumor.Core.FailureDetection;
using Rumor.Core.Membership;
using Rumor.Core.Wire;
using Xunit.Abstractions;

namespace Rumor.Simulation.Tests;

/// <summary>Lifeguard in the core, the stall guard, persisted identity and explained verdicts, in virtual time.</summary>
public sealed class LifeguardTests(ITestOutputHelper output)
{
    [Fact]
    public void A_node_cut_off_from_everyone_raises_its_health_score_and_probes_less_often()
    {
        SimCluster cluster = Sim.Cluster(seed: 1101, nodes: 10, gossip: Sim.Lan with { StreamFallbackProbe = false });
        cluster.StartAll(TimeSpan.FromMilliseconds(10));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "initial join");
        SimNode isolated = cluster.Nodes[3];
        Assert.Equal(0, isolated.LiveNode.LocalHealthScore);

        // Its probes fail and no helper's nack comes back: each failure adds the missing nacks.
        cluster.Network.Partition([[isolated]]);
        cluster.RunFor(TimeSpan.FromSeconds(20));
        int max = Sim.Lan.AwarenessMaxMultiplier - 1;
        if (isolated.LiveNode.LocalHealthScore != max)
        {
            Sim.Fail(cluster, $"health score {isolated.LiveNode.LocalHealthScore}, expected the maximum {max}");
        }

        long before = isolated.LiveNode.Counters.ProbesSent;
        cluster.RunFor(TimeSpan.FromSeconds(80));
        long probes = isolated.LiveNode.Counters.ProbesSent - before;

        // Interval × 8: 80 s hold at most 10 probe rounds instead of 80 (fewer probes once the
        // isolated node has declared the others dead and has no one left to probe).
        output.WriteLine($"{probes} probes in 80 s at score {isolated.LiveNode.LocalHealthScore}");
        Assert.InRange(probes, 5, 11);

        // Healed: successful probes bring the score back down one by one.
        cluster.Network.Heal();
        cluster.RunFor(TimeSpan.FromSeconds(90));
        Assert.Equal(0, isolated.LiveNode.LocalHealthScore);
        Sim.NoViolations(cluster);
    }

    [Fact]
    public void Nacks_keep_the_score_of_healthy_probers_at_zero_when_the_target_is_really_down()
    {
        foreach (bool nacks in new[] { true, false })
        {
            SimCluster cluster = Sim.Cluster(seed: 1102, nodes: 20, gossip: Sim.Lan with { IndirectProbeNacks = nacks, StreamFallbackProbe = false });
            cluster.StartAll(TimeSpan.FromMilliseconds(10));
            Sim.Converge(cluster, TimeSpan.FromSeconds(30), "initial join");
            cluster.Crash(cluster.Nodes[7]);
            SimNode[] live = cluster.LiveNodes.ToArray();

            // A raised score decays with the next successful probe: sample it often.
            HashSet<string> raisedNodes = [];
            cluster.RunUntil(
                () =>
                {
                    raisedNodes.UnionWith(live.Where(n => n.LiveNode.LocalHealthScore > 0).Select(n => n.Name));
                    return false;
                },
                TimeSpan.FromSeconds(20),
                TimeSpan.FromMilliseconds(50));
            long failed = live.Sum(n => n.LiveNode.Counters.ProbesFailed);
            long nacksReceived = live.Sum(n => n.LiveNode.Counters.NacksReceived);
            int raised = raisedNodes.Count;
            output.WriteLine($"nacks {(nacks ? "on" : "off")}: {failed} failed probes, {nacksReceived} nacks, {raised} nodes with a raised score");
            Assert.True(failed > 0, "somebody probed the crashed node");
            if (nacks)
            {
                // Every helper answered "target silent" in time: the probers' own paths are fine.
                Assert.True(nacksReceived >= failed, $"{nacksReceived} nacks for {failed} failed probes");
                Assert.Equal(0, raised);
            }
            else
            {
                Assert.Equal(0, nacksReceived);
                Assert.True(raised > 0, "without nacks a failed probe counts against the prober");
            }
        }
    }

    [Fact]
    public void A_suspicion_is_sent_to_the_suspect_and_rides_with_pings_to_it()
    {
        // Two nodes; b's datagrams to a are dropped, so a's probes of b fail while b hears a.
        SimCluster cluster = Sim.Cluster(seed: 1103, nodes: 2, gossip: Sim.Lan with { StreamFallbackProbe = false, IndirectChecks = 0 });
        SimNode a = cluster.Nodes[0];
        SimNode b = cluster.Nodes[1];
        cluster.StartAll(TimeSpan.FromMilliseconds(10));
        Sim.Converge(cluster, TimeSpan.FromSeconds(10), "initial join");

        List<(TimeSpan At, bool WithPing)> suspicionsToB = [];
        cluster.Network.Tap = (from, to, packet) =>
        {
            if (from == a && to == b.Address)
            {
                (bool suspect, bool ping) = Contents(packet, b.Name);
                if (suspect)
                {
                    suspicionsToB.Add((cluster.Now, ping));
                }
            }
        };
        TimeSpan? suspectedAt = null;
        cluster.Observe((node, e) =>
        {
            if (node == a && e is MemberChanged { Kind: MemberChangeKind.Suspected } && suspectedAt is null)
            {
                suspectedAt = e.At;
            }
        });
        cluster.Network.BlockDatagramsOneWay(b, a);
        cluster.RunFor(TimeSpan.FromSeconds(3));

        if (suspectedAt is null)
        {
            Sim.Fail(cluster, "a never suspected b");
        }

        Assert.Contains(suspicionsToB, s => s.At == suspectedAt && !s.WithPing);
        Assert.Contains(suspicionsToB, s => s.At >= suspectedAt && s.WithPing);

        // b heard it at once and refuted (its refutation cannot reach a: that is the blocked way).
        Assert.True(b.LiveNode.Counters.Refutations > 0, "b refuted");
        Assert.True(b.LiveNode.Self.Incarnation > 0);
        Sim.NoViolations(cluster);
    }

    private static (bool Suspect, bool Ping) Contents(byte[] packet, string about)
    {
        bool suspect = false;
        bool ping = false;
        if (PacketReader.TryOpen(packet, WireLimits.DatagramMaxBytes, out PacketReader reader) != DecodeError.None)
        {
            return (false, false);
        }

        while (reader.TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out _))
        {
            if (type == MessageType.Ping)
            {
                ping = true;
            }
            else if (type == MessageType.Suspect && Rumor.Core.Wire.Messages.SuspectMessage.TryDecode(payload, new NameTable(), out var message) == DecodeError.None && message.Name == about)
            {
                suspect = true;
            }
        }

        return (suspect, ping);
    }

    [Fact]
    public void The_stream_fallback_ping_prevents_suspicion_when_only_datagrams_are_blocked()
    {
        foreach (bool fallback in new[] { true, false })
        {
            // No indirect probes: only the fallback can save a probe of b by a.
            SimCluster cluster = Sim.Cluster(seed: 1104, nodes: 10, gossip: Sim.Lan with { IndirectChecks = 0, StreamFallbackProbe = fallback });
            cluster.StartAll(TimeSpan.FromMilliseconds(10));
            Sim.Converge(cluster, TimeSpan.FromSeconds(30), "initial join");
            SimNode a = cluster.Nodes[1];
            SimNode b = cluster.Nodes[2];
            cluster.Network.BlockDatagrams(a, b);
            cluster.RunFor(TimeSpan.FromSeconds(60));
            long accusations = a.LiveNode.Counters.AccusationsMade;
            long fallbackAcks = a.LiveNode.Counters.FallbackAcks;
            output.WriteLine($"fallback {(fallback ? "on" : "off")}: a accused {accusations} times, {fallbackAcks} probes saved by the stream");
            if (fallback)
            {
                Assert.Equal(0, accusations);
                Assert.True(fallbackAcks > 0);
                Assert.Contains(a.LiveNode.ProbeHistoryOf(b.Name), p => p.Outcome == ProbeOutcome.AckedStream);
                Assert.True(cluster.MembershipAgrees(out string differences), differences);
            }
            else
            {
                Assert.True(accusations > 0, "without the fallback a suspects b");
            }

            Sim.NoViolations(cluster);
        }
    }

    [Fact]
    public void A_reported_stall_withholds_the_nodes_accusations()
    {
        // Four nodes: the stalled one probes each of the other three in turn, so it probes the
        // crashed victim within three probe intervals, well before the others' suspicion of it
        // (at least SuspicionMultiplier probe intervals) ends. With ten nodes whether it reached the
        // victim before hearing it was dead was a matter of the seed (about half of them).
        SimCluster cluster = Sim.Cluster(seed: 1105, nodes: 4);
        cluster.StartAll(TimeSpan.FromMilliseconds(10));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "initial join");
        SimNode stalled = cluster.Nodes[1];
        SimNode victim = cluster.Nodes[3];

        // The shell of 'stalled' keeps reporting pauses; meanwhile a real crash happens.
        for (int i = 0; i < 40; i++)
        {
            cluster.At(cluster.Now + TimeSpan.FromSeconds(i), c => stalled.LiveNode.OnLocalStall(TimeSpan.FromSeconds(2), "test pause", c.Now));
        }

        cluster.Crash(victim);
        cluster.RunFor(TimeSpan.FromSeconds(40));
        NodeView(stalled, out long made, out long suppressed);
        output.WriteLine($"stalled node: {made} accusations, {suppressed} suppressed; stalls {stalled.LiveNode.Counters.LocalStalls}");
        Assert.Equal(0, made);
        Assert.True(suppressed > 0, "its failed probes of the crashed node were suppressed");

        // The others still convict the crashed node, and the stalled one learns it from them.
        Assert.All(cluster.LiveNodes, n => Assert.Equal(MemberState.Dead, n.StateOf(victim.Name)));
        Sim.NoViolations(cluster);
    }

    private static void NodeView(SimNode node, out long made, out long suppressed)
    {
        made = node.LiveNode.Counters.AccusationsMade;
        suppressed = node.LiveNode.Counters.AccusationsSuppressed;
    }

    [Fact]
    public void A_starved_node_detects_its_own_stalls_from_late_timers_and_accuses_no_one()
    {
        foreach (bool guard in new[] { true, false })
        {
            GossipOptions options = guard ? Sim.Lan : Sim.Lan with { StallGuard = TimeSpan.Zero, StallThreshold = TimeSpan.Zero };
            SimCluster cluster = Sim.Cluster(seed: 1106, nodes: 20, gossip: options);
            cluster.StartAll(TimeSpan.FromMilliseconds(10));
            Sim.Converge(cluster, TimeSpan.FromSeconds(30), "initial join");
            SimNode starved = cluster.Nodes[5];
            starved.Starve(new InputDelayModel(0.05, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)));
            cluster.RunFor(TimeSpan.FromSeconds(120));
            long made = starved.LiveNode.Counters.AccusationsMade;
            output.WriteLine($"guard {(guard ? "on" : "off")}: {starved.Freezes} freezes ({starved.FrozenTime.TotalSeconds:0} s), {starved.LiveNode.Counters.LocalStalls} stalls seen, {made} accusations, {starved.LiveNode.Counters.AccusationsSuppressed} suppressed");
            Assert.True(starved.Freezes > 3);
            if (guard)
            {
                Assert.True(starved.LiveNode.Counters.LocalStalls > 0);
                Assert.Equal(0, made);
            }
            else
            {
                Assert.True(made > 0, "unguarded, the starved node accuses healthy members");
            }
        }
    }

    [Fact]
    public void Restarting_all_hundred_nodes_at_once_with_persisted_identity_converges_within_the_suspicion_bound()
    {
        SimCluster cluster = Sim.Cluster(seed: 1107, nodes: 100);
        foreach (SimNode node in cluster.Nodes)
        {
            node.PersistIdentity = true;
        }

        cluster.StartAll(TimeSpan.FromMilliseconds(10));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "initial join");
        cluster.RunFor(TimeSpan.FromSeconds(5));
        Dictionary<string, (ulong Generation, uint Incarnation)> before = cluster.Nodes.ToDictionary(n => n.Name, n => (n.LiveNode.Self.Generation, n.LiveNode.Self.Incarnation));
        foreach (SimNode node in cluster.Nodes)
        {
            cluster.Crash(node);
        }

        cluster.RunFor(TimeSpan.FromSeconds(2));
        foreach (SimNode node in cluster.Nodes)
        {
            cluster.Restart(node);
        }

        GossipOptions o = Sim.Lan;
        TimeSpan bound = o.ProbeInterval * (o.SuspicionMaxTimeoutMultiplier * o.SuspicionMultiplier * Math.Log10(100));
        TimeSpan took = Sim.Converge(cluster, bound, "mass restart");
        output.WriteLine($"all 100 alive in all views {took.TotalSeconds:0.00} s after restarting at once (bound {bound.TotalSeconds:0} s)");
        foreach (SimNode node in cluster.Nodes)
        {
            Member self = node.LiveNode.Self;
            Assert.True(self.Generation > before[node.Name].Generation);
            Assert.True(self.Incarnation > before[node.Name].Incarnation, $"{node.Name} restarted at incarnation {self.Incarnation}, stored {before[node.Name].Incarnation}");
        }

        Sim.NoViolations(cluster);
    }

    [Fact]
    public void A_node_back_at_a_new_address_is_the_same_member_moved()
    {
        SimCluster cluster = Sim.Cluster(seed: 1108, nodes: 30);
        int conflicts = 0;
        cluster.Observe((_, e) => conflicts += e is NameConflict ? 1 : 0);
        cluster.StartAll(TimeSpan.FromMilliseconds(10));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "initial join");
        SimNode mover = cluster.Nodes[9];
        NodeAddress old = mover.Address;
        NodeAddress moved = new(0x0A000000u + 99, 7946);

        // Straight away: the others still hold it alive at the old address.
        cluster.RestartAt(mover, moved);
        TimeSpan? took = cluster.RunUntil(
            () => cluster.MembershipAgrees() && cluster.LiveNodes.All(n => n == mover || n.LiveNode.FindMember(mover.Name)?.Address == moved),
            TimeSpan.FromSeconds(30));
        if (took is null)
        {
            Sim.Fail(cluster, "not every view moved the member to its new address");
        }

        output.WriteLine($"moved from {old} to {moved}; every view agreed after {took!.Value.TotalSeconds:0.00} s");
        Assert.All(cluster.LiveNodes.Where(n => n != mover), n => Assert.Equal(moved, n.LiveNode.FindMember(mover.Name)!.Address));
        Assert.Equal(0, conflicts);
        Sim.NoViolations(cluster);
    }

    [Fact]
    public void Verdict_records_explain_who_accused_and_what_the_probes_showed()
    {
        SimCluster cluster = Sim.Cluster(seed: 1109, nodes: 20);
        cluster.StartAll(TimeSpan.FromMilliseconds(10));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "initial join");

        // Long enough for every node to have probed the victim successfully at least once.
        cluster.RunFor(TimeSpan.FromSeconds(40));
        SimNode victim = cluster.Nodes[11];
        TimeSpan crashedAt = cluster.Now;
        cluster.Crash(victim);
        TimeSpan? took = cluster.RunUntil(() => cluster.LiveNodes.All(n => n.StateOf(victim.Name) == MemberState.Dead), TimeSpan.FromSeconds(60));
        if (took is null)
        {
            Sim.Fail(cluster, "the crash was not detected");
        }

        foreach (SimNode node in cluster.LiveNodes)
        {
            VerdictRecord dead = node.LiveNode.Verdicts.Single(v => v.Member == victim.Name && v.Kind == VerdictKind.Dead);
            Assert.True(dead.At > crashedAt);
            Assert.Equal(victim.LiveNodeOrNull()?.Self.Generation ?? dead.Generation, dead.Generation);
            Assert.NotEmpty(dead.Accusers);
            Assert.InRange(dead.LocalHealthScore, 0, Sim.Lan.AwarenessMaxMultiplier - 1);
        }

        // The first accuser explains itself: its own failed probe, with the failure in its history.
        VerdictRecord first = cluster.LiveNodes
            .SelectMany(n => n.LiveNode.Verdicts)
            .Where(v => v.Member == victim.Name && v.Kind == VerdictKind.Suspect && v.Source == VerdictSource.OwnProbe && v.At > crashedAt)
            .MinBy(v => v.At)!;
        Assert.NotNull(first);
        SimNode accuser = cluster.Nodes.Single(n => n.Name == first.Accuser);
        Assert.Equal([accuser.Name], first.Accusers);
        ProbeRecord last = first.ProbeHistory[^1];
        Assert.Equal(ProbeOutcome.Failed, last.Outcome);
        Assert.Null(last.RoundTrip);
        Assert.True(last.At > crashedAt);
        Assert.Equal(3, last.IndirectSent);
        Assert.Contains(first.ProbeHistory, p => p.Outcome == ProbeOutcome.AckedDirect && p.RoundTrip > TimeSpan.Zero);
        Assert.NotNull(first.SuspicionDeadline);

        // The accuser's dead verdict came from its own suspicion's timeout, with confirmations.
        VerdictRecord verdict = accuser.LiveNode.Verdicts.Single(v => v.Member == victim.Name && v.Kind == VerdictKind.Dead);
        output.WriteLine($"first accuser {first.Accuser} at {first.At.TotalSeconds:0.00} s; its dead verdict: {verdict.Source}, accusers {string.Join(",", verdict.Accusers)}, {verdict.Confirmations} confirmations, deadline {verdict.SuspicionDeadline?.TotalSeconds:0.00} s");
        if (verdict.Source == VerdictSource.SuspicionTimeout)
        {
            Assert.Equal(first.Accuser, verdict.Accuser);
            Assert.Equal(verdict.Accusers.Count - 1, verdict.Confirmations);

            // Dynamic suspicion end to end: others' failed probes confirmed it, and the suspicion
            // ended well before its starting (maximum) timeout, at the minimum once k = 2 confirmed.
            GossipOptions o = Sim.Lan;
            TimeSpan min = o.ProbeInterval * (o.SuspicionMultiplier * Math.Log10(20));
            TimeSpan lasted = verdict.At - verdict.SuspectedAt!.Value;
            Assert.True(verdict.Confirmations >= 1, "confirmations arrived");
            Assert.InRange(lasted, min - TimeSpan.FromMilliseconds(1), (min * o.SuspicionMaxTimeoutMultiplier) - TimeSpan.FromSeconds(1));
            if (verdict.Confirmations == o.SuspicionMultiplier - 2)
            {
                Assert.True(lasted < min + TimeSpan.FromSeconds(1), $"with every expected confirmation the suspicion lasts the minimum {min.TotalSeconds:0.0} s, not {lasted.TotalSeconds:0.0} s");
            }
        }

        Sim.NoViolations(cluster);
    }

    [Fact]
    public void The_verdict_ring_is_bounded_and_counts_what_it_overwrites()
    {
        SimCluster cluster = Sim.Cluster(seed: 1110, nodes: 20, gossip: Sim.Lan with { VerdictsMax = 4 });
        cluster.StartAll(TimeSpan.FromMilliseconds(10));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "initial join");
        for (int i = 10; i < 15; i++)
        {
            cluster.Crash(cluster.Nodes[i]);
        }

        cluster.RunFor(TimeSpan.FromSeconds(60));
        VerdictLog log = cluster.Nodes[0].LiveNode.Verdicts;
        output.WriteLine($"written {log.Written}, kept {log.Count}, overwritten {log.Overwritten}");
        Assert.Equal(4, log.Count);
        Assert.True(log.Written >= 5);
        Assert.Equal(log.Written - 4, log.Overwritten);
        Assert.True(log.Zip(log.Skip(1)).All(p => p.First.At <= p.Second.At), "oldest first");
    }
}

internal static class SimNodeExtensions
{
    public static GossipNode? LiveNodeOrNull(this SimNode node) => node.IsUp ? node.Node : null;
}
