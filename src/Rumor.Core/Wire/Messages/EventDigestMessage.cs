namespace Rumor.Core.Wire.Messages;

/// <summary>
/// Anti-entropy for user events: a Bloom filter of the event ids (origin, generation, sequence) the
/// sender holds within its retention window. The receiver re-sends, directly, the events it holds
/// that the filter does not contain; when the digest asks for a reply (flags bit 0) and summarises
/// more events than the receiver finds of its own in it, the receiver also answers with its own
/// digest (no reply wanted), so the exchange repairs both sides. Payload: salt u32 · hash count u8
/// (1..32) · flags u8 (bit 0: reply wanted; other bits 0) · events u32 (how many the filter
/// summarises) · bits (u16 length, at least 1 byte, + bytes). The salt changes every round, so an
/// event hidden by a false positive in one round is found in a later one.
/// </summary>
public readonly record struct EventDigestMessage(uint Salt, byte HashCount, bool ReplyWanted, uint EventCount, byte[] Bits) : IWireMessage<EventDigestMessage>
{
    /// <summary>Most hash functions a filter may use.</summary>
    public const int MaxHashCount = 32;

    /// <inheritdoc />
    public static MessageType Type => MessageType.EventDigest;

    /// <inheritdoc />
    public int PayloadLength => 4 + 1 + 1 + 4 + 2 + Bits.Length;

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer)
    {
        writer.WriteUInt32(Salt);
        writer.WriteByte(HashCount);
        writer.WriteByte(ReplyWanted ? (byte)1 : (byte)0);
        writer.WriteUInt32(EventCount);
        writer.WriteBytes16(Bits);
    }

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out EventDigestMessage message)
    {
        message = default;
        WireReader reader = new(payload);
        if (!reader.TryReadUInt32(out uint salt) || !reader.TryReadByte(out byte hashes) || !reader.TryReadByte(out byte flags) || !reader.TryReadUInt32(out uint count))
        {
            return DecodeError.Truncated;
        }

        if (hashes is 0 or > MaxHashCount || flags > 1)
        {
            return DecodeError.Malformed;
        }

        DecodeError error = reader.TryReadBytes16(ushort.MaxValue, out byte[] bits);
        if (error != DecodeError.None)
        {
            return error;
        }

        if (bits.Length == 0)
        {
            return DecodeError.Malformed;
        }

        message = new EventDigestMessage(salt, hashes, flags == 1, count, bits);
        return reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;
    }
}
