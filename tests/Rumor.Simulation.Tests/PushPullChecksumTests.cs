using Rumor.Core;
using Rumor.Core.Membership;
using Xunit.Abstractions;

namespace Rumor.Simulation.Tests;

/// <summary>
/// The checksum-first periodic push-pull (<see cref="GossipOptions.PushPullChecksumFirst"/>): a
/// converged cluster exchanges checksums instead of its member table, and a view that differs still
/// gets the full exchange.
/// </summary>
public sealed class PushPullChecksumTests(ITestOutputHelper output)
{
    [Fact]
    public void A_converged_cluster_exchanges_checksums_instead_of_its_member_table()
    {
        (long checksumFirst, long differing, long answeredSame, long sent) = IdleStreams(checksumFirst: true);
        (_, _, _, long full) = IdleStreams(checksumFirst: false);
        output.WriteLine($"stream bytes over 4 push-pull periods: {sent} checksum-first against {full} full; {checksumFirst} checksum push-pulls, {differing} differed, {answeredSame} answered the same");

        Assert.True(checksumFirst >= 60, $"only {checksumFirst} checksum-first push-pulls in four periods of 60 nodes");
        Assert.Equal(0, differing);
        Assert.Equal(checksumFirst, answeredSame);

        // A checksum exchange is a few dozen bytes each way; a full one carries 60 members each way.
        Assert.True(sent * 10 < full, $"checksum-first sent {sent} stream bytes, full push-pulls {full}");
    }

    [Fact]
    public void A_partition_whose_halves_declared_each_other_dead_heals_through_the_full_exchange_its_checksums_ask_for()
    {
        // No seed contacts: after the heal each side holds the other dead, so neither probes nor
        // gossips to it, and only the periodic reconnect to a dead member (a checksum-first
        // push-pull, whose checksums differ) can bring them together.
        GossipOptions options = Sim.Lan with { PushPullChecksumFirst = true, SeedContactEveryRounds = 0, PushPullInterval = TimeSpan.FromSeconds(10) };
        SimCluster cluster = Sim.Cluster(seed: 17, nodes: 12, gossip: options);
        cluster.StartAll(TimeSpan.FromMilliseconds(10));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "initial join");

        SimNode[] minority = [.. cluster.Nodes.Where(n => n.Index % 3 == 0)];
        cluster.Network.Partition([minority]);
        if (cluster.RunUntil(() => cluster.Nodes[1].StateOf(minority[0].Name) == MemberState.Dead && minority[0].StateOf(cluster.Nodes[1].Name) == MemberState.Dead, TimeSpan.FromSeconds(120)) is null)
        {
            Sim.Fail(cluster, "the halves did not declare each other dead within 120 s");
        }

        long differingBefore = cluster.Nodes.Sum(n => n.LiveNode.Counters.PushPullChecksumsDiffering);
        cluster.Network.Heal();
        TimeSpan took = Sim.Converge(cluster, TimeSpan.FromSeconds(180), "after the heal");
        long differing = cluster.Nodes.Sum(n => n.LiveNode.Counters.PushPullChecksumsDiffering) - differingBefore;
        output.WriteLine($"one view {took.TotalSeconds:0.0} s after the heal; {differing} checksum-first push-pulls differed and went on to the full exchange");
        Assert.True(differing > 0, "the heal came without any checksum-first push-pull that differed");
        Sim.NoViolations(cluster);
    }

    [Fact]
    public void Phi_mode_keeps_full_push_pulls()
    {
        // φ's suspicions are confirmed by the hearsay of full exchanges (BENCHMARKS, session 17).
        SimCluster cluster = Sim.Cluster(seed: 9, nodes: 10, gossip: Sim.Lan with { PushPullChecksumFirst = true, FailureDetector = FailureDetectorKind.PhiAccrual, PushPullInterval = TimeSpan.FromSeconds(5) });
        cluster.StartAll(TimeSpan.FromMilliseconds(10));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "initial join");
        long opened = cluster.Nodes.Sum(n => n.LiveNode.Counters.StreamsOpened);
        cluster.RunFor(TimeSpan.FromSeconds(60));

        Assert.True(cluster.Nodes.Sum(n => n.LiveNode.Counters.StreamsOpened) - opened >= 60, "too few periodic push-pulls to show anything");
        Assert.Equal(0, cluster.Nodes.Sum(n => n.LiveNode.Counters.PushPullChecksumsSent));
    }

    [Fact]
    public void The_checksum_is_the_same_for_the_same_members_in_any_order_and_changes_with_any_field()
    {
        Member a = new("a", new NodeAddress(0x7F000001, 7946), isLocal: false) { Incarnation = 3, Generation = 7, State = MemberState.Alive };
        Member b = new("b", new NodeAddress(0x7F000002, 7946), isLocal: false) { Incarnation = 1, Generation = 9, State = MemberState.Suspect };
        ulong ab = MembershipChecksum.Of([a, b], 0);
        Assert.Equal(ab, MembershipChecksum.Of([b, a], 0));
        Assert.NotEqual(ab, MembershipChecksum.Of([a], 0));
        Assert.NotEqual(ab, MembershipChecksum.Of([a, b], 1)); // the keyring version counts

        foreach (Action<Member> change in new Action<Member>[]
        {
            m => m.Incarnation++,
            m => m.Generation++,
            m => m.State = MemberState.Dead,
            m => m.Address = new NodeAddress(0x7F000002, 7947),
        })
        {
            Member b2 = new("b", b.Address, isLocal: false) { Incarnation = b.Incarnation, Generation = b.Generation, State = b.State };
            change(b2);
            Assert.NotEqual(ab, MembershipChecksum.Of([a, b2], 0));
        }

        Assert.True(MembershipChecksum.TryFind([MembershipChecksum.Encode(ab)], out ulong decoded));
        Assert.Equal(ab, decoded);
        Assert.False(MembershipChecksum.TryFind([new Core.Wire.Messages.StateSection(MembershipChecksum.Kind, [1, 2, 3])], out _));
    }

    /// <summary>Stream traffic of 60 converged idle nodes over four push-pull periods (scaled for 60 members: 2 × 30 s).</summary>
    private static (long ChecksumFirst, long Differing, long AnsweredSame, long StreamBytes) IdleStreams(bool checksumFirst)
    {
        SimCluster cluster = Sim.Cluster(seed: 61, nodes: 60, gossip: Sim.Lan with { PushPullChecksumFirst = checksumFirst, SeedContactEveryRounds = 4 });
        cluster.StartAll(TimeSpan.FromMilliseconds(10));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "initial join");
        cluster.RunFor(TimeSpan.FromSeconds(120));
        Sim.Converge(cluster, TimeSpan.FromSeconds(1), "settled");

        long[] before = [.. cluster.Nodes.Select(n => n.LiveNode.Counters.StreamBytesSent)];
        (long, long, long) countersBefore = Sums(cluster);
        cluster.RunFor(TimeSpan.FromSeconds(240));
        (long sentNow, long differingNow, long sameNow) = Sums(cluster);
        long bytes = cluster.Nodes.Select((n, i) => n.LiveNode.Counters.StreamBytesSent - before[i]).Sum();
        Sim.NoViolations(cluster);
        return (sentNow - countersBefore.Item1, differingNow - countersBefore.Item2, sameNow - countersBefore.Item3, bytes);
    }

    private static (long Sent, long Differing, long Same) Sums(SimCluster cluster) =>
        (cluster.Nodes.Sum(n => n.LiveNode.Counters.PushPullChecksumsSent),
         cluster.Nodes.Sum(n => n.LiveNode.Counters.PushPullChecksumsDiffering),
         cluster.Nodes.Sum(n => n.LiveNode.Counters.PushPullChecksumsAnsweredSame));
}
