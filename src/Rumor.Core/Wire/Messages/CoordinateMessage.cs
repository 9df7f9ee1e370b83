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

    /// <summary>The longest type byte and payload a coordinate message can be (<see cref="DimensionsMax"/> dimensions).</summary>
    internal const int TypeAndPayloadMaxBytes = 1 + 4 + 1 + (8 * DimensionsMax) + 24;

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer) =>
        WriteParts(ref writer, Sequence, Coordinate.VecSpan, Coordinate.Error, Coordinate.Adjustment, Coordinate.Height);

    /// <summary>
    /// The type byte and payload of a coordinate message for a coordinate held as parts (the Vivaldi
    /// client's own, moved in place: no <see cref="NetworkCoordinate"/> built for every ack sent),
    /// into <paramref name="destination"/>; returns the length written. The bytes of
    /// <see cref="WritePayload(ref WireWriter)"/> after the type.
    /// </summary>
    internal static int EncodeTypeAndPayload(Span<byte> destination, uint sequence, scoped ReadOnlySpan<double> vec, double error, double adjustment, double height)
    {
        WireWriter writer = new(destination);
        writer.WriteByte((byte)MessageType.Coordinate);
        WriteParts(ref writer, sequence, vec, error, adjustment, height);
        return writer.Position;
    }

    /// <summary>The payload of a coordinate given as parts.</summary>
    internal static void WriteParts(ref WireWriter writer, uint sequence, scoped ReadOnlySpan<double> vec, double error, double adjustment, double height)
    {
        if (vec.Length is < 1 or > DimensionsMax)
        {
            throw new InvalidOperationException($"A coordinate of {vec.Length} dimensions cannot be encoded (1..{DimensionsMax}).");
        }

        writer.WriteUInt32(sequence);
        writer.WriteByte((byte)vec.Length);
        for (int i = 0; i < vec.Length; i++)
        {
            WriteDouble(ref writer, vec[i]);
        }

        WriteDouble(ref writer, error);
        WriteDouble(ref writer, adjustment);
        WriteDouble(ref writer, height);
    }

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out CoordinateMessage message)
    {
        message = default;
        CoordinateDoubles vec = default;
        DecodeError error = TryDecodeParts(payload, vec, out uint sequence, out int dimensions, out double confidence, out double adjustment, out double height);
        if (error != DecodeError.None)
        {
            return error;
        }

        message = new CoordinateMessage(sequence, new NetworkCoordinate(((ReadOnlySpan<double>)vec)[..dimensions].ToArray(), confidence, adjustment, height, owned: true));
        return DecodeError.None;
    }

    /// <summary>
    /// The decode of <see cref="TryDecode"/> into parts: the vector into <paramref name="vec"/> (at
    /// least <see cref="DimensionsMax"/> long), its length in <paramref name="dimensions"/>. Every check,
    /// in the same order, with the same errors.
    /// </summary>
    internal static DecodeError TryDecodeParts(ReadOnlySpan<byte> payload, Span<double> vec, out uint sequence, out int dimensions, out double error, out double adjustment, out double height)
    {
        dimensions = 0;
        error = adjustment = height = 0;
        WireReader reader = new(payload);
        if (!reader.TryReadUInt32(out sequence) || !reader.TryReadByte(out byte count))
        {
            return DecodeError.Truncated;
        }

        if (count is < 1 or > DimensionsMax)
        {
            return DecodeError.Malformed;
        }

        for (int i = 0; i < count; i++)
        {
            if (!TryReadDouble(ref reader, out vec[i]))
            {
                return DecodeError.Truncated;
            }
        }

        if (!TryReadDouble(ref reader, out error) || !TryReadDouble(ref reader, out adjustment) || !TryReadDouble(ref reader, out height))
        {
            return DecodeError.Truncated;
        }

        if (!NetworkCoordinate.AllFinite(vec[..count]) || !double.IsFinite(error) || !double.IsFinite(adjustment) || !double.IsFinite(height) || error < 0 || height < 0)
        {
            return DecodeError.Malformed;
        }

        if (reader.Remaining != 0)
        {
            return DecodeError.TrailingBytes;
        }

        dimensions = count;
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

/// <summary>Room for a coordinate's vector held inline (<see cref="CoordinateMessage.DimensionsMax"/> doubles).</summary>
[System.Runtime.CompilerServices.InlineArray(CoordinateMessage.DimensionsMax)]
internal struct CoordinateDoubles
{
    private double _element;
}

/// <summary>
/// A <see cref="CoordinateMessage"/> decoded into parts held inline, for the node's coordinates
/// module: the same type id, bytes and decode errors, but no coordinate object and vector on the heap
/// for the ack of every probe (they were most of what a steady node still allocated after its acks
/// stopped building one).
/// </summary>
internal readonly struct CoordinateParts : IWireMessage<CoordinateParts>
{
    private readonly CoordinateDoubles _vec;

    private CoordinateParts(uint sequence, int dimensions, CoordinateDoubles vec, double error, double adjustment, double height)
    {
        Sequence = sequence;
        Dimensions = dimensions;
        _vec = vec;
        Error = error;
        Adjustment = adjustment;
        Height = height;
    }

    /// <inheritdoc />
    public static MessageType Type => MessageType.Coordinate;

    /// <summary>The ack's sequence.</summary>
    public uint Sequence { get; }

    /// <summary>The vector's length.</summary>
    public int Dimensions { get; }

    /// <summary>The coordinate's error.</summary>
    public double Error { get; }

    /// <summary>The coordinate's adjustment, seconds.</summary>
    public double Adjustment { get; }

    /// <summary>The coordinate's height, seconds.</summary>
    public double Height { get; }

    /// <summary>The vector.</summary>
    [System.Diagnostics.CodeAnalysis.UnscopedRef]
    public ReadOnlySpan<double> Vec => ((ReadOnlySpan<double>)_vec)[..Dimensions];

    /// <inheritdoc />
    public int PayloadLength => 4 + 1 + (8 * Dimensions) + 24;

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer) => CoordinateMessage.WriteParts(ref writer, Sequence, Vec, Error, Adjustment, Height);

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out CoordinateParts message)
    {
        message = default;
        CoordinateDoubles vec = default;
        DecodeError error = CoordinateMessage.TryDecodeParts(payload, vec, out uint sequence, out int dimensions, out double confidence, out double adjustment, out double height);
        if (error == DecodeError.None)
        {
            message = new CoordinateParts(sequence, dimensions, vec, confidence, adjustment, height);
        }

        return error;
    }
}
