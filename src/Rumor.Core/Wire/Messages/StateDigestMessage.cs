namespace Rumor.Core.Wire.Messages;

/// <summary>What a digest asks of its receiver.</summary>
[Flags]
public enum DigestFlags : byte
{
    /// <summary>Nothing: an answer to a digest that asked for it.</summary>
    None = 0,

    /// <summary>Reply with the deltas I lack (pull).</summary>
    WantDeltas = 0x01,

    /// <summary>Reply with your digest, so I can send you what you lack (push).</summary>
    WantDigest = 0x02,

    /// <summary>The digest is a Bloom filter of (owner, generation, max version), not a list.</summary>
    Bloom = 0x04,
}

/// <summary>One owner's line of a full digest: the newest version of its state I hold.</summary>
public readonly record struct DigestEntry(string Owner, ulong Generation, ulong MaxVersion);

/// <summary>A Bloom filter of (owner, generation, max version) triples, salted per message so that false positives do not repeat.</summary>
public sealed record BloomDigest(uint Salt, byte HashCount, uint OwnerCount, byte[] Bits);

/// <summary>
/// Scuttlebutt's digest. Payload: flags u8 · sender name · checksum u64 (the sender's state checksum) · then
/// either count u32 · count × (owner name · generation u64 · max version u64), or (Bloom flag)
/// salt u32 · hash count u8 · owner count u32 · bits (u32 length + bytes).
/// </summary>
public readonly record struct StateDigestMessage(DigestFlags Flags, string Sender, ulong Checksum, IReadOnlyList<DigestEntry> Entries, BloomDigest? Bloom) : IWireMessage<StateDigestMessage>
{
    private const int EntryMinBytes = 2 + 8 + 8;

    /// <inheritdoc />
    public static MessageType Type => MessageType.StateDigest;

    /// <inheritdoc />
    public int PayloadLength
    {
        get
        {
            int length = 1 + WireWriter.NameLength(Sender) + 8;
            if (Bloom is { } bloom)
            {
                return length + BloomHeaderLength + bloom.Bits.Length;
            }

            length += 4;
            foreach (DigestEntry entry in Entries)
            {
                length += WireWriter.NameLength(entry.Owner) + 16;
            }

            return length;
        }
    }

    /// <summary>A Bloom digest's bytes after the checksum and before its bits: salt, hash count, owner count, bit length.</summary>
    internal const int BloomHeaderLength = 4 + 1 + 4 + 4;

    /// <summary>Gives back the rented lines of a digest decoded with <c>pooled</c> (nothing for any other); the message must not be read after.</summary>
    internal static void ReturnPooled(in StateDigestMessage message)
    {
        if (message.Entries is ArraySegment<DigestEntry> { Array: { Length: > 0 } rented })
        {
            System.Buffers.ArrayPool<DigestEntry>.Shared.Return(rented, clearArray: true);
        }
    }

    /// <summary>The encoded length of one full-digest line.</summary>
    public static int EntryLength(string owner) => WireWriter.NameLength(owner) + 16;

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer)
    {
        DigestFlags flags = Bloom is null ? Flags & ~DigestFlags.Bloom : Flags | DigestFlags.Bloom;
        writer.WriteByte((byte)flags);
        writer.WriteName(Sender);
        writer.WriteUInt64(Checksum);
        if (Bloom is { } bloom)
        {
            writer.WriteUInt32(bloom.Salt);
            writer.WriteByte(bloom.HashCount);
            writer.WriteUInt32(bloom.OwnerCount);
            writer.WriteBytes32(bloom.Bits);
            return;
        }

        writer.WriteUInt32((uint)Entries.Count);
        foreach (DigestEntry entry in Entries)
        {
            writer.WriteName(entry.Owner);
            writer.WriteUInt64(entry.Generation);
            writer.WriteUInt64(entry.MaxVersion);
        }
    }

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out StateDigestMessage message) =>
        TryDecode(payload, names, pooled: false, out message);

    /// <summary>
    /// As <see cref="TryDecode(ReadOnlySpan{byte}, NameTable?, out StateDigestMessage)"/>; with
    /// <paramref name="pooled"/> a full digest's lines are in an array rented from the shared pool,
    /// which the caller gives back with <see cref="ReturnPooled"/> once it has handled the message
    /// (a stream's digest: N lines for every exchange while keys spread).
    /// </summary>
    internal static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, bool pooled, out StateDigestMessage message) =>
        TryDecode(payload, names, pooled, skipLinesWhenChecksum: null, out message, out _);

    /// <summary>
    /// As <see cref="TryDecode(ReadOnlySpan{byte}, NameTable?, bool, out StateDigestMessage)"/>; when the
    /// digest is a full one whose checksum equals <paramref name="skipLinesWhenChecksum"/> its lines are
    /// checked (every error the full decode would report, in the same order) but not decoded:
    /// <paramref name="linesSkipped"/> is then true and the message has no lines. Equal checksums are
    /// equal digests, and the deltas for an equal digest are none either way, so a receiver that would
    /// only compute those saves interning N owner names (every exchange in the rounds after a change
    /// has spread, while nodes still talk to make sure it has).
    /// </summary>
    internal static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, bool pooled, ulong? skipLinesWhenChecksum, out StateDigestMessage message, out bool linesSkipped)
    {
        message = default;
        linesSkipped = false;
        WireReader reader = new(payload);
        if (!reader.TryReadByte(out byte rawFlags))
        {
            return DecodeError.Truncated;
        }

        DecodeError senderError = reader.TryReadName(names, allowEmpty: false, out string sender);
        if (senderError != DecodeError.None)
        {
            return senderError;
        }

        if (!reader.TryReadUInt64(out ulong checksum))
        {
            return DecodeError.Truncated;
        }

        DigestFlags flags = (DigestFlags)rawFlags;
        if ((rawFlags & ~0x07) != 0)
        {
            return DecodeError.Malformed;
        }

        if ((flags & DigestFlags.Bloom) != 0)
        {
            if (!reader.TryReadUInt32(out uint salt) || !reader.TryReadByte(out byte hashes) || !reader.TryReadUInt32(out uint owners) || !reader.TryReadUInt32(out uint length))
            {
                return DecodeError.Truncated;
            }

            if (hashes is 0 or > 32 || length == 0)
            {
                return DecodeError.Malformed;
            }

            if (length > (uint)reader.Remaining || !reader.TryReadRaw((int)length, out ReadOnlySpan<byte> bits))
            {
                return DecodeError.Truncated;
            }

            message = new StateDigestMessage(flags, sender, checksum, [], new BloomDigest(salt, hashes, owners, bits.ToArray()));
            return reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;
        }

        if (!reader.TryReadUInt32(out uint count))
        {
            return DecodeError.Truncated;
        }

        if (count > (uint)(reader.Remaining / EntryMinBytes))
        {
            return DecodeError.Truncated;
        }

        if (skipLinesWhenChecksum == checksum)
        {
            for (uint i = 0; i < count; i++)
            {
                // TryReadName's checks without the string: length byte, bytes, not empty, valid UTF-8.
                if (!reader.TryReadByte(out byte length) || !reader.TryReadRaw(length, out ReadOnlySpan<byte> utf8))
                {
                    return DecodeError.Truncated;
                }

                if (length == 0 || !System.Text.Unicode.Utf8.IsValid(utf8))
                {
                    return DecodeError.Malformed;
                }

                if (!reader.TryReadUInt64(out _) || !reader.TryReadUInt64(out _))
                {
                    return DecodeError.Truncated;
                }
            }

            if (reader.Remaining != 0)
            {
                return DecodeError.TrailingBytes;
            }

            linesSkipped = true;
            message = new StateDigestMessage(flags, sender, checksum, [], null);
            return DecodeError.None;
        }

        DigestEntry[] entries = pooled ? System.Buffers.ArrayPool<DigestEntry>.Shared.Rent((int)count) : new DigestEntry[count];
        for (int i = 0; i < (int)count; i++)
        {
            DecodeError error = reader.TryReadName(names, allowEmpty: false, out string owner);
            ulong generation = 0, maxVersion = 0;
            if (error == DecodeError.None && !(reader.TryReadUInt64(out generation) && reader.TryReadUInt64(out maxVersion)))
            {
                error = DecodeError.Truncated;
            }

            if (error != DecodeError.None)
            {
                if (pooled)
                {
                    System.Buffers.ArrayPool<DigestEntry>.Shared.Return(entries, clearArray: true);
                }

                return error;
            }

            entries[i] = new DigestEntry(owner, generation, maxVersion);
        }

        if (pooled && reader.Remaining != 0)
        {
            System.Buffers.ArrayPool<DigestEntry>.Shared.Return(entries, clearArray: true);
            return DecodeError.TrailingBytes; // no message to give back
        }

        message = new StateDigestMessage(flags, sender, checksum, pooled ? new ArraySegment<DigestEntry>(entries, 0, (int)count) : entries, null);
        return reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;
    }
}
