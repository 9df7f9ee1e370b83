using System.Buffers.Binary;

namespace Rumor.Core.Wire;

/// <summary>
/// Validates a packet and walks its messages without copying. <see cref="TryOpen(ReadOnlySpan{byte}, int, byte[], out PacketReader)"/> checks the size
/// against the budget, the version, the flags, the checksum and (for compound packets) that the
/// entries tile the body exactly; only then are messages handed out. Nothing here throws or
/// allocates. A message of a type this version does not know is reported as such and skipped, so a
/// newer peer's compound packet still delivers the messages we understand.
/// </summary>
public ref struct PacketReader
{
    private readonly ReadOnlySpan<byte> _body;
    private readonly bool _compound;
    private int _position;
    private int _remaining;

    private PacketReader(ReadOnlySpan<byte> body, bool compound, int count, PacketFlags flags, MessageType type)
    {
        _body = body;
        _compound = compound;
        _position = compound ? 1 : 0;
        _remaining = count;
        Flags = flags;
        HeaderType = type;
    }

    /// <summary>The header flags.</summary>
    public PacketFlags Flags { get; }

    /// <summary>The header type (Compound, or the single message's type).</summary>
    public MessageType HeaderType { get; }

    /// <summary>Messages not yet read.</summary>
    public readonly int Remaining => _remaining;

    /// <summary>Validates <paramref name="packet"/> and prepares to read its messages (compressed packets are refused: no buffer).</summary>
    public static DecodeError TryOpen(ReadOnlySpan<byte> packet, int budgetBytes, out PacketReader reader) =>
        TryOpen(packet, budgetBytes, null, out reader);

    /// <summary>
    /// Validates <paramref name="packet"/> and prepares to read its messages. A compressed packet is
    /// decompressed into <paramref name="decompressionBuffer"/> (its length is the most the body may
    /// grow to); without a buffer, compressed packets are <see cref="DecodeError.UnsupportedFlags"/>.
    /// The reader then points into that buffer: keep the buffer untouched while reading.
    /// </summary>
    public static DecodeError TryOpen(ReadOnlySpan<byte> packet, int budgetBytes, byte[]? decompressionBuffer, out PacketReader reader)
    {
        reader = default;
        if (packet.Length > budgetBytes)
        {
            return DecodeError.TooLarge;
        }

        if (packet.Length < WireLimits.OverheadBytes)
        {
            return DecodeError.Truncated;
        }

        if (packet[0] != WireLimits.FormatVersion)
        {
            return DecodeError.UnsupportedVersion;
        }

        int end = packet.Length - WireLimits.TrailerBytes;
        uint expected = BinaryPrimitives.ReadUInt32LittleEndian(packet[end..]);
        if (Crc32C.Compute(packet[..end]) != expected)
        {
            return DecodeError.BadChecksum;
        }

        PacketFlags flags = (PacketFlags)packet[2];
        if (flags != PacketFlags.None && (flags != PacketFlags.Compressed || decompressionBuffer is null))
        {
            // Encryption is a reserved bit that v1 does not implement; compression needs a buffer.
            return DecodeError.UnsupportedFlags;
        }

        MessageType type = (MessageType)packet[1];
        ReadOnlySpan<byte> body = packet[WireLimits.HeaderBytes..end];
        if (flags == PacketFlags.Compressed)
        {
            DecodeError error = PacketCompression.TryDecompress(body, decompressionBuffer!, out int length);
            if (error != DecodeError.None)
            {
                return error;
            }

            body = decompressionBuffer.AsSpan(0, length);
        }
        if (type != MessageType.Compound)
        {
            if (!IsKnown(type))
            {
                return DecodeError.UnknownType;
            }

            reader = new PacketReader(body, compound: false, count: 1, flags, type);
            return DecodeError.None;
        }

        if (body.Length < 1)
        {
            return DecodeError.Truncated;
        }

        int count = body[0];
        if (count == 0)
        {
            return DecodeError.Malformed;
        }

        // The entries must tile the body exactly; each has at least a type byte.
        int position = 1;
        for (int i = 0; i < count; i++)
        {
            if (body.Length - position < 2)
            {
                return DecodeError.Truncated;
            }

            int length = BinaryPrimitives.ReadUInt16LittleEndian(body[position..]);
            position += 2;
            if (length < 1)
            {
                return DecodeError.Malformed;
            }

            if (body.Length - position < length)
            {
                return DecodeError.Truncated;
            }

            if ((MessageType)body[position] == MessageType.Compound)
            {
                return DecodeError.Malformed;
            }

            position += length;
        }

        if (position != body.Length)
        {
            return DecodeError.TrailingBytes;
        }

        reader = new PacketReader(body, compound: true, count, flags, type);
        return DecodeError.None;
    }

    /// <summary>
    /// The next message's type and payload. Returns false when none is left. A known type comes with
    /// <paramref name="known"/> true; an unknown one (only possible inside a compound) with false.
    /// </summary>
    public bool TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out bool known)
    {
        if (_remaining == 0)
        {
            type = default;
            payload = default;
            known = false;
            return false;
        }

        _remaining--;
        if (!_compound)
        {
            type = HeaderType;
            payload = _body;
            known = true;
            return true;
        }

        int length = BinaryPrimitives.ReadUInt16LittleEndian(_body[_position..]);
        type = (MessageType)_body[_position + 2];
        payload = _body.Slice(_position + 3, length - 1);
        known = IsKnown(type);
        _position += 2 + length;
        return true;
    }

    /// <summary>True for the message types this version speaks (the compound wrapper excluded).</summary>
    public static bool IsKnown(MessageType type) => type is >= MessageType.Ping and <= MessageType.ViewChecksum;
}
