namespace Rumor.Core.Wire.Messages;

/// <summary>
/// SWIM direct probe. <see cref="TargetName"/> lets the receiver drop a ping meant for a member that
/// used to live at its address; the source fields let the target learn of the prober. Payload:
/// seq u32 · target name · source name · source address.
/// </summary>
public readonly record struct PingMessage(uint Sequence, string TargetName, string SourceName, NodeAddress SourceAddress) : IWireMessage<PingMessage>
{
    /// <inheritdoc />
    public static MessageType Type => MessageType.Ping;

    /// <inheritdoc />
    public int PayloadLength => 4 + WireWriter.NameLength(TargetName) + WireWriter.NameLength(SourceName) + WireWriter.AddressLength(SourceAddress);

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer)
    {
        writer.WriteUInt32(Sequence);
        writer.WriteName(TargetName);
        writer.WriteName(SourceName);
        writer.WriteAddress(SourceAddress);
    }

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out PingMessage message)
    {
        message = default;
        WireReader reader = new(payload);
        if (!reader.TryReadUInt32(out uint sequence))
        {
            return DecodeError.Truncated;
        }

        DecodeError error = reader.TryReadName(names, allowEmpty: true, out string target);
        if (error == DecodeError.None)
        {
            error = reader.TryReadName(names, allowEmpty: false, out string source);
            if (error == DecodeError.None)
            {
                error = reader.TryReadAddress(out NodeAddress sourceAddress);
                message = new PingMessage(sequence, target, source, sourceAddress);
            }
        }

        return error != DecodeError.None ? error : reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;
    }
}
