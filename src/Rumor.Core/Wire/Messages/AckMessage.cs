namespace Rumor.Core.Wire.Messages;

/// <summary>Reply to a ping (direct or relayed). Payload: seq u32.</summary>
public readonly record struct AckMessage(uint Sequence) : IWireMessage<AckMessage>
{
    /// <inheritdoc />
    public static MessageType Type => MessageType.Ack;

    /// <inheritdoc />
    public int PayloadLength => 4;

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer) => writer.WriteUInt32(Sequence);

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out AckMessage message)
    {
        message = default;
        WireReader reader = new(payload);
        if (!reader.TryReadUInt32(out uint sequence))
        {
            return DecodeError.Truncated;
        }

        message = new AckMessage(sequence);
        return reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;
    }
}
