using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace Rumor.Core.Wire;

/// <summary>
/// Reads the wire's primitive types from a span. Every read checks the remaining length first and
/// returns false instead of throwing, so a hostile packet costs at most a failed decode. Strings are
/// only allocated after their length has been checked against the input, and names go through a
/// <see cref="NameTable"/> so that known names cost no allocation at all.
/// </summary>
public ref struct WireReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    /// <summary>Reads <paramref name="buffer"/> from its start.</summary>
    public WireReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    /// <summary>Bytes not yet read.</summary>
    public readonly int Remaining => _buffer.Length - _position;

    /// <summary>Bytes read so far.</summary>
    public readonly int Position => _position;

    /// <summary>Reads a byte.</summary>
    public bool TryReadByte(out byte value)
    {
        if (Remaining < 1)
        {
            value = 0;
            return false;
        }

        value = _buffer[_position++];
        return true;
    }

    /// <summary>Reads a little-endian 16-bit value.</summary>
    public bool TryReadUInt16(out ushort value)
    {
        if (Remaining < 2)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt16LittleEndian(_buffer[_position..]);
        _position += 2;
        return true;
    }

    /// <summary>Reads a little-endian 32-bit value.</summary>
    public bool TryReadUInt32(out uint value)
    {
        if (Remaining < 4)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt32LittleEndian(_buffer[_position..]);
        _position += 4;
        return true;
    }

    /// <summary>Reads a little-endian 64-bit value.</summary>
    public bool TryReadUInt64(out ulong value)
    {
        if (Remaining < 8)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt64LittleEndian(_buffer[_position..]);
        _position += 8;
        return true;
    }

    /// <summary>Reads <paramref name="count"/> raw bytes as a slice of the input (no copy).</summary>
    public bool TryReadRaw(int count, out ReadOnlySpan<byte> value)
    {
        if (count < 0 || Remaining < count)
        {
            value = default;
            return false;
        }

        value = _buffer.Slice(_position, count);
        _position += count;
        return true;
    }

    /// <summary>Reads a name (one length byte, UTF-8), rejecting invalid UTF-8 and empty names when required.</summary>
    public DecodeError TryReadName(NameTable? names, bool allowEmpty, out string value)
    {
        value = string.Empty;
        if (!TryReadByte(out byte length))
        {
            return DecodeError.Truncated;
        }

        if (!TryReadRaw(length, out ReadOnlySpan<byte> utf8))
        {
            return DecodeError.Truncated;
        }

        if (length == 0)
        {
            return allowEmpty ? DecodeError.None : DecodeError.Malformed;
        }

        if (!Utf8.IsValid(utf8))
        {
            return DecodeError.Malformed;
        }

        value = names is null ? Encoding.UTF8.GetString(utf8) : names.Intern(utf8);
        return DecodeError.None;
    }

    /// <summary>Reads a byte field with a two-byte length; empty fields share one array.</summary>
    public DecodeError TryReadBytes16(int maxLength, out byte[] value)
    {
        value = [];
        if (!TryReadUInt16(out ushort length))
        {
            return DecodeError.Truncated;
        }

        if (length > maxLength)
        {
            return DecodeError.Malformed;
        }

        if (!TryReadRaw(length, out ReadOnlySpan<byte> bytes))
        {
            return DecodeError.Truncated;
        }

        value = length == 0 ? [] : bytes.ToArray();
        return DecodeError.None;
    }

    /// <summary>Reads an address written by <see cref="WireWriter.WriteAddress"/>.</summary>
    public DecodeError TryReadAddress(out NodeAddress address)
    {
        address = default;
        if (!TryReadByte(out byte family))
        {
            return DecodeError.Truncated;
        }

        int length = family switch
        {
            4 => 4,
            6 => 16,
            _ => -1,
        };
        if (length < 0)
        {
            return DecodeError.Malformed;
        }

        if (!TryReadRaw(length, out ReadOnlySpan<byte> bytes) || !TryReadUInt16(out ushort port))
        {
            return DecodeError.Truncated;
        }

        address = NodeAddress.FromBytes(bytes, port);
        return DecodeError.None;
    }
}
