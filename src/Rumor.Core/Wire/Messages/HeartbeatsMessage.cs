namespace Rumor.Core.Wire.Messages;

/// <summary>One member's heartbeat counter in a process generation.</summary>
public readonly record struct HeartbeatEntry(string Name, ulong Generation, ulong Counter)
{
    /// <summary>Encoded length.</summary>
    public int EncodedLength => WireWriter.NameLength(Name) + 16;
}

/// <summary>
/// Heartbeat counters, for the φ-accrual detector mode (Cassandra's model): each member raises its
/// own counter every HeartbeatInterval, and every member gossips the freshest counters it knows, so
/// each node sees every member's counter advance. Payload: count u16 · count × (name · generation
/// u64 · counter u64).
/// </summary>
public readonly record struct HeartbeatsMessage(IReadOnlyList<HeartbeatEntry> Entries) : IWireMessage<HeartbeatsMessage>
{
    /// <inheritdoc />
    public static MessageType Type => MessageType.Heartbeats;

    /// <inheritdoc />
    public int PayloadLength
    {
        get
        {
            int length = 2;
            foreach (HeartbeatEntry entry in Entries)
            {
                length += entry.EncodedLength;
            }

            return length;
        }
    }

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer)
    {
        writer.WriteUInt16(checked((ushort)Entries.Count));
        foreach (HeartbeatEntry entry in Entries)
        {
            writer.WriteName(entry.Name);
            writer.WriteUInt64(entry.Generation);
            writer.WriteUInt64(entry.Counter);
        }
    }

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out HeartbeatsMessage message)
    {
        message = default;
        WireReader reader = new(payload);
        if (!reader.TryReadUInt16(out ushort count))
        {
            return DecodeError.Truncated;
        }

        if (count > reader.Remaining / 18)
        {
            return DecodeError.Truncated;
        }

        HeartbeatEntry[] entries = new HeartbeatEntry[count];
        for (int i = 0; i < entries.Length; i++)
        {
            DecodeError error = reader.TryReadName(names, allowEmpty: false, out string name);
            if (error != DecodeError.None)
            {
                return error;
            }

            if (!reader.TryReadUInt64(out ulong generation) || !reader.TryReadUInt64(out ulong counter))
            {
                return DecodeError.Truncated;
            }

            entries[i] = new HeartbeatEntry(name, generation, counter);
        }

        message = new HeartbeatsMessage(entries);
        return reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;
    }
}
