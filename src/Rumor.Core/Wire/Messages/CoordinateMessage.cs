using Rumor.Core.Coordinates;

namespace Rumor.Core.Wire.Messages;

/// <summary>
/// The Vivaldi network coordinate of the member that sends an <see cref="AckMessage"/>, in the
/// same packet right after it, so that the prober can update its own coordinate from the round trip
/// it measured (as Serf's ack payload does). <see cref="Sequence"/> repeats the ack's sequence. A
/// separate message and not a field of the ack: v1 messages cannot grow (PROTOCOL.md §3), and a
/// peer that does not know type 19 skips it inside the compound and still reads the ack.
/// <para>
/// Payload: seq u32 · dimensions u8 (1..<see cref="DimensionsMax"/>) · dimensions × vec f64 ·
/// error f64 · adjustment f64 · height f64 (f64: IEEE 754 binary64 bits, little-endian). Every
/// number must be finite; error and height must not be negative.
/// </para>
/// </summary>
public readonly record struct CoordinateMessage(uint Sequence, NetworkCoordinate Coordinate) : IWireMessage<CoordinateMessage>
{
    /// <summary>The most dimensions a decoder accepts (Serf uses 8).</summary>
    public const int DimensionsMax = 16;

    /// <inheritdoc />
    public static MessageType Type => MessageType.Coordinate;

    /// <inheritdoc />
    public int PayloadLength => 4 + 1 + (8 * Coordinate.Vec.Count) + 24;

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer)
    {
        IReadOnlyList<double> vec = Coordinate.Vec;
        if (vec.Count is < 1 or > DimensionsMax)
        {
            throw new InvalidOperationException($"A coordinate of {vec.Count} dimensions cannot be encoded (1..{DimensionsMax}).");
        }

        writer.WriteUInt32(Sequence);
        writer.WriteByte((byte)vec.Count);
        for (int i = 0; i < vec.Count; i++)
        {
            WriteDouble(ref writer, vec[i]);
        }

        WriteDouble(ref writer, Coordinate.Error);
        WriteDouble(ref writer, Coordinate.Adjustment);
        WriteDouble(ref writer, Coordinate.Height);
    }

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out CoordinateMessage message)
    {
        message = default;
        WireReader reader = new(payload);
        if (!reader.TryReadUInt32(out uint sequence) || !reader.TryReadByte(out byte dimensions))
        {
            return DecodeError.Truncated;
        }

        if (dimensions is < 1 or > DimensionsMax)
        {
            return DecodeError.Malformed;
        }

        double[] vec = new double[dimensions];
        for (int i = 0; i < vec.Length; i++)
        {
            if (!TryReadDouble(ref reader, out vec[i]))
            {
                return DecodeError.Truncated;
            }
        }

        if (!TryReadDouble(ref reader, out double error) || !TryReadDouble(ref reader, out double adjustment) || !TryReadDouble(ref reader, out double height))
        {
            return DecodeError.Truncated;
        }

        if (!NetworkCoordinate.AllFinite(vec) || !double.IsFinite(error) || !double.IsFinite(adjustment) || !double.IsFinite(height) || error < 0 || height < 0)
        {
            return DecodeError.Malformed;
        }

        if (reader.Remaining != 0)
        {
            return DecodeError.TrailingBytes;
        }

        message = new CoordinateMessage(sequence, new NetworkCoordinate(vec, error, adjustment, height, owned: true));
        return DecodeError.None;
    }

    private static bool TryReadDouble(ref WireReader reader, out double value)
    {
        bool ok = reader.TryReadUInt64(out ulong bits);
        value = BitConverter.UInt64BitsToDouble(bits);
        return ok;
    }

    private static void WriteDouble(ref WireWriter writer, double value) => writer.WriteUInt64(BitConverter.DoubleToUInt64Bits(value));
}
