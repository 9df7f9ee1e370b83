using System.Text;
using Rumor.Core;
using Xunit.Abstractions;

namespace Rumor.Simulation.Tests;

/// <summary>Replicated key-value state in virtual time: spread, partitions, deletes, convergence detection.</summary>
public sealed class StateTests(ITestOutputHelper output)
{
    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>True when every live node holds the same digest (owners that never wrote are absent from digests).</summary>
    private static bool StatesEqual(SimCluster cluster)
    {
        string? reference = null;
        foreach (SimNode node in cluster.LiveNodes)
        {
            string digest = string.Join(";", node.LiveNode.StateDigest.Select(d => $"{d.Owner}/{d.Generation}/{d.MaxVersion}"));
            reference ??= digest;
            if (digest != reference)
            {
                return false;
            }
        }

        return reference is not null;
    }

    private static void Set(SimCluster cluster, SimNode node, string key, string value)
    {
        node.LiveNode.SetValue(key, Utf8(value), cluster.Now);
        node.ScheduleWake();
    }

    private static void Delete(SimCluster cluster, SimNode node, string key)
    {
        node.LiveNode.DeleteValue(key, cluster.Now);
        node.ScheduleWake();
    }

    private static TimeSpan RequireAgreement(SimCluster cluster, Func<bool> condition, TimeSpan bound, string what)
    {
        TimeSpan? took = cluster.RunUntil(condition, bound, TimeSpan.FromMilliseconds(250));
        if (took is null)
        {
            Sim.Fail(cluster, what);
        }

        return took!.Value;
    }

    [Fact]
    public void A_value_set_on_one_node_reaches_all_200_nodes_under_ten_percent_loss()
    {
        SimCluster cluster = Sim.Cluster(seed: 4001, nodes: 200, network: new NetworkOptions { LossProbability = 0.10 });
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(60), "200 nodes joining under loss");
        SimNode writer = cluster.Nodes[17];
        Set(cluster, writer, "config/feature-x", "on");
        TimeSpan took = RequireAgreement(
            cluster,
            () => cluster.LiveNodes.All(n => n.LiveNode.GetValue(writer.Name, "config/feature-x") is { } e && Encoding.UTF8.GetString(e.Value) == "on"),
            TimeSpan.FromSeconds(60),
            "the value did not reach all 200 nodes");
        output.WriteLine($"reached all 200 nodes in {took.TotalSeconds:0.0} s under 10% loss");
        Sim.NoViolations(cluster);
    }

    [Theory]
    [InlineData(GossipStrategy.Push)]
    [InlineData(GossipStrategy.Pull)]
    [InlineData(GossipStrategy.PushPull)]
    public void Every_strategy_converges(GossipStrategy strategy)
    {
        SimCluster cluster = Sim.Cluster(seed: 4100 + (ulong)strategy, nodes: 50, gossip: GossipOptions.Lan with { StateStrategy = strategy });
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "join");
        for (int i = 0; i < 10; i++)
        {
            Set(cluster, cluster.Nodes[i * 5], $"k{i}", $"v{i}");
        }

        TimeSpan took = RequireAgreement(cluster, () => StatesEqual(cluster), TimeSpan.FromSeconds(120), $"{strategy}: states did not converge");
        output.WriteLine($"{strategy}: 10 writes on 10 nodes converged in {took.TotalSeconds:0.0} s");
        Assert.All(cluster.LiveNodes, n => Assert.Equal(10, n.LiveNode.ListValues(prefix: "k").Count));
    }

    [Fact]
    public void A_partition_with_writes_on_both_sides_heals_with_every_write_and_no_resurrection()
    {
        SimCluster cluster = Sim.Cluster(seed: 4201, nodes: 40);
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "join");
        SimNode a = cluster.Nodes[2];
        SimNode b = cluster.Nodes[3];
        Set(cluster, a, "doomed", "1");
        Set(cluster, b, "doomed", "1");
        RequireAgreement(cluster, () => StatesEqual(cluster), TimeSpan.FromSeconds(60), "pre-partition writes did not spread");

        SimNode[] side = cluster.Nodes.Where(n => n.Index % 2 == 1).ToArray();
        cluster.Network.Partition([side]);
        Set(cluster, a, "left-side", "a");
        Delete(cluster, a, "doomed");
        Set(cluster, b, "right-side", "b");
        Delete(cluster, b, "doomed");
        cluster.RunFor(TimeSpan.FromSeconds(60));
        cluster.Network.Heal();

        TimeSpan took = RequireAgreement(
            cluster,
            () => cluster.MembershipAgrees() && StatesEqual(cluster),
            TimeSpan.FromSeconds(180),
            "after the partition healed, states did not converge");
        foreach (SimNode node in cluster.LiveNodes)
        {
            Assert.NotNull(node.LiveNode.GetValue(a.Name, "left-side"));
            Assert.NotNull(node.LiveNode.GetValue(b.Name, "right-side"));
            Assert.Null(node.LiveNode.GetValue(a.Name, "doomed"));
            Assert.Null(node.LiveNode.GetValue(b.Name, "doomed"));
        }

        output.WriteLine($"healed with all writes and deletes in {took.TotalSeconds:0.0} s");
        Sim.NoViolations(cluster);
    }

    [Fact]
    public void A_node_away_longer_than_the_grace_period_is_reset_instead_of_resurrecting_deletes()
    {
        GossipOptions options = GossipOptions.Lan with { TombstoneGracePeriod = TimeSpan.FromSeconds(60) };
        SimCluster cluster = Sim.Cluster(seed: 4301, nodes: 10, gossip: options);
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "join");
        SimNode owner = cluster.Nodes[1];
        SimNode away = cluster.Nodes[8];
        Set(cluster, owner, "gone-soon", "x");
        Set(cluster, owner, "stays", "y");
        RequireAgreement(cluster, () => StatesEqual(cluster), TimeSpan.FromSeconds(60), "initial write did not spread");

        // Cut one node off (it keeps running with its old copy), delete, and wait past the grace period.
        cluster.Network.Partition([[away]]);
        Delete(cluster, owner, "gone-soon");
        cluster.RunFor(TimeSpan.FromSeconds(200));
        Assert.NotNull(away.LiveNode.GetValue(owner.Name, "gone-soon"));
        Assert.True(owner.LiveNode.Counters.TombstonesCollected > 0, "the tombstone was collected");
        cluster.Network.Heal();

        RequireAgreement(
            cluster,
            () => cluster.MembershipAgrees() && cluster.LiveNodes.All(n => n.LiveNode.GetValue(owner.Name, "gone-soon") is null),
            TimeSpan.FromSeconds(180),
            "the deleted key came back or stayed on the node that was away");
        cluster.RunFor(TimeSpan.FromSeconds(30));
        Assert.All(cluster.LiveNodes, n => Assert.Null(n.LiveNode.GetValue(owner.Name, "gone-soon")));
        Assert.All(cluster.LiveNodes, n => Assert.NotNull(n.LiveNode.GetValue(owner.Name, "stays")));
    }

    [Fact]
    public void Convergence_is_reported_only_when_states_are_equal()
    {
        SimCluster cluster = Sim.Cluster(seed: 4401, nodes: 30, network: new NetworkOptions { LossProbability = 0.05 });
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(60), "join");
        int reportsChecked = 0;
        int everyoneAgreed = 0;
        for (int round = 0; round < 20; round++)
        {
            Set(cluster, cluster.Nodes[round % 30], $"key{round % 7}", $"value{round}");
            for (int step = 0; step < 40; step++)
            {
                cluster.RunFor(TimeSpan.FromMilliseconds(250));
                bool allReport = cluster.LiveNodes.All(n => n.LiveNode.GetStateConvergence().Converged);
                reportsChecked++;
                if (allReport)
                {
                    everyoneAgreed++;
                    Assert.True(StatesEqual(cluster), $"all nodes reported convergence at {cluster.Now} but states differ (seed {cluster.Seed})");
                }
            }
        }

        cluster.RunFor(TimeSpan.FromSeconds(60));
        Assert.True(StatesEqual(cluster));
        StateConvergence report = cluster.Nodes[0].LiveNode.GetStateConvergence();
        Assert.True(report.Converged, $"after quiet, node 1 should report convergence; differing: {string.Join(",", report.Differing)}; unknown: {string.Join(",", report.Unknown)}");
        Assert.NotNull(report.Since);
        output.WriteLine($"{everyoneAgreed} of {reportsChecked} checks had everyone reporting convergence; all were true");
    }

    [Fact]
    public void A_thousand_keys_written_at_once_converge_through_streams()
    {
        SimCluster cluster = Sim.Cluster(seed: 4501, nodes: 20);
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "join");
        SimNode writer = cluster.Nodes[4];
        for (int i = 0; i < 1000; i++)
        {
            writer.LiveNode.SetValue($"bulk/{i:D4}", Utf8(new string('x', 40)), cluster.Now);
        }

        writer.ScheduleWake();
        TimeSpan took = RequireAgreement(cluster, () => StatesEqual(cluster), TimeSpan.FromSeconds(120), "1,000 keys did not converge");
        Assert.All(cluster.LiveNodes, n => Assert.Equal(1000, n.LiveNode.ListValues(writer.Name, "bulk/").Count));
        Assert.True(cluster.Nodes.Sum(n => n.LiveNode.Counters.StateCatchUps) > 0, "large deltas went over streams");
        output.WriteLine($"1,000 keys converged in {took.TotalSeconds:0.0} s");
    }

    [Fact]
    public void Bloom_digests_converge()
    {
        SimCluster cluster = Sim.Cluster(seed: 4601, nodes: 60, gossip: GossipOptions.Lan with { StateDigestMode = DigestMode.Bloom, BloomFalsePositiveRate = 0.2 });
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "join");
        for (int i = 0; i < 30; i++)
        {
            Set(cluster, cluster.Nodes[i * 2], "k", $"v{i}");
        }

        RequireAgreement(cluster, () => StatesEqual(cluster), TimeSpan.FromSeconds(120), "Bloom digests did not converge");
    }

    [Fact]
    public void Watches_report_old_value_new_value_and_origin()
    {
        SimCluster cluster = Sim.Cluster(seed: 4701, nodes: 5);
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "join");
        SimNode watcher = cluster.Nodes[0];
        SimNode writer = cluster.Nodes[3];
        long watch = watcher.LiveNode.Watch("flags/");
        List<KeyChanged> seen = [];
        cluster.Observe((node, e) =>
        {
            if (node == watcher && e is KeyChanged change)
            {
                seen.Add(change);
            }
        });
        Set(cluster, writer, "flags/dark-mode", "on");
        Set(cluster, writer, "other/key", "ignored");
        RequireAgreement(cluster, () => seen.Count >= 1, TimeSpan.FromSeconds(30), "no watch event");
        Set(cluster, writer, "flags/dark-mode", "off");
        RequireAgreement(cluster, () => seen.Count >= 2, TimeSpan.FromSeconds(30), "no second watch event");
        Delete(cluster, writer, "flags/dark-mode");
        RequireAgreement(cluster, () => seen.Count >= 3, TimeSpan.FromSeconds(30), "no delete event");

        Assert.All(seen, c => Assert.Equal(watch, c.WatchId));
        Assert.All(seen, c => Assert.Equal(writer.Name, c.Owner));
        Assert.Null(seen[0].OldValue);
        Assert.Equal("on", Encoding.UTF8.GetString(seen[0].NewValue!));
        Assert.Equal("on", Encoding.UTF8.GetString(seen[1].OldValue!));
        Assert.Equal("off", Encoding.UTF8.GetString(seen[1].NewValue!));
        Assert.Null(seen[2].NewValue);
        Assert.DoesNotContain(seen, c => c.Key == "other/key");
    }

    [Fact]
    public void Expired_keys_are_deleted_everywhere()
    {
        SimCluster cluster = Sim.Cluster(seed: 4801, nodes: 10);
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "join");
        SimNode writer = cluster.Nodes[2];
        writer.LiveNode.SetValue("lease", Utf8("held"), cluster.Now, TimeSpan.FromSeconds(20));
        writer.ScheduleWake();
        RequireAgreement(cluster, () => cluster.LiveNodes.All(n => n.LiveNode.GetValue(writer.Name, "lease") is not null), TimeSpan.FromSeconds(15), "lease did not spread");
        RequireAgreement(cluster, () => cluster.LiveNodes.All(n => n.LiveNode.GetValue(writer.Name, "lease") is null), TimeSpan.FromSeconds(40), "lease did not expire everywhere");
    }

    [Fact]
    public void Least_recently_contacted_selection_with_zones_converges_and_publishes_zones()
    {
        SimCluster cluster = new(new SimulationOptions { Seed = Sim.SeedOr(5001), Gossip = GossipOptions.Lan with { StatePeerSelection = PeerSelection.LeastRecentlyContacted, CrossZoneShare = 0.5 } });
        cluster.AddNodes(30, node => GossipOptions.Lan with
        {
            StatePeerSelection = PeerSelection.LeastRecentlyContacted,
            CrossZoneShare = 0.5,
            Zone = node.Index % 3 == 0 ? "zone-a" : "zone-b",
            Seeds = cluster.SeedAddresses,
        });
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "join");
        Set(cluster, cluster.Nodes[4], "k", "v");
        RequireAgreement(cluster, () => StatesEqual(cluster) && cluster.LiveNodes.All(n => n.LiveNode.GetValue(cluster.Nodes[4].Name, "k") is not null), TimeSpan.FromSeconds(60), "did not converge");
        KeyValueEntry? zone = cluster.Nodes[7].LiveNode.GetValue(cluster.Nodes[3].Name, GossipNode.ZoneKey);
        Assert.Equal("zone-a", Encoding.UTF8.GetString(zone!.Value));
    }

    [Fact]
    public void Without_checksum_announcements_state_converges_and_convergence_is_seen_from_exchanges()
    {
        GossipOptions options = GossipOptions.Lan with { StateChecksumAnnounceMaxMembers = 0 };
        SimCluster cluster = Sim.Cluster(seed: 5101, nodes: 30, gossip: options);
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "join");
        for (int i = 0; i < 5; i++)
        {
            Set(cluster, cluster.Nodes[i * 6], "k", $"v{i}");
        }

        TimeSpan took = RequireAgreement(cluster, () => StatesEqual(cluster), TimeSpan.FromSeconds(60), "states did not converge without announcements");
        // Idle nodes talk only every M-th round here, so learning every peer's checksum takes a while.
        RequireAgreement(cluster, () => cluster.LiveNodes.All(n => n.LiveNode.GetStateConvergence().Converged), TimeSpan.FromMinutes(60), "convergence was never seen from exchanges alone");
        output.WriteLine($"converged in {took.TotalSeconds:0.0} s without announcements");
    }

    [Fact]
    public void A_difference_hidden_from_a_settled_cluster_is_found_by_checksum_probes()
    {
        // Without announcements a node settles ceil(log2 N) + 2 rounds after its last change and
        // then sends only checksum probes (every M-th round) instead of digests. A node cut off for
        // those rounds misses a write; once everyone has settled, only a probe can reveal it.
        GossipOptions options = GossipOptions.Lan with { StateChecksumAnnounceMaxMembers = 0, SuspicionMultiplier = 30 };
        SimCluster cluster = Sim.Cluster(seed: 5107, nodes: 20, gossip: options);
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "join");
        cluster.RunFor(TimeSpan.FromSeconds(20));
        SimNode cut = cluster.Nodes[19];
        cluster.Network.Partition([[cut], [.. cluster.Nodes.Take(19)]]);
        Set(cluster, cluster.Nodes[3], "k", "v");
        cluster.RunFor(TimeSpan.FromSeconds(25)); // every informed node settles well within this
        cluster.Network.Heal();
        Assert.Null(cut.LiveNode.GetValue(cluster.Nodes[3].Name, "k"));
        long mismatches = cluster.Nodes.Sum(n => n.LiveNode.Counters.StateProbeMismatches);

        TimeSpan took = RequireAgreement(cluster, () => StatesEqual(cluster) && cut.LiveNode.GetValue(cluster.Nodes[3].Name, "k") is not null, TimeSpan.FromSeconds(120), "the cut node never caught up");
        Assert.True(cluster.Nodes.Sum(n => n.LiveNode.Counters.StateProbeMismatches) > mismatches, "no probe saw the difference");
        Assert.True(cluster.Nodes.Sum(n => n.LiveNode.Counters.StateChecksumProbes) > 0);
        output.WriteLine($"caught up {took.TotalSeconds:0.0} s after the heal");
    }

    [Fact]
    public void Bad_keys_and_values_are_refused_with_a_clear_message()
    {
        SimCluster cluster = Sim.Cluster(seed: 4901, nodes: 1);
        cluster.StartAll();
        cluster.RunFor(TimeSpan.FromSeconds(1));
        GossipNode node = cluster.Nodes[0].LiveNode;
        ArgumentException tooBig = Assert.Throws<ArgumentException>(() => node.SetValue("k", new byte[node.Options.ValueMaxBytes + 1], cluster.Now));
        Assert.Contains("ValueMaxBytes", tooBig.Message, StringComparison.Ordinal);
        ArgumentException empty = Assert.Throws<ArgumentException>(() => node.SetValue("", [1], cluster.Now));
        Assert.Contains("KeyMaxBytes", empty.Message, StringComparison.Ordinal);
        Assert.Equal(0UL, node.DeleteValue("never-set", cluster.Now));
    }
}
