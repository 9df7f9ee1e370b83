using Rumor.Core.Modules;
using Rumor.Core.Randomness;
using Rumor.Core.Tests.Aggregates;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Modules;

/// <summary>
/// The packet builder the nodes of one thread share (<c>GossipNode.StartBuilding</c> / <c>SendBuilt</c>):
/// a node mid-packet keeps its builder while another node on the thread builds and sends, each
/// packet holds exactly its own messages, and a builder given back serves the next packet.
/// </summary>
public sealed class PacketBuilderSharingTests
{
    private static readonly NodeAddress Peer = NodeAddress.Parse("10.0.0.9:7946");

    [Fact]
    public void A_node_mid_packet_keeps_its_builder_while_another_node_on_the_thread_sends()
    {
        (GossipNode a, RecordingHost hostA) = Start("a", "10.0.0.1:7946");
        (GossipNode b, RecordingHost hostB) = Start("b", "10.0.0.2:7946");
        IModuleContext contextA = a;
        IModuleContext contextB = b;
        hostA.Packets.Clear();
        hostB.Packets.Clear();

        PacketBuilder builderA = contextA.StartPacket();
        Assert.True(builderA.TryAdd(new AckMessage(1)));

        PacketBuilder builderB = contextB.StartPacket(); // a holds its builder: b gets another
        Assert.NotSame(builderA, builderB);
        Assert.True(builderB.TryAdd(new AckMessage(2)));
        contextB.SendStartedPacket(Peer, piggyback: false);

        Assert.True(builderA.TryAdd(new AckMessage(3)));
        contextA.SendStartedPacket(Peer, piggyback: false);

        Assert.Equal([1u, 3u], Acks(Assert.Single(hostA.Packets).Packet));
        Assert.Equal([2u], Acks(Assert.Single(hostB.Packets).Packet));

        // Both given back: the thread keeps one, and the next packet of either node is built in it.
        PacketBuilder next = contextA.StartPacket();
        Assert.True(ReferenceEquals(next, builderA) || ReferenceEquals(next, builderB));
        Assert.Equal(0, next.Count);
        contextA.SendStartedPacket(Peer, piggyback: false);
        Assert.Same(next, contextB.StartPacket());
        contextB.SendStartedPacket(Peer, piggyback: false);
    }

    private static (GossipNode Node, RecordingHost Host) Start(string name, string address)
    {
        RecordingHost host = new();
        GossipNode node = new(GossipOptions.Lan with { Name = name, Generation = 1, AdvertiseAddress = NodeAddress.Parse(address) }, host, new Xoshiro256StarStar(1));
        node.Start(TimeSpan.Zero);
        return (node, host);
    }

    private static List<uint> Acks(byte[] packet)
    {
        Assert.Equal(DecodeError.None, PacketReader.TryOpen(packet, WireLimits.DatagramMaxBytes, out PacketReader reader));
        List<uint> acks = [];
        while (reader.TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out _))
        {
            Assert.Equal(MessageType.Ack, type);
            Assert.Equal(DecodeError.None, AckMessage.TryDecode(payload, null, out AckMessage ack));
            acks.Add(ack.Sequence);
        }

        return acks;
    }
}
