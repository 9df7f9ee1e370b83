using Rumor.Core;
using Rumor.Core.Membership;
using Rumor.Core.Security;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;
using Xunit.Abstractions;

namespace Rumor.Simulation.Tests;

/// <summary>Issue 12 in virtual time: an encrypted cluster converges, and forged packets without the key change nothing.</summary>
public sealed class SecurityTests(ITestOutputHelper output)
{
    private static readonly byte[] Key = [.. Enumerable.Range(7, 32).Select(i => (byte)i)];
    private static readonly byte[] WrongKey = [.. Enumerable.Range(77, 32).Select(i => (byte)i)];

    [Fact]
    public void An_encrypted_cluster_converges_and_forgeries_without_the_key_are_dropped_and_counted()
    {
        using GossipKeyring keyring = new([Key], "sim");
        SimCluster cluster = Sim.Cluster(seed: 1201, nodes: 20, gossip: Sim.Lan with { Keyring = keyring });
        cluster.StartAll(TimeSpan.FromMilliseconds(10));
        TimeSpan took = Sim.Converge(cluster, TimeSpan.FromSeconds(30), "20 encrypted nodes joining");
        cluster.Nodes[3].Command((n, now) => n.SetValue("color", [1], now));
        cluster.RunFor(TimeSpan.FromSeconds(10));
        Assert.All(cluster.Nodes, n => Assert.Equal([1], n.LiveNode.GetValue(cluster.Nodes[3].Name, "color")?.Value));

        SimNode victim = cluster.Nodes[5];
        SimNode owner = cluster.Nodes[3];
        Member known = cluster.Nodes[0].LiveNode.FindMember(victim.Name)!;
        ulong ownerGeneration = owner.LiveNode.Self.Generation;
        byte[][] forgeries =
        [
            PacketBuilder.EncodeSingle(new DeadMessage(victim.Name, known.Incarnation + 1, known.Generation, "attacker")),
            PacketBuilder.EncodeSingle(new AliveMessage(victim.Name, Core.NodeAddress.Parse("10.66.66.66:1"), 0, ulong.MaxValue, ProtocolVersions.Current, [])),
            PacketBuilder.EncodeSingle(new AliveMessage("ghost", Core.NodeAddress.Parse("10.66.66.66:2"), 0, 1, ProtocolVersions.Current, [])),
            PacketBuilder.EncodeSingle(new StateDeltaMessage(false, [new OwnerDelta(owner.Name, ownerGeneration, false, 1, 1_000_000_000_000, [new StateEntry("color", 1_000_000_000_000, false, 0, [6])])])),
            PacketBuilder.EncodeSingle(new UserEventMessage("attacker", 1, 1, ulong.MaxValue, 0, "boom", [])),
        ];
        using GossipKeyring wrong = new([WrongKey], "sim");
        long refutationsBefore = cluster.Nodes.Sum(n => n.LiveNode.Counters.Refutations);
        cluster.At(cluster.Now, c =>
        {
            ulong counter = 0;
            foreach (SimNode node in c.Nodes)
            {
                foreach (byte[] forged in forgeries)
                {
                    node.LiveNode.OnPacket(victim.Address, forged, c.Now); // plaintext
                    byte[] envelope = new byte[forged.Length + PacketEnvelope.OverheadBytes];
                    PacketEnvelope.Seal(wrong, 0xBAD, ++counter, forged, envelope);
                    node.LiveNode.OnPacket(victim.Address, envelope, c.Now); // wrong key
                }
            }
        });
        cluster.RunFor(TimeSpan.FromSeconds(30));

        foreach (SimNode node in cluster.Nodes)
        {
            GossipNode n = node.LiveNode;
            Assert.Equal(forgeries.Length, n.Counters.PlaintextRefused);
            Assert.Equal(forgeries.Length, n.Counters.PacketsUnauthenticated);
            Assert.Equal(20, n.ActiveMemberCount);
            Assert.Null(n.FindMember("ghost"));
            Assert.Equal(MemberState.Alive, n.FindMember(victim.Name)!.State);
            Assert.Equal([1], n.GetValue(owner.Name, "color")?.Value);
            Assert.Empty(n.RecentEvents);
        }

        Assert.Equal(refutationsBefore, cluster.Nodes.Sum(n => n.LiveNode.Counters.Refutations)); // nobody had anything to refute
        Sim.NoViolations(cluster);
        output.WriteLine($"converged after {took.TotalSeconds:0.00} s virtual; seed {cluster.Seed}");
    }

    [Fact]
    public void A_running_cluster_migrates_to_encryption_without_a_restart()
    {
        // Step 1: every node has the key but sends plaintext and accepts both.
        using GossipKeyring keyring = new([Key]);
        SimCluster cluster = Sim.Cluster(seed: 1202, nodes: 10, gossip: Sim.Lan with { Keyring = keyring, EncryptOutgoing = false, VerifyIncoming = false });
        cluster.StartAll(TimeSpan.FromMilliseconds(10));
        Sim.Converge(cluster, TimeSpan.FromSeconds(30), "10 nodes in migration mode");
        Assert.All(cluster.Nodes, n => Assert.True(n.LiveNode.Counters.PlaintextAccepted > 0));

        // Step 2: node by node, one a second, start sealing; step 3: node by node, stop accepting plaintext.
        for (int i = 0; i < cluster.Nodes.Count; i++)
        {
            SimNode node = cluster.Nodes[i];
            cluster.At(cluster.Now + TimeSpan.FromSeconds(i), _ => node.Command((n, _) => n.EncryptOutgoing = true));
            cluster.At(cluster.Now + TimeSpan.FromSeconds(20 + i), _ => node.Command((n, _) => n.VerifyIncoming = true));
        }

        cluster.RunFor(TimeSpan.FromSeconds(60));
        Assert.True(cluster.MembershipAgrees(out string differences), differences);
        Assert.All(cluster.Nodes, n => Assert.Equal(10, n.LiveNode.ActiveMemberCount));
        Assert.All(cluster.Nodes, n => Assert.Equal(0, n.LiveNode.Counters.PlaintextRefused));
        Assert.All(cluster.Nodes, n => Assert.Equal(0, n.LiveNode.Counters.SuspicionsRaised));
        Sim.NoViolations(cluster);
    }
}
