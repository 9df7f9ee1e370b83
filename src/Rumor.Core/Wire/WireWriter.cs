using System.Buffers.Binary;
using System.Text;

namespace Rumor.Core.Wire;

/// <summary>
/// Writes the wire's primitive types into a span. All integers are little-endian and fixed-width;
/// strings are UTF-8 with a one-byte length; byte fields carry a two-byte length (four in streams).
/// Callers size the span from <c>GetEncodedLength</c>, so running out of room is a bug and throws.
/// </summary>
public ref struct WireWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    /// <summary>Writes into <paramref name="buffer"/> from its start.</summary>
    public WireWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Position => _position;

    /// <summary>The bytes written so far.</summary>
    public readonly ReadOnlySpan<byte> Written => _buffer[.._position];

    /// <summary>Writes a byte.</summary>
    public void WriteByte(byte value) => _buffer[_position++] = value;

    /// <summary>Writes a little-endian 16-bit value.</summary>
    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[_position..], value);
        _position += 2;
    }

    /// <summary>Writes a little-endian 32-bit value.</summary>
    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer[_position..], value);
        _position += 4;
    }

    /// <summary>Writes a little-endian 64-bit value.</summary>
    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer[_position..], value);
        _position += 8;
    }

    /// <summary>Writes a name: one length byte, then at most 255 bytes of UTF-8.</summary>
    public void WriteName(string value)
    {
        int length = Encoding.UTF8.GetBytes(value, _buffer[(_position + 1)..]);
        if (length > WireLimits.NameMaxBytes)
        {
            throw new InvalidOperationException($"A name is at most {WireLimits.NameMaxBytes} bytes of UTF-8.");
        }

        _buffer[_position] = (byte)length;
        _position += 1 + length;
    }

    /// <summary>Writes a string as UTF-8 with a two-byte length, without an intermediate array.</summary>
    public void WriteString16(string value)
    {
        int length = Encoding.UTF8.GetBytes(value, _buffer[(_position + 2)..]);
        if (length > ushort.MaxValue)
        {
            throw new InvalidOperationException("A short string field is at most 65535 bytes of UTF-8.");
        }

        WriteUInt16((ushort)length);
        _position += length;
    }

    /// <summary>Writes bytes with a two-byte length.</summary>
    public void WriteBytes16(ReadOnlySpan<byte> value)
    {
        if (value.Length > ushort.MaxValue)
        {
            throw new InvalidOperationException("A short byte field is at most 65535 bytes.");
        }

        WriteUInt16((ushort)value.Length);
        WriteRaw(value);
    }

    /// <summary>Writes bytes with a four-byte length.</summary>
    public void WriteBytes32(ReadOnlySpan<byte> value)
    {
        WriteUInt32((uint)value.Length);
        WriteRaw(value);
    }

    /// <summary>Writes bytes as they are.</summary>
    public void WriteRaw(ReadOnlySpan<byte> value)
    {
        value.CopyTo(_buffer[_position..]);
        _position += value.Length;
    }

    /// <summary>Writes an address: family (4 or 6), its bytes, then the port.</summary>
    public void WriteAddress(NodeAddress address)
    {
        WriteByte(address.IsIPv6 ? (byte)6 : (byte)4);
        address.WriteAddressBytes(_buffer[_position..]);
        _position += address.AddressLength;
        WriteUInt16(address.Port);
    }

    /// <summary>Encoded length of a name.</summary>
    public static int NameLength(string value) => 1 + Encoding.UTF8.GetByteCount(value);

    /// <summary>Encoded length of an address.</summary>
    public static int AddressLength(NodeAddress address) => 1 + address.AddressLength + 2;
}
