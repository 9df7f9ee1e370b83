using System.Buffers.Binary;
using Rumor.Core.Aggregates;
using Rumor.Core.Coordinates;
using Rumor.Core.Membership;
using Rumor.Core.Tests.Support;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Wire;

/// <summary>
/// Golden bytes: wire format v1 written out by hand from the layouts documented on the message types
/// (and in docs/PROTOCOL.md). They pin the type ids (Compound = 1 ... ViewChecksum = 20), field order,
/// widths and endianness forever (every id 1..19, both forms of the state digest): if one of these fails,
/// the change breaks every deployed peer.
/// Header: version 01 · type · flags 00. Integers little-endian. Names: u8 length + UTF-8. Addresses:
/// family 04/06 + address bytes (network order) + u16 LE port. Trailer: CRC32C LE over all that
/// precedes it. Trailers were computed once with an independent bitwise CRC-32C (outside .NET) and are
/// also checked here against <see cref="ReferenceCrc32C"/>.
/// </summary>
public class GoldenBytesTests
{
    // 10.0.0.1:7946 — port 7946 = 0x1F0A, little-endian 0A 1F.
    private static readonly NodeAddress Ten = NodeAddress.Parse("10.0.0.1:7946");

    public static readonly TheoryData<string, string, string> Cases = new()
    {
        {
            "Ping",
            // ver type flags | seq 0x01020304     | target "b" | source "a" | v4 10.0.0.1      port
            "01 02 00        | 04 03 02 01         | 01 62      | 01 61      | 04 0A 00 00 01   0A 1F",
            "FF 55 02 8C"
        },
        {
            "IndirectPing",
            // seq 7 | target "nœud" (œ = C5 93) | v6 ::1 port 7946 | flags: nack wanted
            "01 03 00 | 07 00 00 00 | 05 6E C5 93 75 64 | 06 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 0A 1F | 01",
            "96 1A 63 E3"
        },
        {
            "Ack",
            "01 04 00 | EF BE AD DE",
            "C6 6C 51 68"
        },
        {
            "Nack",
            "01 05 00 | 2A 00 00 00",
            "27 4E FE 10"
        },
        {
            "Alive",
            // name "n1" | 192.168.1.10:7946 | incarnation 5 | generation 0x0102030405060708 | versions 1,3,2 / 0,5,4 | meta CA FE
            "01 06 00 | 02 6E 31 | 04 C0 A8 01 0A 0A 1F | 05 00 00 00 | 08 07 06 05 04 03 02 01 | 01 03 02 00 05 04 | 02 00 CA FE",
            "77 4A FE 1D"
        },
        {
            "Suspect",
            // name "n1" | incarnation 3 | generation 1 | from "n2"
            "01 07 00 | 02 6E 31 | 03 00 00 00 | 01 00 00 00 00 00 00 00 | 02 6E 32",
            "76 A8 CC 16"
        },
        {
            "Dead",
            // name "n1" | incarnation 4 | generation 1 | from "n1" (a graceful leave)
            "01 08 00 | 02 6E 31 | 04 00 00 00 | 01 00 00 00 00 00 00 00 | 02 6E 31",
            "5E D3 E0 0D"
        },
        {
            "PushPull",
            // flags: join | 1 member: "n1" 10.0.0.1:7946 inc 2 gen 9 state Suspect(1) versions 1,1,1/0,0,0 meta [01]
            // | 1 section: kind 0x0102, length u32 2, AA BB
            "01 09 00 | 01 | 01 00 00 00 | 02 6E 31 04 0A 00 00 01 0A 1F 02 00 00 00 09 00 00 00 00 00 00 00 01 01 01 01 00 00 00 01 00 01 | 01 | 02 01 02 00 00 00 AA BB",
            "4B 81 C4 54"
        },
        {
            "StateDigest",
            // flags WantDeltas|WantDigest | sender "a" | checksum 0x0102030405060708 | count 2
            // | owner "a" generation 1 max version 5 | owner "b" generation 2 max version 0x1234
            "01 0A 00 | 03 | 01 61 | 08 07 06 05 04 03 02 01 | 02 00 00 00 | 01 61 01 00 00 00 00 00 00 00 05 00 00 00 00 00 00 00 | 01 62 02 00 00 00 00 00 00 00 34 12 00 00 00 00 00 00",
            "63 52 41 5B"
        },
        {
            "StateDigestBloom",
            // flags WantDeltas|Bloom | sender "n1" | checksum 0 | salt 0xDEADBEEF | hashes 7 | owners 3 | bits: u32 length 2, F0 0F
            "01 0A 00 | 05 | 02 6E 31 | 00 00 00 00 00 00 00 00 | EF BE AD DE | 07 | 03 00 00 00 | 02 00 00 00 F0 0F",
            "EE FF 4D DE"
        },
        {
            "StateDelta",
            // flags MorePending | 1 owner: "a" generation 2, flags Reset, from 3, to 5, 2 entries:
            // key "k" version 4 value(0) ttl 1000 ms value "v1" | key "x" version 5 tombstone(1) ttl 0 empty value
            "01 0B 00 | 01 | 01 00 | 01 61 | 02 00 00 00 00 00 00 00 | 01 | 03 00 00 00 00 00 00 00 | 05 00 00 00 00 00 00 00 | 02 00 00 00" +
            " | 01 00 6B 04 00 00 00 00 00 00 00 00 E8 03 00 00 02 00 00 00 76 31 | 01 00 78 05 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00",
            "96 09 70 55"
        },
        {
            "StateChecksum",
            // name "n1" | generation 7 | sequence 9 | checksum 0xCBF29CE484222325
            "01 0C 00 | 02 6E 31 | 07 00 00 00 00 00 00 00 | 09 00 00 00 | 25 23 22 84 E4 9C F2 CB",
            "00 E4 D4 5E"
        },
        {
            "Heartbeats",
            // count 2 | "a" generation 1 counter 0x100 | "b" generation 2 counter 3
            "01 0D 00 | 02 00 | 01 61 01 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 | 01 62 02 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00",
            "76 C3 72 8C"
        },
        {
            "UserEvent",
            // origin "a" | generation 2 | sequence 3 | lamport 0x10 | coalesce-from 0 | name "ev" | payload: u16 length 2, AB CD
            "01 0E 00 | 01 61 | 02 00 00 00 00 00 00 00 | 03 00 00 00 00 00 00 00 | 10 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00 | 02 65 76 | 02 00 AB CD",
            "67 1D D7 90"
        },
        {
            "EventDigest",
            // salt 0x01020304 | hashes 7 | flags: reply wanted | events 9 | bits: u16 length 2, F0 0F
            "01 0F 00 | 04 03 02 01 | 07 | 01 | 09 00 00 00 | 02 00 F0 0F",
            "99 B9 A9 09"
        },
        {
            "Query",
            // asker "a" | generation 2 | id 1 | lamport 0x20 | v4 10.0.0.1:7946 | timeout 1000 ms | name "q" | filter "r=w" | payload 01
            "01 10 00 | 01 61 | 02 00 00 00 00 00 00 00 | 01 00 00 00 00 00 00 00 | 20 00 00 00 00 00 00 00 | 04 0A 00 00 01 0A 1F | E8 03 00 00 | 01 71 | 03 00 72 3D 77 | 01 00 01",
            "AE 8E 8D A4"
        },
        {
            "QueryResponse",
            // asker generation 2 | query id 1 | responder "b" | payload "ok"
            "01 11 00 | 02 00 00 00 00 00 00 00 | 01 00 00 00 00 00 00 00 | 01 62 | 02 00 6F 6B",
            "5D 65 6B 73"
        },
        {
            "Aggregate",
            // flags: reply | key "k" | epoch 3 | initiator "a" | sequence 5 | ack 4 | flow value 1.0, holders 0.5, nodes 2.0, weight 0.0
            // | min -2.0 | max +inf | average 1.0 | count 2.0 | holder count 0.5
            "01 12 00 | 01 | 01 00 6B | 03 00 00 00 | 01 61 | 05 00 00 00 | 04 00 00 00" +
            " | 00 00 00 00 00 00 F0 3F | 00 00 00 00 00 00 E0 3F | 00 00 00 00 00 00 00 40 | 00 00 00 00 00 00 00 00" +
            " | 00 00 00 00 00 00 00 C0 | 00 00 00 00 00 00 F0 7F | 00 00 00 00 00 00 F0 3F | 00 00 00 00 00 00 00 40 | 00 00 00 00 00 00 E0 3F",
            "57 61 55 8D"
        },
        {
            "Coordinate",
            // seq 5 | dimensions 2 | vec 1.0, -2.0 | error 0.5 | adjustment -0.5 | height 2.0
            "01 13 00 | 05 00 00 00 | 02 | 00 00 00 00 00 00 F0 3F | 00 00 00 00 00 00 00 C0 | 00 00 00 00 00 00 E0 3F | 00 00 00 00 00 00 E0 BF | 00 00 00 00 00 00 00 40",
            "0D 60 36 2E"
        },
        {
            "AckWithCoordinate",
            // what a node answers a ping with (no broadcasts pending): type 01 | count 2 | (len 5, Ack 5) | (len 46, Coordinate as above)
            "01 01 00 | 02 | 05 00 04 05 00 00 00 | 2E 00 13 | 05 00 00 00 | 02 | 00 00 00 00 00 00 F0 3F | 00 00 00 00 00 00 00 C0 | 00 00 00 00 00 00 E0 3F | 00 00 00 00 00 00 E0 BF | 00 00 00 00 00 00 00 40",
            "C0 D9 EB 92"
        },
        {
            "ViewChecksum",
            // seq 5 | checksum 0x0102030405060708
            "01 14 00 | 05 00 00 00 | 08 07 06 05 04 03 02 01",
            "CB C7 3E 6D"
        },
        {
            "AckWithViewChecksum",
            // an ack and the acker's membership checksum: type 01 | count 2 | (len 5, Ack 5) | (len 13, ViewChecksum as above)
            "01 01 00 | 02 | 05 00 04 05 00 00 00 | 0D 00 14 | 05 00 00 00 | 08 07 06 05 04 03 02 01",
            "D2 DC 26 CA"
        },
        {
            "Compound",
            // type 01 | count 3 | (len 5, Ack 1) | (len 5, Nack 2) | (len 19, Suspect "n1" 3 1 "n2")
            "01 01 00 | 03 | 05 00 04 01 00 00 00 | 05 00 05 02 00 00 00 | 13 00 07 02 6E 31 03 00 00 00 01 00 00 00 00 00 00 00 02 6E 32",
            "5F 16 79 93"
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encodes_to_the_hand_written_bytes(string example, string body, string trailer)
    {
        byte[] actual = Encode(example);
        Assert.Equal(Hex.Normalize(body + trailer), Hex.Format(actual));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Trailer_is_the_crc32c_of_everything_before_it(string example, string body, string trailer)
    {
        byte[] expectedBody = Hex.Parse(body);
        Assert.Equal(BinaryPrimitives.ReadUInt32LittleEndian(Hex.Parse(trailer)), ReferenceCrc32C.Compute(expectedBody));
        byte[] actual = Encode(example);
        Assert.Equal(ReferenceCrc32C.Compute(actual.AsSpan(0, actual.Length - 4)), BinaryPrimitives.ReadUInt32LittleEndian(actual.AsSpan(actual.Length - 4)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Hand_written_bytes_decode_to_the_example(string example, string body, string trailer)
    {
        byte[] packet = Hex.Parse(body + trailer);
        List<object?> decoded = [];
        Assert.Equal(DecodeError.None, Packets.DecodeAll(packet, 1400, new NameTable(), decoded));
        object[] expected = Example(example);
        Assert.Equal(expected.Length, decoded.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            MessageEquality.AssertEqual(expected[i], decoded[i]);
        }
    }

    [Theory]
    [InlineData("Ping")]
    [InlineData("IndirectPing")]
    [InlineData("Ack")]
    [InlineData("Nack")]
    [InlineData("Alive")]
    [InlineData("Suspect")]
    [InlineData("Dead")]
    [InlineData("PushPull")]
    [InlineData("StateDigest")]
    [InlineData("StateDigestBloom")]
    [InlineData("StateDelta")]
    [InlineData("StateChecksum")]
    [InlineData("Heartbeats")]
    [InlineData("UserEvent")]
    [InlineData("EventDigest")]
    [InlineData("Query")]
    [InlineData("QueryResponse")]
    [InlineData("Aggregate")]
    [InlineData("Coordinate")]
    [InlineData("ViewChecksum")]
    public void Builder_with_one_message_writes_the_same_packet_as_EncodeSingle(string example)
    {
        object message = Assert.Single(Example(example));
        PacketBuilder builder = new(1400);
        Assert.True(MessageOps.TryAdd(builder, message));
        Assert.Equal(Hex.Format(MessageOps.EncodeSingle(message)), Hex.Format(builder.Finish()));
    }

    [Fact]
    public void Sizes_stated_in_the_protocol_document_hold()
    {
        // PROTOCOL.md §11: the Ping example is 22 bytes; §6.6: the smallest push-pull member is 30;
        // §6.15: an aggregate for key "load" from "node-0001" is 101 payload bytes, 108 alone in a packet;
        // §6.16: an 8-dimension coordinate is 93 payload bytes, 96 in a compound after the ack.
        Assert.Equal(22, Encode("Ping").Length);
        Assert.Equal(30, PushPullMember.MinEncodedLength);
        Assert.Equal(30, new PushPullMessage(false, [new PushPullMember("n", Ten, 1, 1, MemberState.Alive, ProtocolVersions.Current, [])], []).PayloadLength - 6);
        AggregateMessage aggregate = new(AggregateFlags.None, "load", 1, "node-0001", 1, 0, default, 0, 0, 0, 0, 0);
        Assert.Equal(88, AggregateMessage.FixedBytes);
        Assert.Equal(101, aggregate.PayloadLength);
        Assert.Equal(108, PacketBuilder.EncodeSingle(aggregate).Length);
        Assert.Equal(93, new CoordinateMessage(1, NetworkCoordinate.Origin(VivaldiOptions.Default)).PayloadLength);
    }

    [Fact]
    public void Type_ids_are_pinned()
    {
        Assert.Equal(1, (byte)MessageType.Compound);
        Assert.Equal(2, (byte)MessageType.Ping);
        Assert.Equal(3, (byte)MessageType.IndirectPing);
        Assert.Equal(4, (byte)MessageType.Ack);
        Assert.Equal(5, (byte)MessageType.Nack);
        Assert.Equal(6, (byte)MessageType.Alive);
        Assert.Equal(7, (byte)MessageType.Suspect);
        Assert.Equal(8, (byte)MessageType.Dead);
        Assert.Equal(9, (byte)MessageType.PushPull);
        Assert.Equal(10, (byte)MessageType.StateDigest);
        Assert.Equal(11, (byte)MessageType.StateDelta);
        Assert.Equal(12, (byte)MessageType.StateChecksum);
        Assert.Equal(13, (byte)MessageType.Heartbeats);
        Assert.Equal(14, (byte)MessageType.UserEvent);
        Assert.Equal(15, (byte)MessageType.EventDigest);
        Assert.Equal(16, (byte)MessageType.Query);
        Assert.Equal(17, (byte)MessageType.QueryResponse);
        Assert.Equal(18, (byte)MessageType.Aggregate);
        Assert.Equal(19, (byte)MessageType.Coordinate);
        Assert.Equal(20, (byte)MessageType.ViewChecksum);
        Assert.Equal(0x01, (byte)DigestFlags.WantDeltas);
        Assert.Equal(0x02, (byte)DigestFlags.WantDigest);
        Assert.Equal(0x04, (byte)DigestFlags.Bloom);
        Assert.Equal(0x01, (byte)AggregateFlags.Reply);
        Assert.Equal(0x01, (byte)PacketFlags.Compressed);
        Assert.Equal(0x02, (byte)PacketFlags.Encrypted);
        Assert.Equal(0, (byte)MemberState.Alive);
        Assert.Equal(1, (byte)MemberState.Suspect);
        Assert.Equal(2, (byte)MemberState.Dead);
        Assert.Equal(3, (byte)MemberState.Left);
    }

    private static object[] Example(string name) => name switch
    {
        "Ping" => [new PingMessage(0x01020304, "b", "a", Ten)],
        "IndirectPing" => [new IndirectPingMessage(7, "nœud", NodeAddress.Parse("[::1]:7946"), WantNack: true)],
        "Ack" => [new AckMessage(0xDEADBEEF)],
        "Nack" => [new NackMessage(42)],
        "Alive" => [new AliveMessage("n1", NodeAddress.Parse("192.168.1.10:7946"), 5, 0x0102030405060708, new ProtocolVersions(1, 3, 2, 0, 5, 4), [0xCA, 0xFE])],
        "Suspect" => [new SuspectMessage("n1", 3, 1, "n2")],
        "Dead" => [new DeadMessage("n1", 4, 1, "n1")],
        "PushPull" => [new PushPullMessage(
            Join: true,
            [new PushPullMember("n1", Ten, 2, 9, MemberState.Suspect, ProtocolVersions.Current, [0x01])],
            [new StateSection(0x0102, [0xAA, 0xBB])])],
        "StateDigest" => [new StateDigestMessage(DigestFlags.WantDeltas | DigestFlags.WantDigest, "a", 0x0102030405060708, [new DigestEntry("a", 1, 5), new DigestEntry("b", 2, 0x1234)], null)],
        "StateDigestBloom" => [new StateDigestMessage(DigestFlags.WantDeltas | DigestFlags.Bloom, "n1", 0, [], new BloomDigest(0xDEADBEEF, 7, 3, [0xF0, 0x0F]))],
        "StateDelta" => [new StateDeltaMessage(MorePending: true, [new OwnerDelta("a", 2, Reset: true, 3, 5, [new StateEntry("k", 4, false, 1000, "v1"u8.ToArray()), new StateEntry("x", 5, true, 0, [])])])],
        "StateChecksum" => [new StateChecksumMessage("n1", 7, 9, 0xCBF29CE484222325)],
        "Heartbeats" => [new HeartbeatsMessage([new HeartbeatEntry("a", 1, 0x100), new HeartbeatEntry("b", 2, 3)])],
        "UserEvent" => [new UserEventMessage("a", 2, 3, 16, 0, "ev", [0xAB, 0xCD])],
        "EventDigest" => [new EventDigestMessage(0x01020304, 7, true, 9, [0xF0, 0x0F])],
        "Query" => [new QueryMessage("a", 2, 1, 32, Ten, 1000, "q", "r=w"u8.ToArray(), [1])],
        "QueryResponse" => [new QueryResponseMessage(2, 1, "b", "ok"u8.ToArray())],
        "Aggregate" => [new AggregateMessage(AggregateFlags.Reply, "k", 3, "a", 5, 4, new PushSumState(1.0, 0.5, 2.0, 0.0), -2.0, double.PositiveInfinity, 1.0, 2.0, 0.5)],
        "Coordinate" => [new CoordinateMessage(5, new NetworkCoordinate([1.0, -2.0], 0.5, -0.5, 2.0))],
        "AckWithCoordinate" => [new AckMessage(5), new CoordinateMessage(5, new NetworkCoordinate([1.0, -2.0], 0.5, -0.5, 2.0))],
        "ViewChecksum" => [new ViewChecksumMessage(5, 0x0102030405060708)],
        "AckWithViewChecksum" => [new AckMessage(5), new ViewChecksumMessage(5, 0x0102030405060708)],
        "Compound" => [new AckMessage(1), new NackMessage(2), new SuspectMessage("n1", 3, 1, "n2")],
        _ => throw new ArgumentException(name),
    };

    private static byte[] Encode(string example)
    {
        object[] messages = Example(example);
        if (messages.Length == 1)
        {
            return MessageOps.EncodeSingle(messages[0]);
        }

        PacketBuilder builder = new(1400);
        foreach (object message in messages)
        {
            Assert.True(MessageOps.TryAdd(builder, message));
        }

        return builder.Finish().ToArray();
    }
}
