namespace Rumor.Core.Wire.Messages;

/// <summary>An indirect prober did not hear from the target in time. Payload: seq u32 (the requester's).</summary>
public readonly record struct NackMessage(uint Sequence) : IWireMessage<NackMessage>
{
    /// <inheritdoc />
    public static MessageType Type => MessageType.Nack;

    /// <inheritdoc />
    public int PayloadLength => 4;

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer) => writer.WriteUInt32(Sequence);

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out NackMessage message)
    {
        message = default;
        WireReader reader = new(payload);
        if (!reader.TryReadUInt32(out uint sequence))
        {
            return DecodeError.Truncated;
        }

        message = new NackMessage(sequence);
        return reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;
    }
}
