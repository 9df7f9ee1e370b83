using Rumor.Core;
using Rumor.Core.Membership;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;
using Rumor.Transport;

namespace Rumor.Fuzz;

/// <summary>Starting inputs for each target: well-formed packets of every message kind the wire carries (the fuzzer mutates from there).</summary>
public static class FuzzSeeds
{
    private static readonly NodeAddress Peer = FuzzTargets.PeerAddress;
    private static readonly NodeAddress Six = NodeAddress.Parse("[::1]:7946");
    private const ulong PeerGeneration = 1_700_000_000_500;

    /// <summary>Valid packets, one per message type the encoder builds here, plus a compound.</summary>
    public static IReadOnlyList<byte[]> Packets()
    {
        List<byte[]> packets =
        [
            PacketBuilder.EncodeSingle(new PingMessage(7, "self", "peer", Peer)),
            PacketBuilder.EncodeSingle(new IndirectPingMessage(8, "peer", Six, true)),
            PacketBuilder.EncodeSingle(new AckMessage(7)),
            PacketBuilder.EncodeSingle(new NackMessage(8)),
            PacketBuilder.EncodeSingle(new AliveMessage("n1", Peer, 5, PeerGeneration, ProtocolVersions.Current, [0xCA, 0xFE])),
            PacketBuilder.EncodeSingle(new SuspectMessage("peer", 1, PeerGeneration, "n2")),
            PacketBuilder.EncodeSingle(new DeadMessage("peer", 1, PeerGeneration, "peer")),
            PacketBuilder.EncodeSingle(new PushPullMessage(true, [new PushPullMember("peer", Peer, 1, PeerGeneration, MemberState.Alive, ProtocolVersions.Current, [])], [new StateSection(1, [1, 2, 3])])),
            PacketBuilder.EncodeSingle(new StateDigestMessage(DigestFlags.WantDeltas, "peer", 42, [new DigestEntry("peer", PeerGeneration, 3)], null)),
            PacketBuilder.EncodeSingle(new StateDeltaMessage(false, [new OwnerDelta("peer", PeerGeneration, false, 0, 2, [new StateEntry("k", 1, false, 0, [1]), new StateEntry("t", 2, true, 1000, [])])])),
            PacketBuilder.EncodeSingle(new StateChecksumMessage("peer", PeerGeneration, 3, 99)),
            PacketBuilder.EncodeSingle(new HeartbeatsMessage([new HeartbeatEntry("peer", PeerGeneration, 4)])),
            PacketBuilder.EncodeSingle(new UserEventMessage("peer", PeerGeneration, 1, 5, 0, "deploy", [1, 2])),
            PacketBuilder.EncodeSingle(new EventDigestMessage(3, 2, true, 1, new byte[8])),
            PacketBuilder.EncodeSingle(new QueryMessage("peer", PeerGeneration, 9, 6, Peer, 1000, "ping", [], [4])),
            PacketBuilder.EncodeSingle(new QueryResponseMessage(1_700_000_000_000, 9, "peer", [5])),
        ];
        packets.Add(PacketBuilder.EncodePacket([
            PacketBuilder.EncodeMessage(new AckMessage(1)),
            PacketBuilder.EncodeMessage(new SuspectMessage("n1", 3, 1, "n2")),
            PacketBuilder.EncodeMessage(new UserEventMessage("peer", PeerGeneration, 2, 7, 0, "e", [])),
        ]));
        return packets;
    }

    /// <summary>The seeds of one target.</summary>
    public static IEnumerable<byte[]> For(string target) => target switch
    {
        "stream" => Packets().Select(p => StreamFraming.Frame(p)),
        "serf" => SerfFuzzTarget.Seeds(),
        "compressed" => Packets().Select(Compressible).Where(p => p is not null).Select(p => p!).DistinctBy(Convert.ToHexString),
        _ => Packets(),
    };

    /// <summary>The compressed form of a packet padded to compress well, as the compressed target takes it: header type byte, then the body.</summary>
    private static byte[]? Compressible(byte[] packet)
    {
        byte[] big = PacketBuilder.EncodeSingle(new UserEventMessage("peer", PeerGeneration, 1, 5, 0, "pad", new byte[600]));
        byte[] source = packet.Length > 200 ? packet : big;
        byte[] compressed = PacketCompression.Compress(source, 64, out int saved);
        if (saved <= 0)
        {
            return null;
        }

        return [compressed[1], .. compressed.AsSpan(WireLimits.HeaderBytes, compressed.Length - WireLimits.OverheadBytes)];
    }
}
