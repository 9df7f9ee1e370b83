namespace Rumor.Core.Wire.Messages;

/// <summary>
/// The six protocol version bytes a member advertises (the same triple pair HashiCorp memberlist
/// carries: protocol min/max/current and delegate min/max/current), so that a later memberlist
/// dialect can map them one to one.
/// </summary>
public readonly record struct ProtocolVersions(byte ProtocolMin, byte ProtocolMax, byte ProtocolCurrent, byte DelegateMin, byte DelegateMax, byte DelegateCurrent)
{
    /// <summary>Encoded length.</summary>
    public const int Length = 6;

    /// <summary>What this build speaks: protocol 1 only, no delegate protocol yet.</summary>
    public static ProtocolVersions Current => new(1, 1, 1, 0, 0, 0);

    internal void Write(ref WireWriter writer)
    {
        writer.WriteByte(ProtocolMin);
        writer.WriteByte(ProtocolMax);
        writer.WriteByte(ProtocolCurrent);
        writer.WriteByte(DelegateMin);
        writer.WriteByte(DelegateMax);
        writer.WriteByte(DelegateCurrent);
    }

    internal static DecodeError TryRead(ref WireReader reader, out ProtocolVersions versions)
    {
        versions = default;
        if (!reader.TryReadRaw(Length, out ReadOnlySpan<byte> b))
        {
            return DecodeError.Truncated;
        }

        if (b[0] > b[1] || b[3] > b[4])
        {
            return DecodeError.Malformed;
        }

        versions = new ProtocolVersions(b[0], b[1], b[2], b[3], b[4], b[5]);
        return DecodeError.None;
    }
}
