using System.Buffers.Binary;

namespace Rumor.Transport;

/// <summary>
/// Framing of stream (TCP) exchanges. One connection carries exactly one exchange:
/// <code>
/// initiator -> receiver:  request frame
/// receiver  -> initiator: reply frame (or nothing: the receiver closes without replying)
/// frame = length:u32 little-endian | length bytes (one complete Rumor wire message)
/// </code>
/// then both sides close. A length above the reader's StreamMaxBytes is rejected before anything
/// is allocated, so a hostile or broken peer cannot make us reserve memory it never sends. TCP
/// already delivers the bytes intact and in order; the payload carries its own CRC32C anyway,
/// and the core checks it as for datagrams.
/// </summary>
internal static class StreamFraming
{
    /// <summary>Bytes of the length prefix.</summary>
    public const int PrefixBytes = 4;

    /// <summary>Copies <paramref name="payload"/> into one buffer holding the whole frame (prefix and bytes), ready to send in one write.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> payload)
    {
        byte[] frame = new byte[PrefixBytes + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(PrefixBytes));
        return frame;
    }

    /// <summary>Reads one frame. Throws <see cref="StreamFrameException"/> for an oversized length and <see cref="EndOfStreamException"/> when the peer closes early.</summary>
    public static async Task<byte[]> ReadFrameAsync(Stream stream, int maxBytes, CancellationToken cancellationToken)
    {
        byte[] prefix = new byte[PrefixBytes];
        await stream.ReadExactlyAsync(prefix, cancellationToken).ConfigureAwait(false);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(prefix);
        if (length > (uint)maxBytes)
        {
            throw new StreamFrameException($"the peer announced a {length}-byte message, above StreamMaxBytes ({maxBytes})");
        }

        // The buffer grows with what arrives (from 64 KiB, doubling), so a peer that announces
        // StreamMaxBytes and then sends little or nothing costs what it sent, not what it announced:
        // a flood of such streams no longer reserves StreamsMax x 16 MB up front.
        int total = (int)length;
        byte[] payload = new byte[Math.Min(total, InitialBufferBytes)];
        int read = 0;
        while (read < total)
        {
            if (read == payload.Length)
            {
                Array.Resize(ref payload, (int)Math.Min(total, payload.Length * 2L));
            }

            int received = await stream.ReadAsync(payload.AsMemory(read), cancellationToken).ConfigureAwait(false);
            if (received == 0)
            {
                throw new EndOfStreamException($"the peer closed the stream after {read} of the {total} bytes it announced");
            }

            read += received;
        }

        return payload;
    }

    /// <summary>The first buffer of a frame's payload: a whole push-pull of a small cluster; larger frames grow it.</summary>
    internal const int InitialBufferBytes = 64 * 1024;
}
