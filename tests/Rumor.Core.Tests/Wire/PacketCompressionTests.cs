using System.Buffers.Binary;
using System.Text;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Wire;

public sealed class PacketCompressionTests
{
    private static byte[] LargePacket()
    {
        PacketBuilder builder = new(1400);
        int i = 0;
        while (builder.TryAdd(new AliveMessage($"service-node-{i++:D4}.example.internal", new NodeAddress(0x7F000001, 7946), 1, 2, ProtocolVersions.Current, Encoding.UTF8.GetBytes("role=web,zone=a"))))
        {
        }

        return builder.Finish().ToArray();
    }

    [Fact]
    public void A_compressed_packet_is_smaller_flagged_and_decodes_to_the_same_messages()
    {
        byte[] plain = LargePacket();
        byte[] destination = new byte[plain.Length];
        int length = PacketCompression.TryCompress(plain, destination, thresholdBytes: 256);
        Assert.InRange(length, 1, plain.Length - 1);
        byte[] compressed = destination[..length];
        Assert.Equal((byte)PacketFlags.Compressed, compressed[2]);

        Assert.Equal(DecodeError.UnsupportedFlags, PacketReader.TryOpen(compressed, 1400, out _));
        byte[] buffer = new byte[WireLimits.DatagramMaxBytes];
        Assert.Equal(DecodeError.None, PacketReader.TryOpen(compressed, 1400, buffer, out PacketReader reader));
        Assert.Equal(DecodeError.None, PacketReader.TryOpen(plain, 1400, out PacketReader expected));
        Assert.Equal(expected.Remaining, reader.Remaining);
        while (expected.TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out _))
        {
            Assert.True(reader.TryNext(out MessageType actualType, out ReadOnlySpan<byte> actualPayload, out _));
            Assert.Equal(type, actualType);
            Assert.True(payload.SequenceEqual(actualPayload));
        }
    }

    [Fact]
    public void Small_bodies_and_incompressible_bodies_stay_plain()
    {
        byte[] small = PacketBuilder.EncodeSingle(new AckMessage(1));
        Assert.Equal(0, PacketCompression.TryCompress(small, new byte[100], thresholdBytes: 1));

        byte[] random = new byte[1000];
        new Random(5).NextBytes(random);
        byte[] noise = PacketBuilder.EncodeSingle(new AliveMessage("n", new NodeAddress(1, 1), 1, 1, ProtocolVersions.Current, random));
        Assert.Equal(0, PacketCompression.TryCompress(noise, new byte[noise.Length], thresholdBytes: 64));
    }

    [Fact]
    public void A_declared_length_above_the_buffer_is_refused_before_decompressing()
    {
        byte[] plain = LargePacket();
        byte[] destination = new byte[plain.Length];
        int length = PacketCompression.TryCompress(plain, destination, 256);
        byte[] hostile = destination[..length];
        BinaryPrimitives.WriteUInt32LittleEndian(hostile.AsSpan(3), 50_000_000);
        Reseal(hostile);
        Assert.Equal(DecodeError.TooLarge, PacketReader.TryOpen(hostile, 1400, new byte[65536], out _));
    }

    [Fact]
    public void Corrupt_compressed_data_is_malformed_never_an_exception()
    {
        byte[] plain = LargePacket();
        byte[] destination = new byte[plain.Length];
        int length = PacketCompression.TryCompress(plain, destination, 256);
        for (int i = 7; i < length - 4; i += 7)
        {
            byte[] corrupt = destination[..length];
            corrupt[i] ^= 0x5A;
            Reseal(corrupt);
            DecodeError error = PacketReader.TryOpen(corrupt, 1400, new byte[65536], out PacketReader reader);
            if (error == DecodeError.None)
            {
                // Brotli may still decode to something: the entries must then still tile, or the reader says so.
                while (reader.TryNext(out _, out _, out _))
                {
                }
            }
        }
    }

    private static void Reseal(byte[] packet)
    {
        int end = packet.Length - 4;
        BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(end), Crc32C.Compute(packet.AsSpan(0, end)));
    }

    private static PushPullMessage FullState(int members, string meta) => new(
        false,
        [.. Enumerable.Range(0, members).Select(i => new PushPullMember($"service-node-{i:D4}", new NodeAddress(0x0A000000u + (uint)i, 7946), (uint)i, 7, Membership.MemberState.Alive, ProtocolVersions.Current, Encoding.UTF8.GetBytes(meta)))],
        [new StateSection(1, Encoding.UTF8.GetBytes("section"))]);

    [Theory]
    [InlineData(3, 0)] // below the threshold: the packet itself comes back
    [InlineData(2000, 256)] // a full-state stream of 2,000 members, compressed
    [InlineData(2000, 0)] // compression off
    public void A_pooled_full_state_stream_is_byte_for_byte_the_array_form(int members, int threshold)
    {
        PushPullMessage message = FullState(members, "role=web");
        byte[] expected = PacketCompression.Compress(PacketBuilder.EncodeSingle(message), threshold, out int savedExpected);
        using PooledBytes pooled = PacketCompression.Compress(PacketBuilder.EncodeSinglePooled(message), threshold, out int saved);
        Assert.Equal(expected, pooled.Span.ToArray());
        Assert.Equal(savedExpected, saved);
        Assert.Equal(members > 3 && threshold > 0, (pooled.Span[2] & (byte)PacketFlags.Compressed) != 0);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(1, 256)]
    [InlineData(2, 256)]
    [InlineData(3, 0)]
    public void A_pooled_packet_of_encoded_messages_is_byte_for_byte_the_array_form(int count, int threshold)
    {
        // State streams' replies and pushes: messages encoded into pooled arrays, then one packet.
        PushPullMessage big = FullState(400, "role=web");
        AckMessage small = new(7);
        List<byte[]> arrays = [];
        List<PooledBytes> pooled = [];
        try
        {
            for (int i = 0; i < count; i++)
            {
                arrays.Add(i % 2 == 0 ? PacketBuilder.EncodeMessage(small) : PacketBuilder.EncodeMessage(big));
                pooled.Add(i % 2 == 0 ? PacketBuilder.EncodeMessagePooled(small) : PacketBuilder.EncodeMessagePooled(big));
                Assert.Equal(arrays[i], pooled[i].Span.ToArray());
            }

            byte[] expected = PacketCompression.Compress(PacketBuilder.EncodePacket(arrays), threshold, out int savedExpected);
            using PooledBytes packet = PacketCompression.Compress(PacketBuilder.EncodePacketPooled([.. pooled.Select(p => p.Memory)]), threshold, out int saved);
            Assert.Equal(expected, packet.Span.ToArray());
            Assert.Equal(savedExpected, saved);
            Assert.Equal(DecodeError.None, PacketReader.TryOpen(expected, WireLimits.StreamMaxBytes, new byte[1 << 20], out PacketReader reader));
            int read = 0;
            while (reader.TryNext(out _, out _, out _))
            {
                read++;
            }

            Assert.Equal(count, read);
        }
        finally
        {
            foreach (PooledBytes bytes in pooled)
            {
                PooledBytes owned = bytes;
                owned.Dispose();
            }
        }
    }

    [Fact]
    public void A_pooled_decode_gives_the_same_members_as_the_plain_one()
    {
        PushPullMessage message = FullState(300, "zone=a");
        byte[] packet = PacketBuilder.EncodeSingle(message);
        Assert.Equal(DecodeError.None, PacketReader.TryOpen(packet, WireLimits.StreamMaxBytes, out PacketReader reader));
        Assert.True(reader.TryNext(out _, out ReadOnlySpan<byte> payload, out _));
        Assert.Equal(DecodeError.None, PushPullMessage.TryDecode(payload, new NameTable(), out PushPullMessage plain));
        Assert.Equal(DecodeError.None, PushPullMessage.TryDecode(payload, new NameTable(), pooled: true, out PushPullMessage pooled));
        Assert.Equal(plain.Members.Count, pooled.Members.Count);
        for (int i = 0; i < plain.Members.Count; i++)
        {
            Assert.Equal(plain.Members[i].Name, pooled.Members[i].Name);
            Assert.Equal(plain.Members[i].Address, pooled.Members[i].Address);
            Assert.Equal(plain.Members[i].Incarnation, pooled.Members[i].Incarnation);
            Assert.Equal(plain.Members[i].Meta, pooled.Members[i].Meta);
        }

        Assert.Equal(300, pooled.Members.Count(m => m.Name is not null));
        Assert.IsType<ArraySegment<PushPullMember>>(pooled.Members); // rented: the array may be longer than the count
        Assert.IsType<PushPullMember[]>(plain.Members);
        PushPullMessage.Release(pooled);
        PushPullMessage.Release(plain); // an array-backed message: nothing to give back
        Assert.Equal(300, plain.Members.Count(m => m.Name is not null));

        // A failed pooled decode gives its array back and reports the error as the plain one does.
        Assert.Equal(
            PushPullMessage.TryDecode(payload[..^3], new NameTable(), out _),
            PushPullMessage.TryDecode(payload[..^3], new NameTable(), pooled: true, out _));
    }
}
