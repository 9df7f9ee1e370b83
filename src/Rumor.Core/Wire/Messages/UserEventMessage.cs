namespace Rumor.Core.Wire.Messages;

/// <summary>
/// A user event, broadcast to every member. Identity: (<see cref="Origin"/>, <see cref="Generation"/>,
/// <see cref="Sequence"/>), the sequence counting from 1 per origin and generation. Payload:
/// origin name · generation u64 · sequence u64 · Lamport time u64 · coalesce-from u64 · event name
/// (name) · payload (u16 length + bytes). Coalesce-from is 0 for an ordinary event; for a coalescing
/// event it is the lowest sequence this event supersedes (its own sequence when it supersedes none):
/// the origin's coalescing events of the same name with sequences in [coalesce-from, sequence) are
/// replaced by this one.
/// </summary>
public readonly record struct UserEventMessage(string Origin, ulong Generation, ulong Sequence, ulong LamportTime, ulong CoalesceFrom, string Name, byte[] Payload) : IWireMessage<UserEventMessage>
{
    /// <inheritdoc />
    public static MessageType Type => MessageType.UserEvent;

    /// <summary>True for a coalescing event.</summary>
    public bool Coalesces => CoalesceFrom != 0;

    /// <inheritdoc />
    public int PayloadLength => WireWriter.NameLength(Origin) + (4 * 8) + WireWriter.NameLength(Name) + 2 + Payload.Length;

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer)
    {
        writer.WriteName(Origin);
        writer.WriteUInt64(Generation);
        writer.WriteUInt64(Sequence);
        writer.WriteUInt64(LamportTime);
        writer.WriteUInt64(CoalesceFrom);
        writer.WriteName(Name);
        writer.WriteBytes16(Payload);
    }

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out UserEventMessage message)
    {
        message = default;
        WireReader reader = new(payload);
        DecodeError error = reader.TryReadName(names, allowEmpty: false, out string origin);
        if (error != DecodeError.None)
        {
            return error;
        }

        if (!reader.TryReadUInt64(out ulong generation) || !reader.TryReadUInt64(out ulong sequence)
            || !reader.TryReadUInt64(out ulong lamport) || !reader.TryReadUInt64(out ulong coalesceFrom))
        {
            return DecodeError.Truncated;
        }

        // Sequences start at 1, and an event can only supersede earlier ones (or none: itself).
        if (sequence == 0 || coalesceFrom > sequence)
        {
            return DecodeError.Malformed;
        }

        error = reader.TryReadName(null, allowEmpty: false, out string name);
        if (error != DecodeError.None)
        {
            return error;
        }

        error = reader.TryReadBytes16(ushort.MaxValue, out byte[] body);
        if (error != DecodeError.None)
        {
            return error;
        }

        message = new UserEventMessage(origin, generation, sequence, lamport, coalesceFrom, name, body);
        return reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;
    }
}
