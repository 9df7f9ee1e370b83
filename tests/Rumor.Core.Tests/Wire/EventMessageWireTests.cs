using System.Buffers.Binary;
using Rumor.Core.Tests.Support;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Wire;

/// <summary>
/// Golden bytes, malformed input and round trips of the user event and query messages (ids 14-17),
/// written out by hand from the layouts in docs/PROTOCOL.md. The trailer is checked against the
/// independent bitwise <see cref="ReferenceCrc32C"/>.
/// </summary>
public class EventMessageWireTests
{
    private static readonly NodeAddress Ten = NodeAddress.Parse("10.0.0.1:7946");

    public static readonly TheoryData<string, string> Golden = new()
    {
        {
            "UserEvent",
            // ver type flags | origin "a" | generation 2 | sequence 3 | lamport 0x10 | coalesce-from 0 | name "ev" | payload len 2 + AB CD
            "01 0E 00 | 01 61 | 02 00 00 00 00 00 00 00 | 03 00 00 00 00 00 00 00 | 10 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00 | 02 65 76 | 02 00 AB CD"
        },
        {
            "UserEventCoalescing",
            // sequence 5, coalesce-from 4, empty payload
            "01 0E 00 | 01 61 | 02 00 00 00 00 00 00 00 | 05 00 00 00 00 00 00 00 | 11 00 00 00 00 00 00 00 | 04 00 00 00 00 00 00 00 | 02 65 76 | 00 00"
        },
        {
            "EventDigest",
            // salt 0x01020304 | hashes 7 | flags: reply wanted | events 9 | bits len 2 + F0 0F
            "01 0F 00 | 04 03 02 01 | 07 | 01 | 09 00 00 00 | 02 00 F0 0F"
        },
        {
            "Query",
            // asker "a" | generation 2 | id 1 | lamport 0x20 | v4 10.0.0.1:7946 | timeout 1000 ms | name "q" | filter "r=w" | payload 01
            "01 10 00 | 01 61 | 02 00 00 00 00 00 00 00 | 01 00 00 00 00 00 00 00 | 20 00 00 00 00 00 00 00 | 04 0A 00 00 01 0A 1F | E8 03 00 00 | 01 71 | 03 00 72 3D 77 | 01 00 01"
        },
        {
            "QueryResponse",
            // asker generation 2 | query id 1 | responder "b" | payload "ok"
            "01 11 00 | 02 00 00 00 00 00 00 00 | 01 00 00 00 00 00 00 00 | 01 62 | 02 00 6F 6B"
        },
    };

    [Theory]
    [MemberData(nameof(Golden))]
    public void Encodes_to_the_documented_bytes(string name, string body)
    {
        byte[] expectedBody = Hex.Parse(body);
        byte[] packet = Encode(name);
        Assert.Equal(Hex.Format(expectedBody), Hex.Format(packet.AsSpan(0, packet.Length - 4)));
        Assert.Equal(ReferenceCrc32C.Compute(expectedBody), BinaryPrimitives.ReadUInt32LittleEndian(packet.AsSpan(packet.Length - 4)));
    }

    [Theory]
    [MemberData(nameof(Golden))]
    public void Decodes_the_documented_bytes_back(string name, string body)
    {
        byte[] payload = Hex.Parse(body)[3..];
        switch (name)
        {
            case "UserEvent":
                Assert.Equal(DecodeError.None, UserEventMessage.TryDecode(payload, null, out UserEventMessage e));
                Assert.Equal(("a", 2ul, 3ul, 16ul, 0ul, "ev"), (e.Origin, e.Generation, e.Sequence, e.LamportTime, e.CoalesceFrom, e.Name));
                Assert.Equal([0xAB, 0xCD], e.Payload);
                Assert.False(e.Coalesces);
                break;
            case "UserEventCoalescing":
                Assert.Equal(DecodeError.None, UserEventMessage.TryDecode(payload, null, out UserEventMessage c));
                Assert.True(c.Coalesces);
                Assert.Equal(4ul, c.CoalesceFrom);
                break;
            case "EventDigest":
                Assert.Equal(DecodeError.None, EventDigestMessage.TryDecode(payload, null, out EventDigestMessage d));
                Assert.Equal((0x01020304u, (byte)7, true, 9u), (d.Salt, d.HashCount, d.ReplyWanted, d.EventCount));
                break;
            case "Query":
                Assert.Equal(DecodeError.None, QueryMessage.TryDecode(payload, null, out QueryMessage q));
                Assert.Equal(("a", 2ul, 1ul, 32ul, Ten, 1000u, "q"), (q.Asker, q.AskerGeneration, q.Id, q.LamportTime, q.AskerAddress, q.TimeoutMs, q.Name));
                Assert.Equal("r=w"u8.ToArray(), q.Filter);
                break;
            case "QueryResponse":
                Assert.Equal(DecodeError.None, QueryResponseMessage.TryDecode(payload, null, out QueryResponseMessage r));
                Assert.Equal((2ul, 1ul, "b"), (r.AskerGeneration, r.QueryId, r.Responder));
                Assert.Equal("ok"u8.ToArray(), r.Payload);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(name));
        }
    }

    [Theory]
    [MemberData(nameof(Golden))]
    public void Every_truncation_is_rejected_without_throwing(string name, string body)
    {
        byte[] payload = Hex.Parse(body)[3..];
        for (int length = 0; length < payload.Length; length++)
        {
            Assert.NotEqual(DecodeError.None, Decode(name, payload.AsSpan(0, length)));
        }

        byte[] longer = [.. payload, 0];
        Assert.Equal(DecodeError.TrailingBytes, Decode(name, longer));
    }

    public static readonly TheoryData<string, string> MalformedCases = new()
    {
        // sequence 0
        { "UserEvent", "01 61 | 02 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00 | 10 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00 | 02 65 76 | 00 00" },
        // coalesce-from (6) above sequence (3)
        { "UserEvent", "01 61 | 02 00 00 00 00 00 00 00 | 03 00 00 00 00 00 00 00 | 10 00 00 00 00 00 00 00 | 06 00 00 00 00 00 00 00 | 02 65 76 | 00 00" },
        // empty event name
        { "UserEvent", "01 61 | 02 00 00 00 00 00 00 00 | 03 00 00 00 00 00 00 00 | 10 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00 | 00 | 00 00" },
        // origin name not UTF-8
        { "UserEvent", "01 FF | 02 00 00 00 00 00 00 00 | 03 00 00 00 00 00 00 00 | 10 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00 | 02 65 76 | 00 00" },
        // zero hashes
        { "EventDigest", "04 03 02 01 | 00 | 01 | 09 00 00 00 | 02 00 F0 0F" },
        // 33 hashes
        { "EventDigest", "04 03 02 01 | 21 | 01 | 09 00 00 00 | 02 00 F0 0F" },
        // unknown flag bit
        { "EventDigest", "04 03 02 01 | 07 | 02 | 09 00 00 00 | 02 00 F0 0F" },
        // empty filter bits
        { "EventDigest", "04 03 02 01 | 07 | 01 | 09 00 00 00 | 00 00" },
        // query id 0
        { "Query", "01 61 | 02 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00 | 20 00 00 00 00 00 00 00 | 04 0A 00 00 01 0A 1F | E8 03 00 00 | 01 71 | 00 00 | 00 00" },
        // timeout 0
        { "Query", "01 61 | 02 00 00 00 00 00 00 00 | 01 00 00 00 00 00 00 00 | 20 00 00 00 00 00 00 00 | 04 0A 00 00 01 0A 1F | 00 00 00 00 | 01 71 | 00 00 | 00 00" },
        // address family 5
        { "Query", "01 61 | 02 00 00 00 00 00 00 00 | 01 00 00 00 00 00 00 00 | 20 00 00 00 00 00 00 00 | 05 0A 00 00 01 0A 1F | E8 03 00 00 | 01 71 | 00 00 | 00 00" },
        // port 0
        { "Query", "01 61 | 02 00 00 00 00 00 00 00 | 01 00 00 00 00 00 00 00 | 20 00 00 00 00 00 00 00 | 04 0A 00 00 01 00 00 | E8 03 00 00 | 01 71 | 00 00 | 00 00" },
        // filter not UTF-8
        { "Query", "01 61 | 02 00 00 00 00 00 00 00 | 01 00 00 00 00 00 00 00 | 20 00 00 00 00 00 00 00 | 04 0A 00 00 01 0A 1F | E8 03 00 00 | 01 71 | 01 00 FF | 00 00" },
        // response to query id 0
        { "QueryResponse", "02 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00 | 01 62 | 00 00" },
        // empty responder name
        { "QueryResponse", "02 00 00 00 00 00 00 00 | 01 00 00 00 00 00 00 00 | 00 | 00 00" },
    };

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public void Malformed_fields_are_rejected(string name, string payload) =>
        Assert.Equal(DecodeError.Malformed, Decode(name, Hex.Parse(payload)));

    [Fact]
    public void Random_bytes_never_throw()
    {
        Core.Randomness.Xoshiro256StarStar random = new(42);
        byte[] buffer = new byte[96];
        foreach (string name in new[] { "UserEvent", "EventDigest", "Query", "QueryResponse" })
        {
            for (int i = 0; i < 2000; i++)
            {
                int length = random.NextInt(buffer.Length);
                for (int j = 0; j < length; j++)
                {
                    buffer[j] = (byte)random.NextInt(256);
                }

                _ = Decode(name, buffer.AsSpan(0, length));
            }
        }
    }

    [Fact]
    public void Round_trips_through_a_packet_with_unicode_and_ipv6()
    {
        UserEventMessage userEvent = new("nœud-1", ulong.MaxValue, 42, 7, 40, "déploiement", [1, 2, 3]);
        QueryMessage query = new("nœud-1", 9, 3, 8, NodeAddress.Parse("[::1]:7946"), 5000, "load", "zone=eu\nrole=web"u8.ToArray(), [9]);
        QueryResponseMessage response = new(9, 3, "b", new byte[300]);
        EventDigestMessage digest = new(1, 3, false, 0, [0]);
        PacketBuilder builder = new(1400);
        Assert.True(builder.TryAdd(userEvent));
        Assert.True(builder.TryAdd(query));
        Assert.True(builder.TryAdd(response));
        Assert.True(builder.TryAdd(digest));
        List<object?> decoded = DecodeEvents(builder.Finish());
        Assert.Equal(4, decoded.Count);
        UserEventMessage e = (UserEventMessage)decoded[0]!;
        Assert.Equal((userEvent.Origin, userEvent.Generation, userEvent.Sequence, userEvent.LamportTime, userEvent.CoalesceFrom, userEvent.Name), (e.Origin, e.Generation, e.Sequence, e.LamportTime, e.CoalesceFrom, e.Name));
        Assert.Equal(userEvent.Payload, e.Payload);
        QueryMessage q = (QueryMessage)decoded[1]!;
        Assert.Equal((query.Asker, query.AskerAddress, query.TimeoutMs, query.Name), (q.Asker, q.AskerAddress, q.TimeoutMs, q.Name));
        Assert.Equal(query.Filter, q.Filter);
        QueryResponseMessage r = (QueryResponseMessage)decoded[2]!;
        Assert.Equal(300, r.Payload.Length);
        EventDigestMessage d = (EventDigestMessage)decoded[3]!;
        Assert.False(d.ReplyWanted);
    }

    [Fact]
    public void Message_ids_14_to_17_are_known()
    {
        foreach (MessageType type in new[] { MessageType.UserEvent, MessageType.EventDigest, MessageType.Query, MessageType.QueryResponse })
        {
            Assert.Equal((byte)(14 + (type - MessageType.UserEvent)), (byte)type);
        }
    }

    /// <summary>Walks a packet and decodes the event and query messages in it.</summary>
    private static List<object?> DecodeEvents(ReadOnlySpan<byte> packet)
    {
        Assert.Equal(DecodeError.None, PacketReader.TryOpen(packet, 1400, out PacketReader reader));
        List<object?> messages = [];
        while (reader.TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out bool known))
        {
            Assert.True(known);
            switch (type)
            {
                case MessageType.UserEvent:
                    Assert.Equal(DecodeError.None, UserEventMessage.TryDecode(payload, null, out UserEventMessage e));
                    messages.Add(e);
                    break;
                case MessageType.EventDigest:
                    Assert.Equal(DecodeError.None, EventDigestMessage.TryDecode(payload, null, out EventDigestMessage d));
                    messages.Add(d);
                    break;
                case MessageType.Query:
                    Assert.Equal(DecodeError.None, QueryMessage.TryDecode(payload, null, out QueryMessage q));
                    messages.Add(q);
                    break;
                case MessageType.QueryResponse:
                    Assert.Equal(DecodeError.None, QueryResponseMessage.TryDecode(payload, null, out QueryResponseMessage r));
                    messages.Add(r);
                    break;
                default:
                    messages.Add(null);
                    break;
            }
        }

        return messages;
    }

    private static byte[] Encode(string name) => name switch
    {
        "UserEvent" => PacketBuilder.EncodeSingle(new UserEventMessage("a", 2, 3, 16, 0, "ev", [0xAB, 0xCD])),
        "UserEventCoalescing" => PacketBuilder.EncodeSingle(new UserEventMessage("a", 2, 5, 17, 4, "ev", [])),
        "EventDigest" => PacketBuilder.EncodeSingle(new EventDigestMessage(0x01020304, 7, true, 9, [0xF0, 0x0F])),
        "Query" => PacketBuilder.EncodeSingle(new QueryMessage("a", 2, 1, 32, Ten, 1000, "q", "r=w"u8.ToArray(), [1])),
        "QueryResponse" => PacketBuilder.EncodeSingle(new QueryResponseMessage(2, 1, "b", "ok"u8.ToArray())),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static DecodeError Decode(string name, ReadOnlySpan<byte> payload) => name switch
    {
        "UserEvent" or "UserEventCoalescing" => UserEventMessage.TryDecode(payload, null, out _),
        "EventDigest" => EventDigestMessage.TryDecode(payload, null, out _),
        "Query" => QueryMessage.TryDecode(payload, null, out _),
        "QueryResponse" => QueryResponseMessage.TryDecode(payload, null, out _),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };
}
