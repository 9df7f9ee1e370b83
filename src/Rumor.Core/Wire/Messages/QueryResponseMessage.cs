namespace Rumor.Core.Wire.Messages;

/// <summary>
/// One member's answer to a query, sent in one datagram to the asker's address. Payload: asker
/// generation u64 · query id u64 (from 1) · responder name · payload (u16 length + bytes).
/// </summary>
public readonly record struct QueryResponseMessage(ulong AskerGeneration, ulong QueryId, string Responder, byte[] Payload) : IWireMessage<QueryResponseMessage>
{
    /// <inheritdoc />
    public static MessageType Type => MessageType.QueryResponse;

    /// <inheritdoc />
    public int PayloadLength => (2 * 8) + WireWriter.NameLength(Responder) + 2 + Payload.Length;

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer)
    {
        writer.WriteUInt64(AskerGeneration);
        writer.WriteUInt64(QueryId);
        writer.WriteName(Responder);
        writer.WriteBytes16(Payload);
    }

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out QueryResponseMessage message)
    {
        message = default;
        WireReader reader = new(payload);
        if (!reader.TryReadUInt64(out ulong generation) || !reader.TryReadUInt64(out ulong id))
        {
            return DecodeError.Truncated;
        }

        if (id == 0)
        {
            return DecodeError.Malformed;
        }

        DecodeError error = reader.TryReadName(names, allowEmpty: false, out string responder);
        if (error != DecodeError.None)
        {
            return error;
        }

        error = reader.TryReadBytes16(ushort.MaxValue, out byte[] body);
        if (error != DecodeError.None)
        {
            return error;
        }

        message = new QueryResponseMessage(generation, id, responder, body);
        return reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;
    }
}
