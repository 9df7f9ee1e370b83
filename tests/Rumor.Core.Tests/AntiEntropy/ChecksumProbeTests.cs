using Rumor.Core.Randomness;
using Rumor.Core.Tests.Security;
using Rumor.Core.Tests.Support;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.AntiEntropy;

/// <summary>A checksum probe (a digest with no request and no lines, PROTOCOL.md §6.7) fed to one node by hand.</summary>
public class ChecksumProbeTests
{
    private static readonly NodeAddress PeerAddress = NodeAddress.Parse("10.0.0.2:7946");

    private static (GossipNode Node, Recorder Host) StartWithPeerAndOneKey()
    {
        Recorder host = new();
        GossipNode node = NodeSecurityTests.NewNode(host, keyring: null);
        node.Start(TimeSpan.Zero);
        node.OnPacket(PeerAddress, PacketBuilder.EncodeSingle(new AliveMessage("peer", PeerAddress, 1, 5, ProtocolVersions.Current, [])), TimeSpan.FromMilliseconds(1));
        node.SetValue("k", [1, 2, 3], TimeSpan.FromMilliseconds(2));
        host.Sent.Clear();
        host.SentTo.Clear();
        return (node, host);
    }

    private static List<StateDigestMessage> DigestsSent(Recorder host, NameTable names)
    {
        List<StateDigestMessage> digests = [];
        foreach (byte[] packet in host.Sent)
        {
            List<object?> messages = [];
            Assert.Equal(DecodeError.None, Packets.DecodeAll(packet, 64 * 1024, names, messages));
            digests.AddRange(messages.OfType<StateDigestMessage>());
        }

        return digests;
    }

    [Fact]
    public void A_probe_with_a_different_checksum_starts_a_push_pull_exchange_with_the_prober()
    {
        (GossipNode node, Recorder host) = StartWithPeerAndOneKey();
        ulong theirs = node.StateChecksum ^ 1;
        node.OnPacket(PeerAddress, PacketBuilder.EncodeSingle(new StateDigestMessage(DigestFlags.None, "peer", theirs, [], null)), TimeSpan.FromSeconds(1));

        Assert.Equal(1, node.Counters.StateProbeMismatches);
        StateDigestMessage answer = Assert.Single(DigestsSent(host, new NameTable()));
        Assert.Equal(PeerAddress, Assert.Single(host.SentTo));
        Assert.Equal(DigestFlags.WantDeltas | DigestFlags.WantDigest, answer.Flags & ~DigestFlags.Bloom);
        Assert.Equal(node.StateChecksum, answer.Checksum);
        Assert.Contains(answer.Entries, e => e.Owner == "self" && e.MaxVersion == 1);
    }

    [Fact]
    public void A_probe_with_our_checksum_is_answered_with_nothing()
    {
        (GossipNode node, Recorder host) = StartWithPeerAndOneKey();
        node.OnPacket(PeerAddress, PacketBuilder.EncodeSingle(new StateDigestMessage(DigestFlags.None, "peer", node.StateChecksum, [], null)), TimeSpan.FromSeconds(1));

        Assert.Equal(0, node.Counters.StateProbeMismatches);
        Assert.Empty(DigestsSent(host, new NameTable()));
    }

    [Fact]
    public void A_settled_node_sends_probes_of_constant_size_instead_of_digests()
    {
        // Without announcements the node settles after ceil(log2 2) + 2 = 3 unchanged rounds; then
        // only full-sync rounds (every 2nd here) and seed contacts talk, and they send probes.
        Recorder host = new();
        GossipNode node = new(GossipOptions.Lan with
        {
            Name = "self",
            Generation = 1,
            AdvertiseAddress = NodeAddress.Parse("10.0.0.1:7946"),
            StateChecksumAnnounceMaxMembers = 0,
            StateFullSyncEveryRounds = 2,
            StateSeedEveryRounds = 0,
        }, host, new Xoshiro256StarStar(1));
        node.Start(TimeSpan.Zero);
        node.OnPacket(PeerAddress, PacketBuilder.EncodeSingle(new AliveMessage("peer", PeerAddress, 1, 5, ProtocolVersions.Current, [])), TimeSpan.FromMilliseconds(1));
        node.SetValue("k", [1, 2, 3], TimeSpan.FromMilliseconds(2));
        TimeSpan now = TimeSpan.FromMilliseconds(2);
        uint incarnation = 1;
        void Run(int ticks)
        {
            for (int i = 0; i < ticks; i++)
            {
                now += TimeSpan.FromMilliseconds(100);
                if (i % 5 == 0)
                {
                    // The peer never acks our pings; a newer incarnation every 0.5 s keeps it alive.
                    node.OnPacket(PeerAddress, PacketBuilder.EncodeSingle(new AliveMessage("peer", PeerAddress, ++incarnation, 5, ProtocolVersions.Current, [])), now);
                }

                node.OnTick(now);
            }
        }

        Run(400);
        host.Sent.Clear();
        long probes = node.Counters.StateChecksumProbes;
        Run(100);

        List<StateDigestMessage> digests = DigestsSent(host, new NameTable());
        Assert.True(node.Counters.StateChecksumProbes - probes >= 3, $"{node.Counters.StateChecksumProbes - probes} probes in 10 s");
        Assert.NotEmpty(digests);
        Assert.All(digests, d =>
        {
            Assert.Equal(DigestFlags.None, d.Flags);
            Assert.Empty(d.Entries);
            Assert.Null(d.Bloom);
            Assert.Equal(node.StateChecksum, d.Checksum);
        });
    }
}
