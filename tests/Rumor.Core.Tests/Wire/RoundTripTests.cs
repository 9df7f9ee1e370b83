using FsCheck;
using FsCheck.Fluent;
using Rumor.Core.Tests.Support;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Wire;

/// <summary>
/// encode → PacketReader.TryOpen → TryNext → TryDecode gives back the original, for arbitrary messages
/// of every type 2..18 (names of 1..255 bytes of UTF-8 with non-ASCII code points, IPv4 and IPv6, metadata
/// of 0..4096 bytes, push-pulls of 0..50 members and 0..3 sections, full and Bloom digests, deltas of
/// 0..5 owners, byte fields up to their 65,535-byte maximum, aggregates with NaN payloads, ±∞ and -0);
/// and PayloadLength is exact.
/// </summary>
public class RoundTripTests
{
    public static readonly TheoryData<MessageType> Types = new()
    {
        MessageType.Ping,
        MessageType.IndirectPing,
        MessageType.Ack,
        MessageType.Nack,
        MessageType.Alive,
        MessageType.Suspect,
        MessageType.Dead,
        MessageType.PushPull,
        MessageType.StateDigest,
        MessageType.StateDelta,
        MessageType.StateChecksum,
        MessageType.Heartbeats,
        MessageType.UserEvent,
        MessageType.EventDigest,
        MessageType.Query,
        MessageType.QueryResponse,
        MessageType.Aggregate,
        MessageType.Coordinate,
        MessageType.ViewChecksum,
    };

    [Theory]
    [MemberData(nameof(Types))]
    public void Single_message_round_trips(MessageType type)
    {
        int tests = type == MessageType.PushPull ? 60 : 200;
        Properties.Check(GeneratorFor(type), message => AssertRoundTrip(message, new NameTable()), tests);
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Single_message_round_trips_without_a_name_table(MessageType type)
    {
        Properties.Check(GeneratorFor(type), message => AssertRoundTrip(message, names: null), 40);
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void PayloadLength_equals_the_bytes_written(MessageType type)
    {
        Properties.Check(GeneratorFor(type), message =>
        {
            int declared = MessageOps.PayloadLength(message);
            Assert.Equal(declared, MessageOps.WrittenLength(message));
            Assert.Equal(1 + declared, MessageOps.EncodeMessage(message).Length);
            Assert.Equal(WireLimits.OverheadBytes + declared, MessageOps.EncodeSingle(message).Length);
        });
    }

    [Fact]
    public void Generators_cover_the_extremes_the_properties_claim()
    {
        // A property is only as good as its inputs: check that the generators really produce 255-byte
        // names, 4-byte code points, IPv6, 4096-byte metadata and 50-member push-pulls.
        List<AliveMessage> alives = Gen.Sample(WireGen.Alive, 400).ToList();
        Assert.Contains(alives, m => System.Text.Encoding.UTF8.GetByteCount(m.Name) == 255);
        Assert.Contains(alives, m => m.Name.Any(char.IsSurrogate));
        Assert.Contains(alives, m => m.Address.IsIPv6);
        Assert.Contains(alives, m => !m.Address.IsIPv6);
        Assert.Contains(alives, m => m.Meta.Length == 4096);
        Assert.Contains(alives, m => m.Meta.Length == 0);
        List<PushPullMessage> pushPulls = Gen.Sample(WireGen.PushPull, 200).ToList();
        Assert.Contains(pushPulls, m => m.Members.Count == 0);
        Assert.Contains(pushPulls, m => m.Members.Count == 50);
        Assert.Contains(pushPulls, m => m.Sections.Count == 3);
        Assert.Contains(pushPulls, m => m.Sections.Count == 0);
        List<StateDigestMessage> digests = Gen.Sample(WireGen.StateDigest, 200).ToList();
        Assert.Contains(digests, m => m.Bloom is null && m.Entries.Count == 0);
        Assert.Contains(digests, m => m.Bloom is null && m.Entries.Count == 30);
        Assert.Contains(digests, m => m.Bloom is { HashCount: 32 });
        Assert.Contains(digests, m => m.Bloom is { Bits.Length: 1 });
        List<StateDeltaMessage> deltas = Gen.Sample(WireGen.StateDelta, 200).ToList();
        Assert.Contains(deltas, m => m.Owners.Count == 0);
        Assert.Contains(deltas, m => m.Owners.Any(o => o.Entries.Any(e => e.IsTombstone)));
        Assert.Contains(deltas, m => m.Owners.Any(o => o.Entries.Any(e => e.Key.Length == 0)));
        Assert.Contains(deltas, m => m.Owners.Any(o => o.FromVersion == o.ToVersion));
        Assert.Contains(Gen.Sample(WireGen.Heartbeats, 200), m => m.Entries.Count == 0);
        Assert.Contains(Gen.Sample(WireGen.UserEvent, 300), m => m.Payload.Length == ushort.MaxValue);
        Assert.Contains(Gen.Sample(WireGen.UserEvent, 300), m => m.CoalesceFrom == m.Sequence);
        Assert.Contains(Gen.Sample(WireGen.Query, 300), m => m.Filter.Length == 0);
        List<AggregateMessage> aggregates = Gen.Sample(WireGen.Aggregate, 300).ToList();
        Assert.Contains(aggregates, m => double.IsNaN(m.Average));
        Assert.Contains(aggregates, m => double.IsNegativeInfinity(m.Min));
    }

    [Fact]
    public void A_digest_decoded_into_a_rented_array_equals_the_plain_decode_and_every_truncation_fails_alike()
    {
        // State streams decode digests into rented arrays (StateDigestMessage.TryDecode with pooled).
        foreach (StateDigestMessage digest in Gen.Sample(WireGen.StateDigest, 100))
        {
            byte[] payload = PacketBuilder.EncodeMessage(digest)[1..];
            Assert.Equal(DecodeError.None, StateDigestMessage.TryDecode(payload, null, out StateDigestMessage plain));
            Assert.Equal(DecodeError.None, StateDigestMessage.TryDecode(payload, null, pooled: true, out StateDigestMessage rented));
            Assert.Equal((plain.Flags, plain.Sender, plain.Checksum, plain.Bloom is null), (rented.Flags, rented.Sender, rented.Checksum, rented.Bloom is null));
            Assert.Equal(plain.Entries, rented.Entries);
            StateDigestMessage.ReturnPooled(rented);

            for (int length = 0; length < payload.Length; length += 1 + (payload.Length / 40))
            {
                Assert.Equal(StateDigestMessage.TryDecode(payload.AsSpan(0, length), null, out _), StateDigestMessage.TryDecode(payload.AsSpan(0, length), null, pooled: true, out StateDigestMessage cut));
                Assert.False(cut.Entries is ArraySegment<DigestEntry>); // a failed decode hands out no rented lines
            }

            byte[] trailing = [.. payload, 0];
            Assert.Equal(DecodeError.TrailingBytes, StateDigestMessage.TryDecode(trailing, null, pooled: true, out StateDigestMessage extra));
            Assert.False(extra.Entries is ArraySegment<DigestEntry>);
        }
    }

    [Fact]
    public void A_digest_with_our_checksum_is_checked_without_its_lines_and_fails_exactly_as_the_full_decode()
    {
        // State streams skip the lines of a digest whose checksum equals ours (nothing to compute for
        // it), but must refuse exactly what the full decode refuses: every cut, every bad byte.
        int skipped = 0;
        foreach (StateDigestMessage digest in Gen.Sample(WireGen.StateDigest, 100))
        {
            byte[] payload = PacketBuilder.EncodeMessage(digest)[1..];
            Assert.Equal(DecodeError.None, StateDigestMessage.TryDecode(payload, null, out StateDigestMessage plain));

            // Another checksum: the full decode, lines and all.
            Assert.Equal(DecodeError.None, StateDigestMessage.TryDecode(payload, null, pooled: true, skipLinesWhenChecksum: plain.Checksum + 1, out StateDigestMessage other, out bool otherSkipped));
            Assert.False(otherSkipped);
            Assert.Equal(plain.Entries, other.Entries);
            StateDigestMessage.ReturnPooled(other);

            Assert.Equal(DecodeError.None, StateDigestMessage.TryDecode(payload, null, pooled: true, skipLinesWhenChecksum: plain.Checksum, out StateDigestMessage same, out bool sameSkipped));
            Assert.Equal(plain.Bloom is null, sameSkipped); // a Bloom digest has no lines to skip
            Assert.Equal((plain.Flags, plain.Sender, plain.Checksum), (same.Flags, same.Sender, same.Checksum));
            if (sameSkipped)
            {
                skipped++;
                Assert.Empty(same.Entries);
            }

            StateDigestMessage.ReturnPooled(same);
            for (int length = 0; length < payload.Length; length++)
            {
                DecodeError full = StateDigestMessage.TryDecode(payload.AsSpan(0, length), null, out _);
                Assert.Equal(full, StateDigestMessage.TryDecode(payload.AsSpan(0, length), null, pooled: true, skipLinesWhenChecksum: plain.Checksum, out StateDigestMessage cut, out _));
                Assert.False(cut.Entries is ArraySegment<DigestEntry>);
            }

            // Names made empty or invalid UTF-8 (a length byte of 0, a 0xFF in a name) fail alike.
            for (int at = 0; at < payload.Length; at++)
            {
                foreach (byte bad in new byte[] { 0x00, 0xFF })
                {
                    byte[] corrupt = [.. payload];
                    corrupt[at] = bad;
                    DecodeError full = StateDigestMessage.TryDecode(corrupt, null, out StateDigestMessage fullMessage);
                    DecodeError quick = StateDigestMessage.TryDecode(corrupt, null, pooled: true, skipLinesWhenChecksum: plain.Checksum, out StateDigestMessage quickMessage, out bool quickSkipped);
                    Assert.Equal(full, quick);
                    if (!quickSkipped)
                    {
                        StateDigestMessage.ReturnPooled(quickMessage);
                    }
                }
            }

            byte[] trailing = [.. payload, 0];
            Assert.Equal(DecodeError.TrailingBytes, StateDigestMessage.TryDecode(trailing, null, pooled: true, skipLinesWhenChecksum: plain.Checksum, out _, out _));
        }

        Assert.True(skipped > 20, $"only {skipped} of 100 sampled digests were full ones");
    }

    [Fact]
    public void Decoded_names_are_interned_across_packets()
    {
        NameTable names = new();
        byte[] packet = PacketBuilder.EncodeSingle(new SuspectMessage("node-a", 1, 2, "node-b"));
        SuspectMessage first = DecodeSingle<SuspectMessage>(packet, names);
        SuspectMessage second = DecodeSingle<SuspectMessage>(packet, names);
        Assert.Same(first.Name, second.Name);
        Assert.Same(first.From, second.From);
    }

    [Fact]
    public void Empty_ping_target_round_trips()
    {
        AssertRoundTrip(new PingMessage(9, string.Empty, "src", NodeAddress.Parse("1.2.3.4:5")), new NameTable());
    }

    internal static Gen<object> GeneratorFor(MessageType type) => type switch
    {
        MessageType.Ping => WireGen.Ping.Select(m => (object)m),
        MessageType.IndirectPing => WireGen.IndirectPing.Select(m => (object)m),
        MessageType.Ack => WireGen.Ack.Select(m => (object)m),
        MessageType.Nack => WireGen.Nack.Select(m => (object)m),
        MessageType.Alive => WireGen.Alive.Select(m => (object)m),
        MessageType.Suspect => WireGen.Suspect.Select(m => (object)m),
        MessageType.Dead => WireGen.Dead.Select(m => (object)m),
        MessageType.PushPull => WireGen.PushPull.Select(m => (object)m),
        MessageType.StateDigest => WireGen.StateDigest.Select(m => (object)m),
        MessageType.StateDelta => WireGen.StateDelta.Select(m => (object)m),
        MessageType.StateChecksum => WireGen.StateChecksum.Select(m => (object)m),
        MessageType.Heartbeats => WireGen.Heartbeats.Select(m => (object)m),
        MessageType.UserEvent => WireGen.UserEvent.Select(m => (object)m),
        MessageType.EventDigest => WireGen.EventDigest.Select(m => (object)m),
        MessageType.Query => WireGen.Query.Select(m => (object)m),
        MessageType.QueryResponse => WireGen.QueryResponse.Select(m => (object)m),
        MessageType.Aggregate => WireGen.Aggregate.Select(m => (object)m),
        MessageType.Coordinate => WireGen.Coordinate.Select(m => (object)m),
        MessageType.ViewChecksum => WireGen.ViewChecksum.Select(m => (object)m),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    private static void AssertRoundTrip(object message, NameTable? names)
    {
        byte[] packet = MessageOps.EncodeSingle(message);
        Assert.Equal(DecodeError.None, PacketReader.TryOpen(packet, WireLimits.StreamMaxBytes, out PacketReader reader));
        Assert.Equal(MessageOps.TypeOf(message), reader.HeaderType);
        Assert.Equal(PacketFlags.None, reader.Flags);
        Assert.Equal(1, reader.Remaining);
        Assert.True(reader.TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out bool known));
        Assert.True(known);
        Assert.Equal(MessageOps.TypeOf(message), type);
        Assert.Equal(DecodeError.None, Packets.DecodeAny(type, payload, names, out object? decoded));
        MessageEquality.AssertEqual(message, decoded);
        Assert.False(reader.TryNext(out _, out _, out _));
    }

    private static T DecodeSingle<T>(byte[] packet, NameTable names) where T : struct, IWireMessage<T>
    {
        Assert.Equal(DecodeError.None, PacketReader.TryOpen(packet, 1400, out PacketReader reader));
        Assert.True(reader.TryNext(out _, out ReadOnlySpan<byte> payload, out _));
        Assert.Equal(DecodeError.None, T.TryDecode(payload, names, out T message));
        return message;
    }
}
