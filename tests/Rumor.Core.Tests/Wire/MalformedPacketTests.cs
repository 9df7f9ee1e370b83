using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using Rumor.Core.Aggregates;
using Rumor.Core.Coordinates;
using Rumor.Core.Membership;
using Rumor.Core.Tests.Support;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Wire;

/// <summary>
/// The receive path must turn every hostile or damaged input into a <see cref="DecodeError"/>, never an
/// exception, and never allocate more than the input justifies. Bodies corrupted on purpose are
/// re-sealed with a correct CRC so they get past the checksum and reach the deeper checks. Every
/// message type 2..18 has a sample here (both forms of the state digest), so each corpus below runs
/// over all of them: every truncation, every single-bit flip (of the packet, caught by the CRC, and of
/// the payload behind it, which must decode to a canonical value or a typed error with bounded
/// allocation), a trailing byte, hostile counts and lengths at their maxima over short input, counts
/// one above what the input can hold, and every documented field bound from both sides.
/// </summary>
public class MalformedPacketTests
{
    private static readonly NodeAddress Address = NodeAddress.Parse("10.0.0.1:7946");

    private static readonly object[] Samples =
    [
        new PingMessage(1, "target", "source", Address),
        new IndirectPingMessage(2, "target", NodeAddress.Parse("[fe80::1]:80"), true),
        new AckMessage(3),
        new NackMessage(4),
        new AliveMessage("n1", Address, 5, 6, ProtocolVersions.Current, [1, 2, 3]),
        new SuspectMessage("n1", 7, 8, "n2"),
        new DeadMessage("n1", 9, 10, "n1"),
        new PushPullMessage(false, [new PushPullMember("n1", Address, 1, 2, MemberState.Dead, ProtocolVersions.Current, [9])], [new StateSection(1, [1, 2])]),
        new StateDigestMessage(DigestFlags.WantDeltas, "n1", 11, [new DigestEntry("a", 1, 2), new DigestEntry("b", 3, 4)], null),
        new StateDigestMessage(DigestFlags.Bloom | DigestFlags.WantDigest, "n1", 12, [], new BloomDigest(5, 3, 2, [0xAA, 0x55])),
        new StateDeltaMessage(true, [new OwnerDelta("a", 1, false, 2, 4, [new StateEntry("k", 3, false, 6, [1, 2]), new StateEntry("t", 4, true, 5, [])]), new OwnerDelta("b", 2, true, 0, 0, [])]),
        new StateChecksumMessage("n1", 1, 2, 3),
        new HeartbeatsMessage([new HeartbeatEntry("a", 1, 2), new HeartbeatEntry("b", 3, 4)]),
        new UserEventMessage("a", 1, 2, 3, 2, "ev", [7]),
        new EventDigestMessage(1, 4, true, 2, [0x0F]),
        new QueryMessage("a", 1, 2, 3, Address, 500, "q", "k=v"u8.ToArray(), [8]),
        new QueryResponseMessage(1, 2, "b", [9]),
        new AggregateMessage(AggregateFlags.Reply, "k", 1, "a", 2, 1, new PushSumState(1, 1, 1, 0.5), 0, 2, 1, 2, 2),
        new CoordinateMessage(3, new NetworkCoordinate([0.001, -0.002, 0, 0, 0, 0, 0, 0.5], 0.75, -1.25e-5, 2.5e-5)),
        new ViewChecksumMessage(3, 0xFEDCBA9876543210),
    ];

    public static TheoryData<int> SampleIndexes()
    {
        TheoryData<int> data = [];
        for (int i = 0; i < Samples.Length; i++)
        {
            data.Add(i);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Truncated_at_every_length_is_rejected(int sample)
    {
        byte[] packet = MessageOps.EncodeSingle(Samples[sample]);
        for (int length = 0; length < packet.Length; length++)
        {
            DecodeError error = PacketReader.TryOpen(packet.AsSpan(0, length), 1400, out _);
            DecodeError expected = length < WireLimits.OverheadBytes ? DecodeError.Truncated : DecodeError.BadChecksum;
            Assert.True(expected == error, $"length {length}: {error}");
        }
    }

    [Fact]
    public void Truncated_compound_is_rejected_at_every_length()
    {
        byte[] packet = CompoundOfSamples();
        for (int length = 0; length < packet.Length; length++)
        {
            DecodeError error = PacketReader.TryOpen(packet.AsSpan(0, length), 1400, out _);
            Assert.True(error is DecodeError.Truncated or DecodeError.BadChecksum, $"length {length}: {error}");
        }
    }

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Payload_truncated_at_every_length_and_resealed_decodes_as_Truncated(int sample)
    {
        object message = Samples[sample];
        byte[] payload = Packets.Payload(message);
        for (int length = 0; length < payload.Length; length++)
        {
            byte[] packet = Packets.Seal(MessageOps.TypeOf(message), payload.AsSpan(0, length));
            List<object?> decoded = [];
            Assert.Equal(DecodeError.Truncated, Packets.DecodeAll(packet, 1400, null, decoded));
        }
    }

    [Fact]
    public void Compound_body_truncated_at_every_length_and_resealed_is_Truncated()
    {
        byte[] packet = CompoundOfSamples();
        ReadOnlySpan<byte> body = packet.AsSpan(3, packet.Length - 7);
        for (int length = 0; length < body.Length; length++)
        {
            byte[] truncated = Packets.Seal(MessageType.Compound, body[..length]);
            Assert.Equal(DecodeError.Truncated, PacketReader.TryOpen(truncated, 1400, out _));
        }
    }

    [Fact]
    public void Generated_payloads_cut_anywhere_decode_as_Truncated()
    {
        Gen<(object Message, int Seed)> cases = from m in WireGen.AnyMessage from s in WireGen.Seed select (m, s);
        Properties.Check(cases, c =>
        {
            byte[] payload = Packets.Payload(c.Message);
            Random random = new(c.Seed);
            for (int i = 0; i < 20; i++)
            {
                int length = random.Next(payload.Length);
                Assert.Equal(DecodeError.Truncated, Packets.DecodeAny(MessageOps.TypeOf(c.Message), payload.AsSpan(0, length), null, out _));
            }
        }, maxTest: 150);
    }

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Every_single_bit_flip_is_caught(int sample)
    {
        byte[] packet = MessageOps.EncodeSingle(Samples[sample]);
        AssertEveryBitFlipCaught(packet);
    }

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Every_single_bit_flip_of_a_payload_decodes_canonically_or_fails_with_a_reason(int sample)
    {
        // Behind a valid CRC (a sender with a bug, or a peer that lies): every flipped bit must give
        // a typed error or a value whose own encoding is exactly the bytes received (the decoder
        // accepts canonical encodings only, so an out-of-range flag or field cannot slip through as
        // something else), and a flipped count or length must not make the decoder allocate for it.
        object message = Samples[sample];
        MessageType type = MessageOps.TypeOf(message);
        byte[] payload = Packets.Payload(message);
        long bound = 4096 + (64L * payload.Length);
        for (int bit = 0; bit < payload.Length * 8; bit++)
        {
            byte[] flipped = (byte[])payload.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            _ = Packets.DecodeAny(type, flipped, null, out _);
            long before = GC.GetAllocatedBytesForCurrentThread();
            DecodeError error = Packets.DecodeAny(type, flipped, null, out object? decoded);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(Enum.IsDefined(error), $"bit {bit}: {error}");
            Assert.True(allocated <= bound, $"bit {bit}: allocated {allocated} bytes for a {payload.Length}-byte payload ({error})");
            if (error == DecodeError.None)
            {
                Assert.True(Hex.Format(flipped) == Hex.Format(Packets.Payload(decoded!)), $"bit {bit}: decoded {MessageEquality.Describe(decoded)}, which encodes differently");
            }
        }
    }

    [Fact]
    public void Every_single_bit_flip_of_a_compound_is_caught()
    {
        AssertEveryBitFlipCaught(CompoundOfSamples());
    }

    [Fact]
    public void Bit_flips_behind_a_valid_crc_never_throw()
    {
        // Flip bits in the body, re-seal, and let the structural checks deal with whatever results.
        Gen<(object Message, int Seed)> cases = from m in WireGen.SmallMessage from s in WireGen.Seed select (m, s);
        Properties.Check(cases, c =>
        {
            byte[] original = MessageOps.EncodeSingle(c.Message);
            Random random = new(c.Seed);
            for (int i = 0; i < 50; i++)
            {
                byte[] packet = (byte[])original.Clone();
                int flips = random.Next(1, 4);
                for (int f = 0; f < flips; f++)
                {
                    int bit = random.Next(8 * (packet.Length - 7));
                    packet[3 + (bit / 8)] ^= (byte)(1 << (bit % 8));
                }

                Packets.Reseal(packet);
                _ = Packets.DecodeAll(packet, WireLimits.StreamMaxBytes, new NameTable(), []);
            }
        }, maxTest: 100);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(0xFF)]
    public void Wrong_version_is_UnsupportedVersion(byte version)
    {
        byte[] packet = Packets.Seal((byte)MessageType.Ack, [1, 0, 0, 0], version: version);
        Assert.Equal(DecodeError.UnsupportedVersion, PacketReader.TryOpen(packet, 1400, out _));
    }

    [Theory]
    [InlineData(0x01)]
    [InlineData(0x02)]
    [InlineData(0x03)]
    [InlineData(0x04)]
    [InlineData(0x80)]
    public void Any_flag_is_UnsupportedFlags_in_v1(byte flags)
    {
        byte[] packet = Packets.Seal((byte)MessageType.Ack, [1, 0, 0, 0], flags: flags);
        Assert.Equal(DecodeError.UnsupportedFlags, PacketReader.TryOpen(packet, 1400, out _));
    }

    [Fact]
    public void Builder_never_writes_a_flag_a_v1_reader_accepts()
    {
        // Reset(flags) exists for the compression and encryption work; until then a flagged packet is refused.
        PacketBuilder builder = new(1400);
        builder.Reset(1400, PacketFlags.Compressed);
        Assert.True(builder.TryAdd(new AckMessage(1)));
        Assert.Equal(DecodeError.UnsupportedFlags, PacketReader.TryOpen(builder.Finish(), 1400, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(21)]
    [InlineData(0x7F)]
    [InlineData(0xFF)]
    public void Unknown_top_level_type_is_UnknownType(byte type)
    {
        byte[] packet = Packets.Seal(type, [1, 0, 0, 0]);
        Assert.Equal(DecodeError.UnknownType, PacketReader.TryOpen(packet, 1400, out _));
    }

    [Fact]
    public void Packet_over_the_budget_is_TooLarge()
    {
        byte[] packet = PacketBuilder.EncodeSingle(new AliveMessage("n", Address, 1, 1, ProtocolVersions.Current, new byte[200]));
        Assert.Equal(DecodeError.TooLarge, PacketReader.TryOpen(packet, packet.Length - 1, out _));
        Assert.Equal(DecodeError.None, PacketReader.TryOpen(packet, packet.Length, out _));
    }

    [Fact]
    public void Compound_with_an_unknown_inner_type_yields_it_as_unknown_and_still_yields_the_others()
    {
        PacketBuilder builder = new(1400);
        Assert.True(builder.TryAdd(new AckMessage(1)));
        Assert.True(builder.TryAddEncoded([200, 0xAA, 0xBB, 0xCC]));
        Assert.True(builder.TryAdd(new SuspectMessage("n1", 2, 3, "n2")));
        byte[] packet = builder.Finish().ToArray();

        Assert.Equal(DecodeError.None, PacketReader.TryOpen(packet, 1400, out PacketReader reader));
        Assert.Equal(MessageType.Compound, reader.HeaderType);
        Assert.Equal(3, reader.Remaining);

        Assert.True(reader.TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out bool known));
        Assert.True(known);
        Assert.Equal(DecodeError.None, AckMessage.TryDecode(payload, null, out AckMessage ack));
        Assert.Equal(new AckMessage(1), ack);
        Assert.Equal(MessageType.Ack, type);

        Assert.True(reader.TryNext(out type, out payload, out known));
        Assert.False(known);
        Assert.Equal(200, (byte)type);
        Assert.Equal("AABBCC", Convert.ToHexString(payload));

        Assert.True(reader.TryNext(out type, out payload, out known));
        Assert.True(known);
        Assert.Equal(MessageType.Suspect, type);
        Assert.Equal(DecodeError.None, SuspectMessage.TryDecode(payload, null, out SuspectMessage suspect));
        Assert.Equal(new SuspectMessage("n1", 2, 3, "n2"), suspect);

        Assert.False(reader.TryNext(out _, out _, out _));
    }

    [Fact]
    public void Nested_compound_is_Malformed()
    {
        byte[] inner = [(byte)MessageType.Compound, 1, 5, 0, 4, 1, 0, 0, 0];
        byte[] packet = Packets.Seal(MessageType.Compound, Packets.CompoundBody([4, 1, 0, 0, 0], inner));
        Assert.Equal(DecodeError.Malformed, PacketReader.TryOpen(packet, 1400, out _));
    }

    [Fact]
    public void Compound_with_count_zero_is_Malformed()
    {
        Assert.Equal(DecodeError.Malformed, PacketReader.TryOpen(Packets.Seal(MessageType.Compound, [0]), 1400, out _));
    }

    [Fact]
    public void Compound_with_an_empty_body_is_Truncated()
    {
        Assert.Equal(DecodeError.Truncated, PacketReader.TryOpen(Packets.Seal(MessageType.Compound, []), 1400, out _));
    }

    [Fact]
    public void Compound_entry_of_length_zero_is_Malformed()
    {
        byte[] body = [2, 5, 0, 4, 1, 0, 0, 0, 0, 0];
        Assert.Equal(DecodeError.Malformed, PacketReader.TryOpen(Packets.Seal(MessageType.Compound, body), 1400, out _));
    }

    [Fact]
    public void Compound_claiming_more_entries_than_it_holds_is_Truncated()
    {
        byte[] body = Packets.CompoundBody([4, 1, 0, 0, 0], [5, 2, 0, 0, 0]);
        body[0] = 3;
        Assert.Equal(DecodeError.Truncated, PacketReader.TryOpen(Packets.Seal(MessageType.Compound, body), 1400, out _));
    }

    [Fact]
    public void Compound_entry_longer_than_the_body_is_Truncated()
    {
        byte[] body = Packets.CompoundBody([4, 1, 0, 0, 0], [5, 2, 0, 0, 0]);
        body[1 + 7] = 6; // second entry's length: 6 instead of 5
        Assert.Equal(DecodeError.Truncated, PacketReader.TryOpen(Packets.Seal(MessageType.Compound, body), 1400, out _));
    }

    [Fact]
    public void Compound_with_bytes_after_the_last_entry_is_TrailingBytes()
    {
        byte[] body = [.. Packets.CompoundBody([4, 1, 0, 0, 0], [5, 2, 0, 0, 0]), 0xEE];
        Assert.Equal(DecodeError.TrailingBytes, PacketReader.TryOpen(Packets.Seal(MessageType.Compound, body), 1400, out _));

        byte[] shortened = Packets.CompoundBody([4, 1, 0, 0, 0], [5, 2, 0, 0, 0]);
        shortened[1] = 4; // first entry claims 4 bytes: the rest no longer tiles
        Assert.NotEqual(DecodeError.None, PacketReader.TryOpen(Packets.Seal(MessageType.Compound, shortened), 1400, out _));
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xC3 })]
    [InlineData(new byte[] { 0xC0, 0x80 })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0x61, 0xF8, 0x88, 0x80, 0x80, 0x80 })]
    public void Bad_utf8_in_any_name_is_Malformed(byte[] badName)
    {
        byte[] name = [(byte)badName.Length, .. badName];
        byte[] good = [1, 0x61];
        byte[] address = [4, 10, 0, 0, 1, 0x0A, 0x1F];
        byte[] u32 = [1, 0, 0, 0];
        byte[] u64 = [1, 0, 0, 0, 0, 0, 0, 0];
        byte[] versions = [1, 1, 1, 0, 0, 0];
        byte[] noMeta = [0, 0];

        AssertDecodeError(DecodeError.Malformed, MessageType.Suspect, [.. name, .. u32, .. u64, .. good]);
        AssertDecodeError(DecodeError.Malformed, MessageType.Suspect, [.. good, .. u32, .. u64, .. name]);
        AssertDecodeError(DecodeError.Malformed, MessageType.Dead, [.. name, .. u32, .. u64, .. good]);
        AssertDecodeError(DecodeError.Malformed, MessageType.Ping, [.. u32, .. name, .. good, .. address]);
        AssertDecodeError(DecodeError.Malformed, MessageType.Ping, [.. u32, .. good, .. name, .. address]);
        AssertDecodeError(DecodeError.Malformed, MessageType.IndirectPing, [.. u32, .. name, .. address, 0]);
        AssertDecodeError(DecodeError.Malformed, MessageType.Alive, [.. name, .. address, .. u32, .. u64, .. versions, .. noMeta]);
        AssertDecodeError(DecodeError.Malformed, MessageType.PushPull, [0, 1, 0, 0, 0, .. name, .. address, .. u32, .. u64, 0, .. versions, .. noMeta, 0]);

        // The same messages with a good name decode, so the failure above is the name's.
        AssertDecodeError(DecodeError.None, MessageType.Suspect, [.. good, .. u32, .. u64, .. good]);
        AssertDecodeError(DecodeError.None, MessageType.Ping, [.. u32, .. good, .. good, .. address]);
        AssertDecodeError(DecodeError.None, MessageType.IndirectPing, [.. u32, .. good, .. address, 0]);
        AssertDecodeError(DecodeError.None, MessageType.Alive, [.. good, .. address, .. u32, .. u64, .. versions, .. noMeta]);
        AssertDecodeError(DecodeError.None, MessageType.PushPull, [0, 1, 0, 0, 0, .. good, .. address, .. u32, .. u64, 0, .. versions, .. noMeta, 0]);
    }

    [Fact]
    public void Empty_names_are_Malformed_except_a_ping_target()
    {
        byte[] u32 = [1, 0, 0, 0];
        byte[] u64 = [1, 0, 0, 0, 0, 0, 0, 0];
        byte[] address = [4, 10, 0, 0, 1, 0x0A, 0x1F];
        AssertDecodeError(DecodeError.Malformed, MessageType.Suspect, [0, .. u32, .. u64, 1, 0x61]);
        AssertDecodeError(DecodeError.Malformed, MessageType.Dead, [1, 0x61, .. u32, .. u64, 0]);
        AssertDecodeError(DecodeError.Malformed, MessageType.Ping, [.. u32, 1, 0x61, 0, .. address]);
        AssertDecodeError(DecodeError.None, MessageType.Ping, [.. u32, 0, 1, 0x61, .. address]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(7)]
    [InlineData(0xFF)]
    public void Address_family_other_than_4_or_6_is_Malformed(byte family)
    {
        byte[] payload = Packets.Payload(new PingMessage(1, "t", "s", Address));
        int familyOffset = 4 + 2 + 2;
        Assert.Equal(4, payload[familyOffset]);
        payload[familyOffset] = family;
        AssertDecodeError(DecodeError.Malformed, MessageType.Ping, payload);
    }

    [Fact]
    public void Bytes_after_the_last_field_are_TrailingBytes()
    {
        foreach (object message in Samples)
        {
            byte[] payload = [.. Packets.Payload(message), 0];
            AssertDecodeError(DecodeError.TrailingBytes, MessageOps.TypeOf(message), payload);
        }
    }

    [Fact]
    public void IndirectPing_with_unknown_flag_bits_is_Malformed()
    {
        byte[] payload = Packets.Payload(new IndirectPingMessage(1, "t", Address, false));
        payload[^1] = 2;
        AssertDecodeError(DecodeError.Malformed, MessageType.IndirectPing, payload);
        payload[^1] = 1;
        AssertDecodeError(DecodeError.None, MessageType.IndirectPing, payload);
    }

    [Fact]
    public void Versions_with_min_above_max_are_Malformed()
    {
        AssertDecodeError(DecodeError.Malformed, MessageType.Alive, Packets.Payload(new AliveMessage("n", Address, 1, 1, new ProtocolVersions(2, 1, 1, 0, 0, 0), [])));
        AssertDecodeError(DecodeError.Malformed, MessageType.Alive, Packets.Payload(new AliveMessage("n", Address, 1, 1, new ProtocolVersions(1, 1, 1, 3, 2, 0), [])));
    }

    [Fact]
    public void Metadata_over_4096_bytes_is_Malformed()
    {
        byte[] payload = Packets.Payload(new AliveMessage("n", Address, 1, 1, ProtocolVersions.Current, new byte[WireLimits.MetaMaxBytes + 1]));
        AssertDecodeError(DecodeError.Malformed, MessageType.Alive, payload);
        payload = Packets.Payload(new AliveMessage("n", Address, 1, 1, ProtocolVersions.Current, new byte[WireLimits.MetaMaxBytes]));
        AssertDecodeError(DecodeError.None, MessageType.Alive, payload);
    }

    [Fact]
    public void PushPull_field_checks()
    {
        PushPullMember member = new("n1", Address, 1, 2, MemberState.Left, ProtocolVersions.Current, []);
        byte[] good = Packets.Payload(new PushPullMessage(false, [member], []));
        AssertDecodeError(DecodeError.None, MessageType.PushPull, good);

        byte[] badFlags = (byte[])good.Clone();
        badFlags[0] = 2;
        AssertDecodeError(DecodeError.Malformed, MessageType.PushPull, badFlags);

        // state byte: after flags 1, count 4, name 3, address 7, incarnation 4, generation 8.
        byte[] badState = (byte[])good.Clone();
        int stateOffset = 1 + 4 + 3 + 7 + 4 + 8;
        Assert.Equal((byte)MemberState.Left, badState[stateOffset]);
        badState[stateOffset] = 4;
        AssertDecodeError(DecodeError.Malformed, MessageType.PushPull, badState);

        byte[] tooManyMembers = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(tooManyMembers.AsSpan(1), WireLimits.PushPullMaxMembers + 1);
        AssertDecodeError(DecodeError.Malformed, MessageType.PushPull, tooManyMembers);

        byte[] tooManySections = (byte[])good.Clone();
        tooManySections[^1] = WireLimits.PushPullMaxSections + 1;
        AssertDecodeError(DecodeError.Malformed, MessageType.PushPull, tooManySections);

        byte[] sectionTooLong = Packets.Payload(new PushPullMessage(false, [], [new StateSection(7, [1, 2, 3])]));
        BinaryPrimitives.WriteUInt32LittleEndian(sectionTooLong.AsSpan(1 + 4 + 1 + 2), 4);
        AssertDecodeError(DecodeError.Truncated, MessageType.PushPull, sectionTooLong);
        BinaryPrimitives.WriteUInt32LittleEndian(sectionTooLong.AsSpan(1 + 4 + 1 + 2), uint.MaxValue);
        AssertDecodeError(DecodeError.Truncated, MessageType.PushPull, sectionTooLong);
    }

    [Fact]
    public void Encoder_refuses_more_than_16_sections()
    {
        StateSection[] sections = Enumerable.Range(0, WireLimits.PushPullMaxSections + 1).Select(i => new StateSection((ushort)i, [])).ToArray();
        PushPullMessage message = new(false, [], sections);
        Assert.Throws<InvalidOperationException>(() => PacketBuilder.EncodeSingle(message));
    }

    [Fact]
    public void PushPull_claiming_a_million_members_in_100_bytes_fails_without_allocating()
    {
        byte[] body = new byte[100 - WireLimits.OverheadBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(1), 1_000_000);
        byte[] packet = Packets.Seal(MessageType.PushPull, body);
        Assert.Equal(100, packet.Length);
        NameTable names = new();

        DecodeError Decode()
        {
            DecodeError error = PacketReader.TryOpen(packet, 1400, out PacketReader reader);
            if (error != DecodeError.None)
            {
                return error;
            }

            reader.TryNext(out _, out ReadOnlySpan<byte> payload, out _);
            return PushPullMessage.TryDecode(payload, names, out _);
        }

        Assert.NotEqual(DecodeError.None, Decode()); // warm-up (JIT, statics)
        long before = GC.GetAllocatedBytesForCurrentThread();
        DecodeError result = Decode();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(DecodeError.Truncated, result);
        Assert.True(allocated < 10_000, $"allocated {allocated} bytes");
    }

    [Fact]
    public void PushPull_decode_allocation_is_bounded_by_the_input()
    {
        // A count the input can just about justify: 30 bytes per member (the minimum encoding) but
        // every member broken at the end, so the decoder allocates its array and then fails.
        int count = 1000;
        byte[] body = new byte[1 + 4 + (count * PushPullMember.MinEncodedLength)];
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(1), (uint)count);
        _ = PushPullMessage.TryDecode(body, null, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        DecodeError error = PushPullMessage.TryDecode(body, null, out _);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.NotEqual(DecodeError.None, error);
        Assert.True(allocated < 8L * body.Length, $"allocated {allocated} bytes for {body.Length} bytes of input");
    }

    [Fact]
    public void Random_garbage_never_throws()
    {
        Random random = new(12345);
        NameTable names = new(capacity: 1024);
        int reachedDecoders = 0;
        for (int i = 0; i < 10_000; i++)
        {
            byte[] input = new byte[random.Next(0, 300)];
            random.NextBytes(input);
            if (input.Length >= WireLimits.OverheadBytes && random.Next(2) == 0)
            {
                // Half the time make it look plausible so the structural checks are exercised too.
                input[0] = WireLimits.FormatVersion;
                input[1] = (byte)random.Next(0, 22);
                input[2] = 0;
                Packets.Reseal(input);
            }

            DecodeError error = Packets.DecodeAll(input, 1400, names, []);
            if (error is not (DecodeError.Truncated or DecodeError.BadChecksum or DecodeError.UnsupportedVersion or DecodeError.UnsupportedFlags or DecodeError.UnknownType or DecodeError.TooLarge))
            {
                reachedDecoders++;
            }

            // Every decoder on the raw bytes as a payload, whatever the header says.
            for (MessageType type = MessageType.Ping; type <= MessageType.ViewChecksum; type++)
            {
                _ = Packets.DecodeAny(type, input, names, out _);
            }
        }

        Assert.True(reachedDecoders > 1000, $"only {reachedDecoders} inputs got past the header checks");
    }

    [Fact]
    public void Random_garbage_property_never_throws()
    {
        Gen<byte[]> garbage = WireGen.Bytes(Gen.Choose(0, 2000));
        Properties.Check(garbage, input =>
        {
            _ = Packets.DecodeAll(input, WireLimits.DatagramMaxBytes, null, []);
            for (MessageType type = MessageType.Ping; type <= MessageType.ViewChecksum; type++)
            {
                _ = Packets.DecodeAny(type, input, null, out _);
            }
        }, maxTest: 500);
    }

    private static void AssertEveryBitFlipCaught(byte[] packet)
    {
        for (int bit = 0; bit < packet.Length * 8; bit++)
        {
            byte[] flipped = (byte[])packet.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            DecodeError error = PacketReader.TryOpen(flipped, 1400, out _);
            DecodeError expected = bit < 8 ? DecodeError.UnsupportedVersion : DecodeError.BadChecksum;
            Assert.True(expected == error, $"bit {bit}: {error}");
        }
    }

    private static void AssertDecodeError(DecodeError expected, MessageType type, byte[] payload)
    {
        // Through the whole receive path: sealed into a packet, opened, walked, decoded.
        byte[] packet = Packets.Seal(type, payload);
        Assert.Equal(expected, Packets.DecodeAll(packet, WireLimits.StreamMaxBytes, new NameTable(), []));
    }

    private static byte[] CompoundOfSamples()
    {
        PacketBuilder builder = new(1400);
        foreach (object message in Samples)
        {
            Assert.True(MessageOps.TryAdd(builder, message));
        }

        return builder.Finish().ToArray();
    }
}
