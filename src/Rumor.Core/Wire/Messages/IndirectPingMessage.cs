namespace Rumor.Core.Wire.Messages;

/// <summary>
/// SWIM ping-req: "probe this target for me and forward its ack". With <see cref="WantNack"/> the
/// helper also answers with a nack when the target stays silent (Lifeguard), so the requester can
/// tell a dead target from a bad path of its own. Payload: seq u32 · target name · target address ·
/// flags u8 (bit 0: nack wanted; other bits must be zero).
/// </summary>
public readonly record struct IndirectPingMessage(uint Sequence, string TargetName, NodeAddress TargetAddress, bool WantNack) : IWireMessage<IndirectPingMessage>
{
    /// <inheritdoc />
    public static MessageType Type => MessageType.IndirectPing;

    /// <inheritdoc />
    public int PayloadLength => 4 + WireWriter.NameLength(TargetName) + WireWriter.AddressLength(TargetAddress) + 1;

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer)
    {
        writer.WriteUInt32(Sequence);
        writer.WriteName(TargetName);
        writer.WriteAddress(TargetAddress);
        writer.WriteByte(WantNack ? (byte)1 : (byte)0);
    }

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out IndirectPingMessage message)
    {
        message = default;
        WireReader reader = new(payload);
        if (!reader.TryReadUInt32(out uint sequence))
        {
            return DecodeError.Truncated;
        }

        DecodeError error = reader.TryReadName(names, allowEmpty: false, out string target);
        if (error != DecodeError.None)
        {
            return error;
        }

        error = reader.TryReadAddress(out NodeAddress address);
        if (error != DecodeError.None)
        {
            return error;
        }

        if (!reader.TryReadByte(out byte flags))
        {
            return DecodeError.Truncated;
        }

        if ((flags & ~1) != 0)
        {
            return DecodeError.Malformed;
        }

        message = new IndirectPingMessage(sequence, target, address, (flags & 1) != 0);
        return reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;
    }
}
