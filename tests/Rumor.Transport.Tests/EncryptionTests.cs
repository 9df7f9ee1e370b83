using System.Net.Sockets;
using Rumor.Core;
using Rumor.Core.Membership;
using Rumor.Core.Security;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;
using Rumor.Transport.Tests.Support;

namespace Rumor.Transport.Tests;

/// <summary>Encrypted gossip over real sockets on loopback (issue 12).</summary>
public sealed class EncryptionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Three_encrypted_nodes_converge_and_ignore_a_forged_plaintext_dead()
    {
        using GossipKeyring keyring = new([GossipKeyring.ParseKey(GossipKeyring.GenerateKey())], "loopback");
        List<GossipTransport> nodes = [];
        try
        {
            for (int i = 1; i <= 3; i++)
            {
                nodes.Add(await GossipTransport.StartAsync(LocalCluster.FastOptions($"enc-{i}") with { Keyring = keyring }));
            }

            for (int i = 1; i < 3; i++)
            {
                JoinResult result = await nodes[i].JoinAsync([nodes[0].Address]);
                Assert.True(result.Succeeded.Count == 1, string.Join("; ", result.Failed.Select(f => f.Reason)));
            }

            await LocalCluster.WaitUntilAsync(nodes, view => LocalCluster.AllAlive(view, 3), Bound, "every node seeing 3 alive members");

            GossipTransport victim = nodes[2];
            MemberSnapshot seen = nodes[0].Members.Single(m => m.Name == victim.Name);
            byte[] forged = PacketBuilder.EncodeSingle(new DeadMessage(victim.Name, seen.Incarnation + 1, seen.Generation, "attacker"));
            using (Socket attacker = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
            {
                foreach (GossipTransport target in nodes.Take(2))
                {
                    await attacker.SendToAsync(forged, SocketFlags.None, target.Address.ToIPEndPoint());
                }
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
            foreach (GossipTransport node in nodes.Take(2))
            {
                long refused = await node.InvokeAsync(n => n.Counters.PlaintextRefused);
                Assert.Equal(1, refused);
                string why = await node.InvokeAsync(n => $"unauthenticated {n.Counters.PacketsUnauthenticated}, replays {n.Counters.ReplaysRefused}, decode {n.Counters.DecodeFailures}, verdicts: {string.Join("; ", n.Verdicts.Select(v => v.ToString()))}");
                Assert.False(LocalCluster.SeesAs(node.Members, victim.Name, MemberState.Dead), $"{node.Name} sees {victim.Name} dead ({why})");
            }

            await LocalCluster.WaitUntilAsync(nodes, view => LocalCluster.AllAlive(view, 3), Bound, "every node still seeing 3 alive members");

            // "Nobody refutes" is checked in virtual time (Rumor.Simulation.Tests.SecurityTests): on a
            // loaded machine these fast timings can make the victim refute an honest suspicion.
        }
        finally
        {
            foreach (GossipTransport node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }
}
