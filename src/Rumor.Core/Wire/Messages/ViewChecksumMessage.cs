namespace Rumor.Core.Wire.Messages;

/// <summary>
/// The checksum of the acking member's membership view (docs/PROTOCOL.md §6.17), sent in the same
/// packet right after its <see cref="AckMessage"/> when <see cref="GossipOptions.ViewChecksumInAcks"/>
/// is on. Payload: seq u32 (the ack's) · checksum u64.
/// </summary>
public readonly record struct ViewChecksumMessage(uint Sequence, ulong Checksum) : IWireMessage<ViewChecksumMessage>
{
    /// <inheritdoc />
    public static MessageType Type => MessageType.ViewChecksum;

    /// <inheritdoc />
    public int PayloadLength => 12;

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer)
    {
        writer.WriteUInt32(Sequence);
        writer.WriteUInt64(Checksum);
    }

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out ViewChecksumMessage message)
    {
        message = default;
        WireReader reader = new(payload);
        if (!reader.TryReadUInt32(out uint sequence) || !reader.TryReadUInt64(out ulong checksum))
        {
            return DecodeError.Truncated;
        }

        message = new ViewChecksumMessage(sequence, checksum);
        return reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;
    }
}
