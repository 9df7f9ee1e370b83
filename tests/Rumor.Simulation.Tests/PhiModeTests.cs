using Rumor.Core;
using Rumor.Core.Membership;
using Rumor.Core.Wire;
using Xunit.Abstractions;

namespace Rumor.Simulation.Tests;

/// <summary>The heartbeat + φ-accrual detector mode, in virtual time.</summary>
public sealed class PhiModeTests(ITestOutputHelper output)
{
    private static readonly GossipOptions Phi = GossipOptions.Lan with { FailureDetector = FailureDetectorKind.PhiAccrual };

    private static SimCluster Converged(ulong seed, int nodes)
    {
        SimCluster cluster = Sim.Cluster(seed, nodes, gossip: Phi);
        cluster.StartAll(TimeSpan.FromMilliseconds(10));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "join in φ mode");

        // Let every detector learn the heartbeat timing.
        cluster.RunFor(TimeSpan.FromSeconds(60));
        return cluster;
    }

    [Fact]
    public void A_crash_is_suspected_within_six_seconds_and_declared_dead_everywhere()
    {
        SimCluster cluster = Converged(7001, 40);
        int suspicions = 0;
        cluster.Observe((_, e) => suspicions += e is MemberChanged { Kind: MemberChangeKind.Suspected } ? 1 : 0);
        Assert.True(cluster.MembershipAgrees(out string before), before);
        Assert.Equal(0, suspicions);
        Assert.All(cluster.Nodes, n => Assert.Equal(0, n.LiveNode.Counters.ProbesSent));

        SimNode victim = cluster.Nodes[13];
        cluster.Crash(victim);
        TimeSpan? suspected = cluster.RunUntil(() => cluster.LiveNodes.Any(n => n.StateOf(victim.Name) == MemberState.Suspect), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));
        if (suspected is null || suspected > TimeSpan.FromSeconds(6))
        {
            Sim.Fail(cluster, $"the crash was first suspected after {suspected?.TotalSeconds.ToString("0.00") ?? "more than 10"} s; target 6 s");
        }

        TimeSpan? dead = cluster.RunUntil(() => cluster.LiveNodes.All(n => n.StateOf(victim.Name) == MemberState.Dead), TimeSpan.FromSeconds(60));
        if (dead is null)
        {
            Sim.Fail(cluster, "the crash was not declared dead everywhere within 60 s");
        }

        output.WriteLine($"first suspicion {suspected!.Value.TotalSeconds:0.00} s after the crash; dead everywhere {(suspected.Value + dead!.Value).TotalSeconds:0.00} s after");
        Sim.NoViolations(cluster);
    }

    [Fact]
    public void A_pause_shorter_than_the_acceptable_pause_convicts_no_one()
    {
        SimCluster cluster = Converged(7002, 30);
        int suspicions = 0;
        cluster.Observe((_, e) => suspicions += e is MemberChanged { Kind: MemberChangeKind.Suspected } ? 1 : 0);
        SimNode paused = cluster.Nodes[5];

        // A 1.5 s silence (GC pause or network blip) against the 1.5 s acceptable pause (75 % of it), five times.
        for (int i = 0; i < 5; i++)
        {
            cluster.Network.Partition([[paused]]);
            cluster.RunFor(Phi.PhiAcceptablePause * 0.75);
            cluster.Network.Heal();
            cluster.RunFor(TimeSpan.FromSeconds(30));
        }

        Assert.Equal(0, suspicions);
        Assert.True(cluster.MembershipAgrees(out string differences), differences);
    }

    /// <summary>
    /// A member keeps sending its heartbeats to a member it suspects. B's datagrams to A are dropped
    /// (one way only), so A's φ of B rises and A suspects B, while A's datagrams still reach B. A
    /// used to send heartbeats only to members it held alive, so from that moment B heard nothing
    /// from A either and suspected A in turn, over a link that worked; two members who suspected
    /// each other this way stayed silent to each other and re-accused each other at every judgement
    /// (VOPR seed 7472, VoprTests, 121 s after the heal). Now B keeps hearing A's counter and never
    /// suspects it.
    /// </summary>
    [Theory]
    [InlineData(7011UL)]
    [InlineData(7012UL)]
    [InlineData(7013UL)]
    public void A_member_keeps_sending_heartbeats_to_a_member_it_suspects(ulong seed)
    {
        SimCluster cluster = Converged(seed, 2);
        SimNode a = cluster.Nodes[0];
        SimNode b = cluster.Nodes[1];
        TimeSpan? bSuspectedA = null;
        cluster.Observe((node, e) =>
        {
            // Only while A holds B suspect: once A declares B dead it rightly stops sending to it.
            if (node == b && e is MemberChanged { Kind: MemberChangeKind.Suspected } changed && changed.Member.Name == a.Name && a.StateOf(b.Name) == MemberState.Suspect)
            {
                bSuspectedA ??= e.At;
            }
        });
        cluster.Network.BlockDatagramsOneWay(b, a);
        TimeSpan? suspected = cluster.RunUntil(() => a.StateOf(b.Name) == MemberState.Suspect, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10));
        if (suspected is null)
        {
            Sim.Fail(cluster, $"seed {seed}: {a.Name} did not suspect {b.Name} within 10 s of hearing nothing from it");
        }

        TimeSpan? held = cluster.RunUntil(() => a.StateOf(b.Name) != MemberState.Suspect, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(10));
        output.WriteLine($"seed {seed}: {a.Name} suspected {b.Name} {suspected!.Value.TotalSeconds:0.00} s after the block and held it suspect for {held?.TotalSeconds.ToString("0.00") ?? "over 30"} s, then {a.StateOf(b.Name)}; {b.Name} suspected {a.Name} meanwhile: {(bSuspectedA is null ? "no" : "yes")}");

        // Long enough for B's φ of a silent A to pass the threshold (it did within the window on
        // every seed before the fix).
        Assert.True(held is null || held > Phi.PhiAcceptablePause * 2, $"seed {seed}: A held B suspect only {held?.TotalSeconds:0.00} s: too short a window to test");
        if (bSuspectedA is not null)
        {
            Sim.Fail(cluster, $"seed {seed}: {b.Name} suspected {a.Name} while {a.Name} suspected it, although every datagram from {a.Name} could reach it");
        }
    }

    [Fact]
    public void Ten_quiet_minutes_raise_no_suspicion()
    {
        SimCluster cluster = Converged(7003, 50);
        int suspicions = 0;
        cluster.Observe((_, e) => suspicions += e is MemberChanged { Kind: MemberChangeKind.Suspected } ? 1 : 0);
        cluster.RunFor(TimeSpan.FromMinutes(10));
        Assert.Equal(0, suspicions);
        double maxPhi = cluster.Nodes.Max(n => cluster.Nodes.Where(m => m != n).Max(m => n.LiveNode.PhiOf(m.Name, cluster.Now) ?? 0));
        output.WriteLine($"largest φ anywhere at the end: {maxPhi:0.00}");
        Assert.True(maxPhi < GossipOptions.Lan.PhiThreshold);
    }

    /// <summary>
    /// Each member sends its heartbeat table to its successor on the ring of alive members (by name)
    /// besides its random targets, so every member hears a table from its predecessor every
    /// HeartbeatInterval. With random targets only, an observer went without any datagram now and
    /// then for seconds (fanout 3 of 49: about a 5 % chance per interval), and in
    /// <see cref="Ten_quiet_minutes_raise_no_suspicion"/> (with the state checksum probe, whose
    /// different random draws moved the gap) one heard nothing for 3.6 s and convicted a live
    /// member it had last heard of 6 s before. Here: no member goes longer than 1.25 intervals
    /// without a Heartbeats datagram in two quiet minutes (before the ring, the longest silence
    /// in this run was well over two intervals).
    /// </summary>
    [Fact]
    public void Every_member_hears_a_heartbeat_table_every_interval()
    {
        SimCluster cluster = Converged(7005, 50);
        TimeSpan[] last = [.. cluster.Nodes.Select(_ => cluster.Now)];
        TimeSpan longest = TimeSpan.Zero;
        string? where = null;
        byte[] buffer = new byte[64 * 1024];
        cluster.Network.Tap = (from, to, packet) =>
        {
            SimNode? target = cluster.Nodes.FirstOrDefault(n => n.Address == to);
            if (target is null || !CarriesHeartbeats(packet, buffer))
            {
                return;
            }

            TimeSpan gap = cluster.Now - last[target.Index];
            if (gap > longest)
            {
                longest = gap;
                where = $"{target.Name} heard no heartbeats from {last[target.Index].TotalSeconds:0.000} s to {cluster.Now.TotalSeconds:0.000} s";
            }

            last[target.Index] = cluster.Now;
        };
        cluster.RunFor(TimeSpan.FromMinutes(2));
        TimeSpan end = cluster.Now;
        TimeSpan tail = cluster.Nodes.Max(n => end - last[n.Index]);
        output.WriteLine($"longest silence: {longest.TotalSeconds:0.000} s ({where}); longest at the end {tail.TotalSeconds:0.000} s");
        Assert.True(longest <= Phi.HeartbeatInterval * 1.25, $"{where} ({longest.TotalSeconds:0.000} s, HeartbeatInterval {Phi.HeartbeatInterval.TotalSeconds} s)");
        Assert.True(tail <= Phi.HeartbeatInterval * 1.25);
    }

    private static bool CarriesHeartbeats(byte[] packet, byte[] buffer)
    {
        if (PacketReader.TryOpen(packet, buffer.Length, buffer, out PacketReader reader) != DecodeError.None)
        {
            return false;
        }

        while (reader.TryNext(out MessageType type, out _, out _))
        {
            if (type == MessageType.Heartbeats)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// VOPR seed 120 (252 nodes, φ mode) never converged, with no loss at all during its join: each
    /// member sent only the counters that fit one datagram (about 50 with these names), so in a
    /// larger cluster an observer heard most members' counters at random, often seconds apart, and
    /// φ convicted live members all the time (before the fix, 100 nodes here: tens of thousands of
    /// suspicions in two minutes and no agreement). Now every counter is sent, in as many datagrams
    /// as it takes.
    /// </summary>
    [Fact]
    public void A_cluster_larger_than_one_datagram_of_counters_stays_whole()
    {
        SimCluster cluster = Converged(7004, 100);
        int suspicions = 0;
        cluster.Observe((_, e) => suspicions += e is MemberChanged { Kind: MemberChangeKind.Suspected } ? 1 : 0);
        cluster.RunFor(TimeSpan.FromMinutes(2));
        output.WriteLine($"suspicions in two quiet minutes at N = 100: {suspicions}");
        Assert.True(cluster.MembershipAgrees(out string differences), differences);
        Assert.True(suspicions < 100, $"{suspicions} suspicions of live members in two quiet minutes");
    }
}
