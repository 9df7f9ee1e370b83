using System.Buffers.Binary;
using System.IO.Compression;

namespace Rumor.Core.Wire;

/// <summary>
/// Compression of a packet's body, flagged in the header (<see cref="PacketFlags.Compressed"/>):
/// <code>
/// compressed packet = version u8 | type u8 | flags u8 (Compressed set) | uncompressed length u32 | Brotli(body) | crc32c u32
/// </code>
/// The CRC covers the compressed bytes, so corruption is caught before any decompression. A body
/// is compressed only when it is at least the threshold long and compression actually saves bytes.
/// The decoder decompresses into a caller-sized buffer and refuses a declared length above it, so a
/// small hostile packet cannot make it allocate or write more than the receiver allows.
/// </summary>
public static class PacketCompression
{
    /// <summary>Bytes the compressed form adds before the Brotli data (the uncompressed length).</summary>
    public const int LengthPrefixBytes = 4;

    // Quality 1 and a 64 KiB window: fast enough for every datagram, and most of the gain on the
    // repetitive text of names, keys and values.
    private const int Quality = 1;
    private const int Window = 16;

    /// <summary>
    /// Writes the compressed form of <paramref name="packet"/> into <paramref name="destination"/>
    /// and returns its length, or 0 when the body is below <paramref name="thresholdBytes"/>, the
    /// packet is already compressed, or compression would not save anything.
    /// </summary>
    public static int TryCompress(ReadOnlySpan<byte> packet, Span<byte> destination, int thresholdBytes)
    {
        if (thresholdBytes <= 0 || packet.Length < WireLimits.OverheadBytes || (packet[2] & (byte)PacketFlags.Compressed) != 0)
        {
            return 0;
        }

        ReadOnlySpan<byte> body = packet[WireLimits.HeaderBytes..^WireLimits.TrailerBytes];
        int room = Math.Min(destination.Length, packet.Length - 1) - WireLimits.OverheadBytes - LengthPrefixBytes;
        if (body.Length < thresholdBytes || room <= 0)
        {
            return 0;
        }

        if (!BrotliEncoder.TryCompress(body, destination.Slice(WireLimits.HeaderBytes + LengthPrefixBytes, room), out int written, Quality, Window))
        {
            return 0; // it did not shrink enough to fit: send it plain
        }

        destination[0] = packet[0];
        destination[1] = packet[1];
        destination[2] = (byte)(packet[2] | (byte)PacketFlags.Compressed);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[WireLimits.HeaderBytes..], (uint)body.Length);
        int end = WireLimits.HeaderBytes + LengthPrefixBytes + written;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[end..], Crc32C.Compute(destination[..end]));
        return end + WireLimits.TrailerBytes;
    }

    /// <summary>Compresses into a new array when worthwhile; returns the packet itself otherwise (streams; not the hot path).</summary>
    public static byte[] Compress(byte[] packet, int thresholdBytes, out int bytesSaved)
    {
        bytesSaved = 0;
        if (thresholdBytes <= 0 || packet.Length - WireLimits.OverheadBytes < thresholdBytes)
        {
            return packet;
        }

        byte[] buffer = new byte[packet.Length];
        int length = TryCompress(packet, buffer, thresholdBytes);
        if (length == 0)
        {
            return packet;
        }

        bytesSaved = packet.Length - length;
        return buffer.AsSpan(0, length).ToArray();
    }

    /// <summary>
    /// As <see cref="Compress(byte[], int, out int)"/>, for a pooled packet: the compressed form in a
    /// pooled array when worthwhile (the packet is then given back), else the packet itself. The same
    /// bytes as the array form: the room given to the encoder is bounded by the packet's length in both.
    /// </summary>
    internal static PooledBytes Compress(PooledBytes packet, int thresholdBytes, out int bytesSaved)
    {
        bytesSaved = 0;
        if (thresholdBytes <= 0 || packet.Length - WireLimits.OverheadBytes < thresholdBytes)
        {
            return packet;
        }

        PooledBytes buffer = PooledBytes.Rent(packet.Length);
        int length = TryCompress(packet.Span, buffer.Array.AsSpan(0, packet.Length), thresholdBytes);
        if (length == 0)
        {
            buffer.Dispose();
            return packet;
        }

        bytesSaved = packet.Length - length;
        packet.Dispose();
        return buffer.WithLength(length);
    }

    /// <summary>The uncompressed body length a compressed packet declares, or -1 when it is not compressed (or too short to say).</summary>
    public static int DeclaredLength(ReadOnlySpan<byte> packet) =>
        packet.Length >= WireLimits.OverheadBytes + LengthPrefixBytes && (packet[2] & (byte)PacketFlags.Compressed) != 0
            ? (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(packet[WireLimits.HeaderBytes..]))
            : -1;

    /// <summary>Decompresses a (checksum-verified) compressed body into <paramref name="buffer"/>.</summary>
    internal static DecodeError TryDecompress(ReadOnlySpan<byte> compressedBody, byte[] buffer, out int length)
    {
        length = 0;
        if (compressedBody.Length < LengthPrefixBytes)
        {
            return DecodeError.Truncated;
        }

        uint declared = BinaryPrimitives.ReadUInt32LittleEndian(compressedBody);
        if (declared > (uint)buffer.Length)
        {
            return DecodeError.TooLarge;
        }

        if (!BrotliDecoder.TryDecompress(compressedBody[LengthPrefixBytes..], buffer.AsSpan(0, (int)declared), out int written) || written != declared)
        {
            return DecodeError.Malformed;
        }

        length = written;
        return DecodeError.None;
    }
}
