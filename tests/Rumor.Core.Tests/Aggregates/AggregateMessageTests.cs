using Rumor.Core.Aggregates;
using Rumor.Core.Tests.Support;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Aggregates;

/// <summary>
/// The Aggregate message (type 18): golden bytes written by hand from the layout in docs/PROTOCOL.md,
/// round trips, and a corpus of malformed payloads that must be refused with a reason, never a crash.
/// </summary>
public class AggregateMessageTests
{
    private static readonly AggregateMessage Example = new(
        AggregateFlags.Reply, "k", 3, "a", 5, 4, new PushSumState(1.0, 0.5, 2.0, 0.0),
        Min: -2.0, Max: double.PositiveInfinity, Average: 1.0, Count: 2.0, HolderCount: 0.5);

    // ver type flags | msg flags | key "k"  | epoch 3     | initiator "a" | seq 5       | ack 4
    // flow value 1.0 | holders 0.5 | nodes 2.0 | weight 0.0 | min -2.0 | max +inf | average 1.0 | count 2.0 | holders 0.5
    private const string ExampleHex =
        "01 12 00 | 01 | 01 00 6B | 03 00 00 00 | 01 61 | 05 00 00 00 | 04 00 00 00" +
        "| 00 00 00 00 00 00 F0 3F | 00 00 00 00 00 00 E0 3F | 00 00 00 00 00 00 00 40 | 00 00 00 00 00 00 00 00" +
        "| 00 00 00 00 00 00 00 C0 | 00 00 00 00 00 00 F0 7F" +
        "| 00 00 00 00 00 00 F0 3F | 00 00 00 00 00 00 00 40 | 00 00 00 00 00 00 E0 3F";

    [Fact]
    public void Golden_bytes_pin_the_layout()
    {
        byte[] expectedBody = Hex.Parse(ExampleHex);
        uint crc = ReferenceCrc32C.Compute(expectedBody);
        byte[] packet = PacketBuilder.EncodeSingle(Example);
        Assert.Equal(Hex.Format(expectedBody), Hex.Format(packet.AsSpan(0, packet.Length - 4)));
        Assert.Equal(crc, BitConverter.ToUInt32(packet, packet.Length - 4));
        Assert.Equal(18, (byte)MessageType.Aggregate);
        Assert.Equal(expectedBody.Length - 3, Example.PayloadLength);
        Assert.Equal(AggregateMessage.FixedBytes + 2, Example.PayloadLength);
    }

    [Fact]
    public void Round_trip_keeps_every_field_including_unknown_estimates()
    {
        AggregateMessage[] cases =
        [
            Example,
            new(AggregateFlags.None, "metrics/cpu.load", uint.MaxValue, "node-0001", uint.MaxValue, 0, new PushSumState(-1e300, 1e-300, 3, 1),
                double.NegativeInfinity, double.PositiveInfinity, double.NaN, double.NaN, double.NaN),
            new(AggregateFlags.None, new string('é', 300), 1, "ñ", 1, 1, default, 0, 0, 0, 0, 0),
        ];
        foreach (AggregateMessage message in cases)
        {
            byte[] payload = Payload(message);
            Assert.Equal(message.PayloadLength, payload.Length);
            Assert.Equal(DecodeError.None, AggregateMessage.TryDecode(payload, null, out AggregateMessage decoded));
            Assert.Equal(message, decoded);
        }
    }

    [Fact]
    public void Every_truncation_is_refused_as_truncated()
    {
        byte[] payload = Payload(Example);
        for (int length = 0; length < payload.Length; length++)
        {
            Assert.Equal(DecodeError.Truncated, AggregateMessage.TryDecode(payload.AsSpan(0, length), null, out _));
        }
    }

    public static readonly TheoryData<string, DecodeError> Corpus = new()
    {
        { "unknown flag bit", DecodeError.Malformed },
        { "unknown function", DecodeError.Malformed },
        { "lifetime cut short", DecodeError.Truncated },
        { "empty key", DecodeError.Malformed },
        { "key not UTF-8", DecodeError.Malformed },
        { "empty initiator", DecodeError.Malformed },
        { "NaN flow", DecodeError.Malformed },
        { "infinite flow", DecodeError.Malformed },
        { "negative weight flow", DecodeError.Malformed },
        { "NaN min", DecodeError.Malformed },
        { "infinite estimate", DecodeError.Malformed },
        { "trailing byte", DecodeError.TrailingBytes },
        { "key length past the end", DecodeError.Truncated },
    };

    [Fact]
    public void The_lifetime_and_function_travel_only_with_the_lifetime_flag_and_an_end_round_trips()
    {
        AggregateMessage timed = Example with { Flags = AggregateFlags.Lifetime, LifetimeMs = 123_456, Function = AggregateFunction.Max };
        byte[] payload = Payload(timed);
        Assert.Equal(Payload(Example).Length + 5, payload.Length);
        Assert.Equal(DecodeError.None, AggregateMessage.TryDecode(payload, null, out AggregateMessage decoded));
        Assert.Equal(123_456u, decoded.LifetimeMs);
        Assert.Equal(AggregateFunction.Max, decoded.Function);
        Assert.True(decoded.HasLifetime);

        AggregateMessage ended = Example with { Flags = AggregateFlags.Ended | AggregateFlags.Reply };
        Assert.Equal(DecodeError.None, AggregateMessage.TryDecode(Payload(ended), null, out decoded));
        Assert.True(decoded.IsEnded);
        Assert.False(decoded.HasLifetime);
        Assert.Equal(0u, decoded.LifetimeMs);
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public void Malformed_payloads_are_refused_with_a_reason(string what, DecodeError expected)
    {
        byte[] payload = what switch
        {
            "unknown flag bit" => Patch(Payload(Example), 0, 0x09),
            "unknown function" => [.. Payload(Example with { Flags = AggregateFlags.Lifetime, LifetimeMs = 5 })[..^1], 9],
            "lifetime cut short" => Payload(Example with { Flags = AggregateFlags.Lifetime, LifetimeMs = 5 })[..^2],
            "empty key" => Payload(Example with { Key = "" }),
            "key not UTF-8" => Patch(Payload(Example), 3, 0xFF),
            "empty initiator" => Payload(Example with { Initiator = "" }),
            "NaN flow" => Payload(Example with { Flow = new PushSumState(double.NaN, 1, 1, 1) }),
            "infinite flow" => Payload(Example with { Flow = new PushSumState(1, 1, double.PositiveInfinity, 1) }),
            "negative weight flow" => Payload(Example with { Flow = new PushSumState(1, 1, 1, -0.5) }),
            "NaN min" => Payload(Example with { Min = double.NaN }),
            "infinite estimate" => Payload(Example with { Count = double.PositiveInfinity }),
            "trailing byte" => [.. Payload(Example), 0],
            "key length past the end" => Patch(Payload(Example), 1, 0xFF),
            _ => throw new ArgumentException(what),
        };
        Assert.Equal(expected, AggregateMessage.TryDecode(payload, null, out _));
    }

    [Fact]
    public void A_node_counts_a_malformed_aggregate_and_carries_on()
    {
        (GossipNode node, _) = TestNode();
        // Build a valid packet around a malformed payload: the decoder, not the CRC, must refuse it.
        byte[] payload = Payload(Example with { Flow = new PushSumState(double.NaN, 0, 0, 0) });
        byte[] packet = PacketBuilder.EncodePacket([[(byte)MessageType.Aggregate, .. payload]]);
        node.OnPacket(NodeAddress.Parse("10.0.0.9:7946"), packet, TimeSpan.FromSeconds(1));
        Assert.Null(node.GetAggregate("k"));
        Assert.Equal(1, node.Counters.DecodeErrors(DecodeError.Malformed));
    }

    internal static (GossipNode Node, RecordingHost Host) TestNode(string name = "n1", GossipOptions? options = null)
    {
        RecordingHost host = new();
        GossipNode node = new((options ?? GossipOptions.Lan) with { Name = name, AdvertiseAddress = NodeAddress.Parse("10.0.0.1:7946") }, host, new Rumor.Core.Randomness.Xoshiro256StarStar(7));
        node.Start(TimeSpan.Zero);
        return (node, host);
    }

    private static byte[] Payload(in AggregateMessage message)
    {
        byte[] buffer = new byte[message.PayloadLength];
        WireWriter writer = new(buffer);
        message.WritePayload(ref writer);
        return buffer;
    }

    private static byte[] Patch(byte[] bytes, int at, byte value)
    {
        bytes[at] = value;
        return bytes;
    }
}

/// <summary>A host that records what the node sends.</summary>
internal sealed class RecordingHost : IGossipHost
{
    public List<(NodeAddress To, byte[] Packet)> Packets { get; } = [];

    public void SendPacket(NodeAddress to, ReadOnlySpan<byte> packet) => Packets.Add((to, packet.ToArray()));

    public void OpenStream(long streamId, NodeAddress to, ReadOnlySpan<byte> request)
    {
    }

    public void ReplyStream(long streamId, ReadOnlySpan<byte> response)
    {
    }

    public void OnEvent(GossipEvent gossipEvent)
    {
    }
}
