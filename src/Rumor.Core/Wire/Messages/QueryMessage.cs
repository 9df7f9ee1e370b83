namespace Rumor.Core.Wire.Messages;

/// <summary>
/// A query, broadcast like a user event; members whose tags match <see cref="Filter"/> answer the
/// asker directly. Identity: (<see cref="Asker"/>, <see cref="AskerGeneration"/>, <see cref="Id"/>).
/// Payload: asker name · asker generation u64 · id u64 (from 1) · Lamport time u64 · asker address ·
/// timeout ms u32 (from 1; what the sender had left when it queued the message) · query name (name) ·
/// filter (u16 length + key=value lines, see MemberTags) · payload (u16 length + bytes).
/// </summary>
public readonly record struct QueryMessage(string Asker, ulong AskerGeneration, ulong Id, ulong LamportTime, NodeAddress AskerAddress, uint TimeoutMs, string Name, byte[] Filter, byte[] Payload) : IWireMessage<QueryMessage>
{
    /// <inheritdoc />
    public static MessageType Type => MessageType.Query;

    /// <inheritdoc />
    public int PayloadLength => WireWriter.NameLength(Asker) + (3 * 8) + WireWriter.AddressLength(AskerAddress) + 4 + WireWriter.NameLength(Name) + 2 + Filter.Length + 2 + Payload.Length;

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer)
    {
        writer.WriteName(Asker);
        writer.WriteUInt64(AskerGeneration);
        writer.WriteUInt64(Id);
        writer.WriteUInt64(LamportTime);
        writer.WriteAddress(AskerAddress);
        writer.WriteUInt32(TimeoutMs);
        writer.WriteName(Name);
        writer.WriteBytes16(Filter);
        writer.WriteBytes16(Payload);
    }

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out QueryMessage message)
    {
        message = default;
        WireReader reader = new(payload);
        DecodeError error = reader.TryReadName(names, allowEmpty: false, out string asker);
        if (error != DecodeError.None)
        {
            return error;
        }

        if (!reader.TryReadUInt64(out ulong generation) || !reader.TryReadUInt64(out ulong id) || !reader.TryReadUInt64(out ulong lamport))
        {
            return DecodeError.Truncated;
        }

        error = reader.TryReadAddress(out NodeAddress address);
        if (error != DecodeError.None)
        {
            return error;
        }

        if (!reader.TryReadUInt32(out uint timeoutMs))
        {
            return DecodeError.Truncated;
        }

        if (id == 0 || timeoutMs == 0 || address.Port == 0)
        {
            return DecodeError.Malformed;
        }

        error = reader.TryReadName(null, allowEmpty: false, out string name);
        if (error != DecodeError.None)
        {
            return error;
        }

        error = reader.TryReadBytes16(ushort.MaxValue, out byte[] filter);
        if (error != DecodeError.None)
        {
            return error;
        }

        if (!System.Text.Unicode.Utf8.IsValid(filter))
        {
            return DecodeError.Malformed;
        }

        error = reader.TryReadBytes16(ushort.MaxValue, out byte[] body);
        if (error != DecodeError.None)
        {
            return error;
        }

        message = new QueryMessage(asker, generation, id, lamport, address, timeoutMs, name, filter, body);
        return reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;
    }
}
