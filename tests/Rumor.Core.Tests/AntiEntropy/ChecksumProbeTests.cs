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
        GossipNode node = StartWithPeerAndOneKey(host);
        host.Sent.Clear();
        host.SentTo.Clear();
        return (node, host);
    }

    /// <summary>A node that knows "peer" and has written key "k".</summary>
    private static GossipNode StartWithPeerAndOneKey(IGossipHost host)
    {
        GossipNode node = NodeSecurityTests.NewNode(host, keyring: null);
        node.Start(TimeSpan.Zero);
        node.OnPacket(PeerAddress, PacketBuilder.EncodeSingle(new AliveMessage("peer", PeerAddress, 1, 5, ProtocolVersions.Current, [])), TimeSpan.FromMilliseconds(1));
        node.SetValue("k", [1, 2, 3], TimeSpan.FromMilliseconds(2));
        return node;
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

    /// <summary>A host that keeps the streams a node opens and the replies it gives.</summary>
    private sealed class StreamRecorder : IGossipHost
    {
        public List<(long Id, NodeAddress To, byte[] Request)> Opened { get; } = [];

        public List<byte[]> Replies { get; } = [];

        public void SendPacket(NodeAddress to, ReadOnlySpan<byte> packet)
        {
        }

        public void OpenStream(long streamId, NodeAddress to, ReadOnlySpan<byte> request) => Opened.Add((streamId, to, request.ToArray()));

        public void ReplyStream(long streamId, ReadOnlySpan<byte> response) => Replies.Add(response.ToArray());

        public void OnEvent(GossipEvent gossipEvent)
        {
        }
    }

    private static (GossipNode Node, StreamRecorder Host) StartStreamNode()
    {
        StreamRecorder host = new();
        return (StartWithPeerAndOneKey(host), host);
    }

    private static List<object?> Decode(byte[] packet)
    {
        List<object?> messages = [];
        Assert.Equal(DecodeError.None, Packets.DecodeAll(packet, 16 * 1024 * 1024, new NameTable(), messages));
        return messages;
    }

    [Fact]
    public void A_stream_digest_with_our_checksum_is_answered_with_an_empty_delta_and_no_digest()
    {
        (GossipNode node, StreamRecorder host) = StartStreamNode();
        DigestFlags both = DigestFlags.WantDeltas | DigestFlags.WantDigest;
        node.OnStreamRequest(1, PeerAddress, PacketBuilder.EncodeSingle(new StateDigestMessage(both, "peer", node.StateChecksum, [.. node.StateDigest], null)), TimeSpan.FromSeconds(1));

        List<object?> reply = Decode(Assert.Single(host.Replies));
        StateDeltaMessage delta = Assert.IsType<StateDeltaMessage>(Assert.Single(reply));
        Assert.Empty(delta.Owners);
        Assert.False(delta.MorePending);
        Assert.Equal(1, node.Counters.StateStreamDigestsEqual);

        // A digest without our key (another checksum): our key's delta and our digest go back.
        host.Replies.Clear();
        node.OnStreamRequest(2, PeerAddress, PacketBuilder.EncodeSingle(new StateDigestMessage(both, "peer", node.StateChecksum ^ 1, [], null)), TimeSpan.FromSeconds(2));
        reply = Decode(Assert.Single(host.Replies));
        Assert.Equal(2, reply.Count);
        Assert.Contains(Assert.IsType<StateDeltaMessage>(reply[0]).Owners, o => o.Owner == "self" && o.Entries.Any(e => e.Key == "k"));
        Assert.Equal(node.StateChecksum, Assert.IsType<StateDigestMessage>(reply[1]).Checksum);
        Assert.Equal(1, node.Counters.StateStreamDigestsEqual);
    }

    [Fact]
    public void A_reply_digest_with_our_checksum_starts_no_push_and_one_without_our_key_does()
    {
        foreach (bool equal in new[] { true, false })
        {
            (GossipNode node, StreamRecorder host) = StartStreamNode();

            // Deltas that say more is pending make the node fetch the rest over a stream, with its digest.
            node.OnPacket(PeerAddress, PacketBuilder.EncodeSingle(new StateDeltaMessage(true, [])), TimeSpan.FromSeconds(1));
            (long id, NodeAddress to, byte[] _) = Assert.Single(host.Opened);
            Assert.Equal(PeerAddress, to);

            ulong checksum = equal ? node.StateChecksum : node.StateChecksum ^ 1;
            byte[] response = PacketBuilder.EncodePacket([
                PacketBuilder.EncodeMessage(new StateDeltaMessage(false, [])),
                PacketBuilder.EncodeMessage(new StateDigestMessage(DigestFlags.WantDeltas, "peer", checksum, equal ? [.. node.StateDigest] : [], null)),
            ]);
            node.OnStreamResponse(id, response, TimeSpan.FromSeconds(2));

            Assert.Equal(equal ? 1 : 0, node.Counters.StateStreamDigestsEqual);
            if (equal)
            {
                Assert.Single(host.Opened); // nothing to push
            }
            else
            {
                // Step three of the push-pull: our key, to a peer whose digest lacks it.
                Assert.Equal(2, host.Opened.Count);
                StateDeltaMessage push = Assert.IsType<StateDeltaMessage>(Assert.Single(Decode(host.Opened[1].Request)));
                Assert.Contains(push.Owners, o => o.Owner == "self" && o.Entries.Any(e => e.Key == "k"));
            }
        }
    }
}
