using System.Buffers;
using Rumor.Core.Membership;

namespace Rumor.Core.Wire.Messages;

/// <summary>One member's full state inside a push-pull.</summary>
public readonly record struct PushPullMember(string Name, NodeAddress Address, uint Incarnation, ulong Generation, MemberState State, ProtocolVersions Versions, byte[] Meta)
{
    /// <summary>The smallest encoding of one member (one-byte name, IPv4, no metadata): the decoder's allocation bound.</summary>
    public const int MinEncodedLength = 2 + 7 + 4 + 8 + 1 + ProtocolVersions.Length + 2;

    internal int EncodedLength => WireWriter.NameLength(Name) + WireWriter.AddressLength(Address) + 4 + 8 + 1 + ProtocolVersions.Length + 2 + Meta.Length;
}

/// <summary>
/// A further kind of state carried by the same push-pull exchange (the replicated key-value state
/// of a later issue, for one). <see cref="Kind"/> ids are append-only like message types; a receiver
/// skips kinds it does not know.
/// </summary>
public readonly record struct StateSection(ushort Kind, byte[] Data);

/// <summary>
/// Full-state anti-entropy over a stream: the join handshake and the periodic push-pull. The
/// initiator sends its state; the receiver merges it and answers with its own (also a PushPull).
/// Payload: flags u8 (bit 0: join) · member count u32 · members · section count u8 · sections
/// (kind u16 · length u32 · bytes).
/// </summary>
public readonly record struct PushPullMessage(bool Join, IReadOnlyList<PushPullMember> Members, IReadOnlyList<StateSection> Sections) : IWireMessage<PushPullMessage>
{
    /// <inheritdoc />
    public static MessageType Type => MessageType.PushPull;

    /// <inheritdoc />
    public int PayloadLength
    {
        get
        {
            int length = 1 + 4 + 1;
            foreach (PushPullMember member in Members)
            {
                length += member.EncodedLength;
            }

            foreach (StateSection section in Sections)
            {
                length += 2 + 4 + section.Data.Length;
            }

            return length;
        }
    }

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer)
    {
        if (Sections.Count > WireLimits.PushPullMaxSections)
        {
            throw new InvalidOperationException($"A push-pull carries at most {WireLimits.PushPullMaxSections} state sections.");
        }

        writer.WriteByte(Join ? (byte)1 : (byte)0);
        writer.WriteUInt32((uint)Members.Count);
        foreach (PushPullMember member in Members)
        {
            writer.WriteName(member.Name);
            writer.WriteAddress(member.Address);
            writer.WriteUInt32(member.Incarnation);
            writer.WriteUInt64(member.Generation);
            writer.WriteByte((byte)member.State);
            member.Versions.Write(ref writer);
            writer.WriteBytes16(member.Meta);
        }

        writer.WriteByte((byte)Sections.Count);
        foreach (StateSection section in Sections)
        {
            writer.WriteUInt16(section.Kind);
            writer.WriteBytes32(section.Data);
        }
    }

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out PushPullMessage message) =>
        TryDecode(payload, names, pooled: false, out message);

    /// <summary>
    /// Decodes with the members in an array rented from <see cref="ArrayPool{T}.Shared"/> when
    /// <paramref name="pooled"/> (a node's own push-pulls: at a few thousand members the array is a
    /// large-object allocation per exchange); give it back with <see cref="Release"/> once the
    /// message has been handled, and keep no reference to <see cref="Members"/> past that.
    /// </summary>
    internal static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, bool pooled, out PushPullMessage message)
    {
        PushPullMember[]? rented = null;
        DecodeError error = TryDecode(payload, names, pooled, ref rented, out message);
        if (error != DecodeError.None && rented is not null)
        {
            Return(rented);
        }

        return error;
    }

    /// <summary>Gives the members' array of a message decoded with <c>pooled</c> back to the pool (nothing for any other message).</summary>
    internal static void Release(in PushPullMessage message)
    {
        if (message.Members is ArraySegment<PushPullMember> { Array: { } rented })
        {
            Return(rented);
        }
    }

    private static void Return(PushPullMember[] rented) => ArrayPool<PushPullMember>.Shared.Return(rented, clearArray: true);

    private static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, bool pooled, ref PushPullMember[]? rented, out PushPullMessage message)
    {
        message = default;
        WireReader reader = new(payload);
        if (!reader.TryReadByte(out byte flags) || !reader.TryReadUInt32(out uint count))
        {
            return DecodeError.Truncated;
        }

        if ((flags & ~1) != 0 || count > WireLimits.PushPullMaxMembers)
        {
            return DecodeError.Malformed;
        }

        // Never allocate more than the input can justify: each member needs MinEncodedLength bytes.
        if (count > (uint)(reader.Remaining / PushPullMember.MinEncodedLength))
        {
            return DecodeError.Truncated;
        }

        PushPullMember[] members = pooled && count > 0 ? rented = ArrayPool<PushPullMember>.Shared.Rent((int)count) : new PushPullMember[count];
        for (int i = 0; i < (int)count; i++)
        {
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

            if (!reader.TryReadUInt32(out uint incarnation) || !reader.TryReadUInt64(out ulong generation) || !reader.TryReadByte(out byte state))
            {
                return DecodeError.Truncated;
            }

            if (state > (byte)MemberState.Left)
            {
                return DecodeError.Malformed;
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

            members[i] = new PushPullMember(name, address, incarnation, generation, (MemberState)state, versions, meta);
        }

        if (!reader.TryReadByte(out byte sectionCount))
        {
            return DecodeError.Truncated;
        }

        if (sectionCount > WireLimits.PushPullMaxSections)
        {
            return DecodeError.Malformed;
        }

        StateSection[] sections = sectionCount == 0 ? [] : new StateSection[sectionCount];
        for (int i = 0; i < sections.Length; i++)
        {
            if (!reader.TryReadUInt16(out ushort kind) || !reader.TryReadUInt32(out uint length))
            {
                return DecodeError.Truncated;
            }

            if (length > (uint)reader.Remaining || !reader.TryReadRaw((int)length, out ReadOnlySpan<byte> data))
            {
                return DecodeError.Truncated;
            }

            sections[i] = new StateSection(kind, data.ToArray());
        }

        // Typed as the interface on both sides: T[] converts to ArraySegment<T>, and a conditional of
        // the two would wrap the plain array too.
        IReadOnlyList<PushPullMember> list = rented is null ? (IReadOnlyList<PushPullMember>)members : new ArraySegment<PushPullMember>(rented, 0, (int)count);
        message = new PushPullMessage((flags & 1) != 0, list, sections);
        return reader.Remaining != 0 ? DecodeError.TrailingBytes : DecodeError.None;
    }
}
