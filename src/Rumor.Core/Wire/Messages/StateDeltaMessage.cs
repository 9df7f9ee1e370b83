using System.Text;
using System.Text.Unicode;

namespace Rumor.Core.Wire.Messages;

/// <summary>One replicated entry: a value or a tombstone at a version of its owner.</summary>
/// <param name="Key">The key (UTF-8 on the wire).</param>
/// <param name="Version">The owner's version at which this entry was written.</param>
/// <param name="IsTombstone">True for a delete.</param>
/// <param name="TtlMilliseconds">Time to live set by the owner (0: none); the owner deletes the key when it runs out.</param>
/// <param name="Value">The value (empty for tombstones).</param>
public readonly record struct StateEntry(string Key, ulong Version, bool IsTombstone, uint TtlMilliseconds, byte[] Value)
{
    /// <summary>Encoded length.</summary>
    public int EncodedLength => 2 + Encoding.UTF8.GetByteCount(Key) + 8 + 1 + 4 + 4 + Value.Length;

    /// <summary>Writes the entry as a delta carries it.</summary>
    internal void Write(ref WireWriter writer)
    {
        writer.WriteString16(Key);
        writer.WriteUInt64(Version);
        writer.WriteByte(IsTombstone ? (byte)1 : (byte)0);
        writer.WriteUInt32(TtlMilliseconds);
        writer.WriteBytes32(Value);
    }
}

/// <summary>
/// The entries of one owner with versions in (<see cref="FromVersion"/>, <see cref="ToVersion"/>]:
/// every entry of that range that still exists, so a receiver holding FromVersion or more ends
/// up exact up to ToVersion (entries overwritten later are simply absent). A <see cref="Reset"/>
/// replaces everything the receiver holds for the owner (after a generation change, or when the
/// receiver is older than the sender's tombstone collection).
/// </summary>
public sealed record OwnerDelta(string Owner, ulong Generation, bool Reset, ulong FromVersion, ulong ToVersion, IReadOnlyList<StateEntry> Entries)
{
    /// <summary>Encoded length of the owner header (without entries).</summary>
    public static int HeaderLength(string owner) => WireWriter.NameLength(owner) + 8 + 1 + 8 + 8 + 4;

    /// <summary>Writes an owner's header, before its <paramref name="entryCount"/> entries.</summary>
    internal static void WriteHeader(ref WireWriter writer, string owner, ulong generation, bool reset, ulong fromVersion, ulong toVersion, int entryCount)
    {
        writer.WriteName(owner);
        writer.WriteUInt64(generation);
        writer.WriteByte(reset ? (byte)1 : (byte)0);
        writer.WriteUInt64(fromVersion);
        writer.WriteUInt64(toVersion);
        writer.WriteUInt32((uint)entryCount);
    }
}

/// <summary>
/// Scuttlebutt's deltas. Payload: flags u8 (bit 0: more is pending than fitted; fetch the rest over
/// a stream) · owner count u16 · owners, each: owner name · generation u64 · flags u8 (bit 0: reset)
/// · from version u64 · to version u64 · entry count u32 · entries, each: key (u16 length + UTF-8)
/// · version u64 · kind u8 (0 value, 1 tombstone) · ttl ms u32 · value (u32 length + bytes).
/// </summary>
public readonly record struct StateDeltaMessage(bool MorePending, IReadOnlyList<OwnerDelta> Owners) : IWireMessage<StateDeltaMessage>
{
    /// <summary>The smallest encoded entry (empty key and value): the decoder's allocation bound.</summary>
    public const int EntryMinBytes = 2 + 8 + 1 + 4 + 4;

    /// <summary>Payload overhead before any owner.</summary>
    public const int HeaderLength = 1 + 2;

    /// <inheritdoc />
    public static MessageType Type => MessageType.StateDelta;

    /// <inheritdoc />
    public int PayloadLength
    {
        get
        {
            // Indexed loops: a foreach over the interfaces boxed an enumerator per owner and per
            // message, for every delta encoded while keys spread.
            int length = HeaderLength;
            for (int o = 0; o < Owners.Count; o++)
            {
                OwnerDelta owner = Owners[o];
                length += OwnerDelta.HeaderLength(owner.Owner);
                for (int e = 0; e < owner.Entries.Count; e++)
                {
                    length += owner.Entries[e].EncodedLength;
                }
            }

            return length;
        }
    }

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer)
    {
        writer.WriteByte(MorePending ? (byte)1 : (byte)0);
        writer.WriteUInt16(checked((ushort)Owners.Count));
        for (int o = 0; o < Owners.Count; o++)
        {
            OwnerDelta owner = Owners[o];
            OwnerDelta.WriteHeader(ref writer, owner.Owner, owner.Generation, owner.Reset, owner.FromVersion, owner.ToVersion, owner.Entries.Count);
            for (int e = 0; e < owner.Entries.Count; e++)
            {
                owner.Entries[e].Write(ref writer);
            }
        }
    }

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out StateDeltaMessage message)
    {
        message = default;
        WireReader reader = new(payload);
        if (!reader.TryReadByte(out byte flags) || !reader.TryReadUInt16(out ushort ownerCount))
        {
            return DecodeError.Truncated;
        }

        if ((flags & ~1) != 0)
        {
            return DecodeError.Malformed;
        }

        if (ownerCount > reader.Remaining / (2 + 8 + 1 + 8 + 8 + 4))
        {
            return DecodeError.Truncated;
        }

        OwnerDelta[] owners = new OwnerDelta[ownerCount];
        for (int o = 0; o < owners.Length; o++)
        {
            DecodeError error = reader.TryReadName(names, allowEmpty: false, out string owner);
            if (error != DecodeError.None)
            {
                return error;
            }

            if (!reader.TryReadUInt64(out ulong generation) || !reader.TryReadByte(out byte ownerFlags) ||
                !reader.TryReadUInt64(out ulong from) || !reader.TryReadUInt64(out ulong to) || !reader.TryReadUInt32(out uint count))
            {
                return DecodeError.Truncated;
            }

            if ((ownerFlags & ~1) != 0 || to < from)
            {
                return DecodeError.Malformed;
            }

            if (count > (uint)(reader.Remaining / EntryMinBytes))
            {
                return DecodeError.Truncated;
            }

            StateEntry[] entries = count == 0 ? [] : new StateEntry[count];
            for (int i = 0; i < entries.Length; i++)
            {
                if (!reader.TryReadUInt16(out ushort keyLength) || !reader.TryReadRaw(keyLength, out ReadOnlySpan<byte> keyBytes))
                {
                    return DecodeError.Truncated;
                }

                if (!Utf8.IsValid(keyBytes))
                {
                    return DecodeError.Malformed;
                }

                if (!reader.TryReadUInt64(out ulong version) || !reader.TryReadByte(out byte kind) ||
                    !reader.TryReadUInt32(out uint ttl) || !reader.TryReadUInt32(out uint valueLength))
                {
                    return DecodeError.Truncated;
                }

                if (kind > 1 || (kind == 1 && valueLength != 0) || version <= from || version > to)
                {
                    return DecodeError.Malformed;
                }

                if (valueLength > (uint)reader.Remaining || !reader.TryReadRaw((int)valueLength, out ReadOnlySpan<byte> value))
                {
                    return DecodeError.Truncated;
                }

                entries[i] = names is null
                    ? new StateEntry(Encoding.UTF8.GetString(keyBytes), version, kind == 1, ttl, value.Length == 0 ? [] : value.ToArray())
                    : new StateEntry(names.InternKey(keyBytes), version, kind == 1, ttl, names.InternValue(value));
            }

            owners[o] = new OwnerDelta(owner, generation, (ownerFlags & 1) != 0, from, to, entries);
        }

        message = new StateDeltaMessage((flags & 1) != 0, owners);
        return reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;
    }
}

/// <summary>
/// A member's checksum of its replicated-state digest, gossiped as a broadcast so every node learns
/// every member's checksum. Payload: name · generation u64 · sequence u32 (newer wins) · checksum u64.
/// </summary>
public readonly record struct StateChecksumMessage(string Name, ulong Generation, uint Sequence, ulong Checksum) : IWireMessage<StateChecksumMessage>
{
    /// <inheritdoc />
    public static MessageType Type => MessageType.StateChecksum;

    /// <inheritdoc />
    public int PayloadLength => WireWriter.NameLength(Name) + 8 + 4 + 8;

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer)
    {
        writer.WriteName(Name);
        writer.WriteUInt64(Generation);
        writer.WriteUInt32(Sequence);
        writer.WriteUInt64(Checksum);
    }

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out StateChecksumMessage message)
    {
        message = default;
        WireReader reader = new(payload);
        DecodeError error = reader.TryReadName(names, allowEmpty: false, out string name);
        if (error != DecodeError.None)
        {
            return error;
        }

        if (!reader.TryReadUInt64(out ulong generation) || !reader.TryReadUInt32(out uint sequence) || !reader.TryReadUInt64(out ulong checksum))
        {
            return DecodeError.Truncated;
        }

        message = new StateChecksumMessage(name, generation, sequence, checksum);
        return reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;
    }
}
