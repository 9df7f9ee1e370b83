using System.Buffers.Binary;
using System.IO.Hashing;

namespace Rumor.Serf.Wire;

/// <summary>One memberlist message found in a packet: its type byte and the bytes after it.</summary>
public readonly record struct WireMessage(MemberlistType Type, ReadOnlyMemory<byte> Body);

/// <summary>
/// The framing around messages on UDP (serf-wire.md 3.4, 3.5): CRC <c>[12][u32 CRC32-IEEE BE][rest]</c>,
/// compound <c>[7][n][n × u16 BE length][parts]</c> and compress <c>[9]{Algo, Buf}</c>, nested in any
/// order. <see cref="TryUnpack"/> flattens a datagram into its messages with bounds on nesting,
/// parts and decompressed size; it never throws.
/// </summary>
public static class Packet
{
    /// <summary>Deepest nesting of compound/compress/CRC wrappers accepted.</summary>
    public const int MaxNesting = 4;

    /// <summary>Most messages taken from one datagram.</summary>
    public const int MaxMessages = 512;

    /// <summary>Largest decompressed packet accepted (memberlist reads datagrams of up to 64 KiB).</summary>
    public const int MaxDecompressedBytes = 1 << 20;

    /// <summary>Largest compound part count memberlist can frame (it computes n*2 in a byte).</summary>
    public const int MaxCompoundParts = 127;

    /// <summary>Result of unpacking: the messages, or a reason it failed.</summary>
    public static bool TryUnpack(ReadOnlyMemory<byte> packet, List<WireMessage> messages, out string? error)
    {
        error = null;
        return Unpack(packet, messages, 0, ref error);
    }

    private static bool Unpack(ReadOnlyMemory<byte> packet, List<WireMessage> messages, int depth, ref string? error)
    {
        if (packet.IsEmpty)
        {
            error = "empty message";
            return false;
        }

        if (depth > MaxNesting)
        {
            error = "nesting too deep";
            return false;
        }

        if (messages.Count >= MaxMessages)
        {
            error = "too many messages";
            return false;
        }

        MemberlistType type = (MemberlistType)packet.Span[0];
        ReadOnlyMemory<byte> body = packet[1..];
        switch (type)
        {
            case MemberlistType.HasCrc:
                if (body.Length < 4)
                {
                    error = "truncated CRC";
                    return false;
                }

                uint expected = BinaryPrimitives.ReadUInt32BigEndian(body.Span);
                if (Crc32.HashToUInt32(body.Span[4..]) != expected)
                {
                    error = "CRC mismatch";
                    return false;
                }

                return Unpack(body[4..], messages, depth + 1, ref error);
            case MemberlistType.Compound:
                if (!TrySplitCompound(body, out List<ReadOnlyMemory<byte>> parts, out error))
                {
                    return false;
                }

                bool all = true;
                foreach (ReadOnlyMemory<byte> part in parts)
                {
                    // memberlist handles each part on its own: one bad part does not drop the others.
                    string? partError = null;
                    if (!Unpack(part, messages, depth + 1, ref partError))
                    {
                        error ??= partError;
                        all = false;
                    }
                }

                return all;
            case MemberlistType.Compress:
                if (!CompressMessage.TryDecode(body, out CompressMessage compressed, out _))
                {
                    error = "malformed compress message";
                    return false;
                }

                if (compressed.Algo != 0 || !Lzw.TryDecompress(compressed.Buf, MaxDecompressedBytes, out byte[] inner))
                {
                    error = "bad compressed payload";
                    return false;
                }

                return Unpack(inner, messages, depth + 1, ref error);
            default:
                messages.Add(new WireMessage(type, body));
                return true;
        }
    }

    /// <summary>Splits a compound body (after the type byte); parts cut short by the end of the buffer are dropped, as memberlist does.</summary>
    public static bool TrySplitCompound(ReadOnlyMemory<byte> body, out List<ReadOnlyMemory<byte>> parts, out string? error)
    {
        parts = [];
        error = null;
        ReadOnlySpan<byte> span = body.Span;
        if (span.Length < 1)
        {
            error = "truncated compound";
            return false;
        }

        int count = span[0];
        if (span.Length < 1 + 2 * count)
        {
            error = "truncated compound header";
            return false;
        }

        int offset = 1 + 2 * count;
        for (int i = 0; i < count; i++)
        {
            int length = BinaryPrimitives.ReadUInt16BigEndian(span.Slice(1 + 2 * i, 2));
            if (offset + length > span.Length)
            {
                error = "truncated compound part";
                break;
            }

            parts.Add(body.Slice(offset, length));
            offset += length;
        }

        return true;
    }

    /// <summary>
    /// <c>[7][n][lengths][parts]</c>; a single message is returned as it is. At most
    /// <see cref="MaxCompoundParts"/> parts of at most 65535 bytes each.
    /// </summary>
    public static byte[] Compound(IReadOnlyList<byte[]> parts)
    {
        if (parts.Count == 1)
        {
            return parts[0];
        }

        if (parts.Count is 0 or > MaxCompoundParts)
        {
            throw new ArgumentException($"a compound holds 2..{MaxCompoundParts} parts", nameof(parts));
        }

        int total = 2 + 2 * parts.Count + parts.Sum(p => p.Length);
        byte[] output = new byte[total];
        output[0] = (byte)MemberlistType.Compound;
        output[1] = (byte)parts.Count;
        int offset = 2 + 2 * parts.Count;
        for (int i = 0; i < parts.Count; i++)
        {
            if (parts[i].Length > ushort.MaxValue)
            {
                throw new ArgumentException("a compound part is at most 65535 bytes", nameof(parts));
            }

            BinaryPrimitives.WriteUInt16BigEndian(output.AsSpan(2 + 2 * i), (ushort)parts[i].Length);
            parts[i].CopyTo(output, offset);
            offset += parts[i].Length;
        }

        return output;
    }

    /// <summary><c>[12][CRC32-IEEE of message, BE][message]</c>.</summary>
    public static byte[] WithCrc(ReadOnlySpan<byte> message)
    {
        byte[] output = new byte[5 + message.Length];
        output[0] = (byte)MemberlistType.HasCrc;
        BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(1), Crc32.HashToUInt32(message));
        message.CopyTo(output.AsSpan(5));
        return output;
    }

    /// <summary><c>[9]{Algo: 0, Buf: LZW(message)}</c>.</summary>
    public static byte[] Compress(ReadOnlySpan<byte> message) => new CompressMessage(0, Lzw.Compress(message)).Encode();
}
