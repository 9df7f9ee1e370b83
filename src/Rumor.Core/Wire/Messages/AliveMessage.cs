namespace Rumor.Core.Wire.Messages;

/// <summary>
/// A member is alive at (generation, incarnation). Carries everything a receiver needs to add an
/// unknown member. Payload: name · address · incarnation u32 · generation u64 · versions (6 bytes) ·
/// metadata (u16 length + bytes).
/// </summary>
public readonly record struct AliveMessage(string Name, NodeAddress Address, uint Incarnation, ulong Generation, ProtocolVersions Versions, byte[] Meta) : IWireMessage<AliveMessage>
{
    /// <inheritdoc />
    public static MessageType Type => MessageType.Alive;

    /// <inheritdoc />
    public int PayloadLength => WireWriter.NameLength(Name) + WireWriter.AddressLength(Address) + 4 + 8 + ProtocolVersions.Length + 2 + Meta.Length;

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer)
    {
        writer.WriteName(Name);
        writer.WriteAddress(Address);
        writer.WriteUInt32(Incarnation);
        writer.WriteUInt64(Generation);
        Versions.Write(ref writer);
        writer.WriteBytes16(Meta);
    }

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out AliveMessage message)
    {
        message = default;
        WireReader reader = new(payload);
        DecodeError error = reader.TryReadName(names, allowEmpty: false, out string name);
        if (error != DecodeError.None)
        {
            return error;
        }

        error = reader.TryReadAddress(out NodeAddress address);
        if (error != DecodeError.None)
        {
            return error;
        }

        if (!reader.TryReadUInt32(out uint incarnation) || !reader.TryReadUInt64(out ulong generation))
        {
            return DecodeError.Truncated;
        }

        error = ProtocolVersions.TryRead(ref reader, out ProtocolVersions versions);
        if (error != DecodeError.None)
        {
            return error;
        }

        error = reader.TryReadBytes16(WireLimits.MetaMaxBytes, out byte[] meta);
        if (error != DecodeError.None)
        {
            return error;
        }

        message = new AliveMessage(name, address, incarnation, generation, versions, meta);
        return reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;
    }
}
