using System.Text;
using Rumor.Core;
using Rumor.Core.AntiEntropy;
using Rumor.Core.Membership;

namespace Rumor.Simulation.Tests;

/// <summary>
/// The simulator's shared parts of the N² records (issue 17): every node's record of a member holds
/// the same identity object (name, generation, address) and every node's state row of an owner the
/// same owner key, and a restart moves every holder to one new instance without touching the old one.
/// </summary>
public sealed class SharedRecordTests
{
    [Fact]
    public void Every_node_holds_one_shared_identity_per_member_and_one_owner_key_per_owner_across_a_restart()
    {
        SimCluster cluster = Sim.Cluster(seed: 2901, nodes: 12);
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "join");
        foreach (SimNode node in cluster.Nodes)
        {
            node.LiveNode.SetValue("k", Encoding.UTF8.GetBytes("v-" + node.Name), cluster.Now);
        }

        bool StateSpread() => cluster.LiveNodes.All(n => cluster.LiveNodes.All(o => n.LiveNode.GetValue(o.Name, "k") is not null));
        if (cluster.RunUntil(StateSpread, TimeSpan.FromSeconds(30)) is null)
        {
            Sim.Fail(cluster, "the keys did not reach every node");
        }

        AssertShared(cluster);
        SimNode restarted = cluster.Nodes[5];
        MemberIdentity before = cluster.Nodes[0].LiveNode.FindMember(restarted.Name)!.Identity;
        ulong oldGeneration = before.Generation; // read before the restart, which must not change this instance
        cluster.Crash(restarted);
        cluster.RunFor(TimeSpan.FromSeconds(2));
        cluster.Restart(restarted);
        restarted.LiveNode.SetValue("k", Encoding.UTF8.GetBytes("again"), cluster.Now);
        bool Back() => cluster.LiveNodes.All(n => n.LiveNode.FindMember(restarted.Name) is { State: MemberState.Alive } m
            && m.Generation == restarted.LiveNode.Self.Generation
            && n.LiveNode.GetValue(restarted.Name, "k") is { } e && Encoding.UTF8.GetString(e.Value) == "again");
        if (cluster.RunUntil(Back, TimeSpan.FromSeconds(60)) is null)
        {
            Sim.Fail(cluster, "the restarted node's new generation and key did not reach every node");
        }

        AssertShared(cluster);
        MemberIdentity after = cluster.Nodes[0].LiveNode.FindMember(restarted.Name)!.Identity;
        Assert.NotSame(before, after);
        Assert.True(after.Generation > oldGeneration);
        Assert.Equal(oldGeneration, before.Generation); // the old instance was replaced, not changed
        Sim.NoViolations(cluster);
    }

    private static void AssertShared(SimCluster cluster)
    {
        SimNode[] live = [.. cluster.LiveNodes];
        foreach (SimNode owner in live)
        {
            MemberIdentity identity = live[0].LiveNode.FindMember(owner.Name)!.Identity;
            Assert.Equal(owner.LiveNode.Self.Generation, identity.Generation);
            Assert.Equal(owner.LiveNode.Self.Address, identity.Address);
            OwnerKey key = RowOf(live[0], owner.Name).Key;
            foreach (SimNode holder in live)
            {
                Assert.Same(identity, holder.LiveNode.FindMember(owner.Name)!.Identity);
                Assert.Same(key, RowOf(holder, owner.Name).Key);
            }
        }
    }

    private static OwnerState RowOf(SimNode holder, string owner) =>
        holder.LiveNode.Module<ReplicatedStateModule>().Store.Find(owner) ?? throw new InvalidOperationException($"{holder.Name} holds no row of {owner}");
}
