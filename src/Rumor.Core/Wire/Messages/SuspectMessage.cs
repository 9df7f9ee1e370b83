namespace Rumor.Core.Wire.Messages;

/// <summary>
/// <see cref="From"/> suspects member <see cref="Name"/> at (generation, incarnation). Payload:
/// name · incarnation u32 · generation u64 · from name.
/// </summary>
public readonly record struct SuspectMessage(string Name, uint Incarnation, ulong Generation, string From) : IWireMessage<SuspectMessage>
{
    /// <inheritdoc />
    public static MessageType Type => MessageType.Suspect;

    /// <inheritdoc />
    public int PayloadLength => AccusationCodec.Length(Name, From);

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer) => AccusationCodec.Write(ref writer, Name, Incarnation, Generation, From);

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out SuspectMessage message)
    {
        DecodeError error = AccusationCodec.TryRead(payload, names, out string name, out uint incarnation, out ulong generation, out string from);
        message = new SuspectMessage(name, incarnation, generation, from);
        return error;
    }
}

/// <summary>
/// Member <see cref="Name"/> is dead at (generation, incarnation), by <see cref="From"/>'s verdict.
/// When <see cref="From"/> equals <see cref="Name"/> the member left gracefully (memberlist's
/// convention, kept so a memberlist dialect maps one to one). Same payload as <see cref="SuspectMessage"/>.
/// </summary>
public readonly record struct DeadMessage(string Name, uint Incarnation, ulong Generation, string From) : IWireMessage<DeadMessage>
{
    /// <inheritdoc />
    public static MessageType Type => MessageType.Dead;

    /// <summary>True when the member announced its own departure.</summary>
    public bool IsLeave => string.Equals(Name, From, StringComparison.Ordinal);

    /// <inheritdoc />
    public int PayloadLength => AccusationCodec.Length(Name, From);

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer) => AccusationCodec.Write(ref writer, Name, Incarnation, Generation, From);

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out DeadMessage message)
    {
        DecodeError error = AccusationCodec.TryRead(payload, names, out string name, out uint incarnation, out ulong generation, out string from);
        message = new DeadMessage(name, incarnation, generation, from);
        return error;
    }
}

/// <summary>The shared layout of suspect and dead messages.</summary>
internal static class AccusationCodec
{
    public static int Length(string name, string from) => WireWriter.NameLength(name) + 4 + 8 + WireWriter.NameLength(from);

    public static void Write(ref WireWriter writer, string name, uint incarnation, ulong generation, string from)
    {
        writer.WriteName(name);
        writer.WriteUInt32(incarnation);
        writer.WriteUInt64(generation);
        writer.WriteName(from);
    }

    public static DecodeError TryRead(ReadOnlySpan<byte> payload, NameTable? names, out string name, out uint incarnation, out ulong generation, out string from)
    {
        incarnation = 0;
        generation = 0;
        from = string.Empty;
        WireReader reader = new(payload);
        DecodeError error = reader.TryReadName(names, allowEmpty: false, out name);
        if (error != DecodeError.None)
        {
            return error;
        }

        if (!reader.TryReadUInt32(out incarnation) || !reader.TryReadUInt64(out generation))
        {
            return DecodeError.Truncated;
        }

        error = reader.TryReadName(names, allowEmpty: false, out from);
        if (error != DecodeError.None)
        {
            return error;
        }

        return reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;
    }
}
