using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;

namespace Rumor.Core;

/// <summary>
/// An IPv4 or IPv6 address and a port, as a small value type. The core deals only in these (never in
/// sockets); the shells convert to and from <see cref="IPEndPoint"/>. A value type keeps the decoder
/// allocation-free and the simulator's tables compact.
/// </summary>
public readonly struct NodeAddress : IEquatable<NodeAddress>, IComparable<NodeAddress>
{
    private readonly UInt128 _bits;
    private readonly bool _isIPv6;

    /// <summary>Creates an IPv4 address from its 32-bit big-endian value.</summary>
    public NodeAddress(uint ipv4, ushort port)
    {
        _bits = ipv4;
        _isIPv6 = false;
        Port = port;
    }

    private NodeAddress(UInt128 bits, bool isIPv6, ushort port)
    {
        _bits = bits;
        _isIPv6 = isIPv6;
        Port = port;
    }

    /// <summary>The IPv4 value (as given to the constructor) when this is an IPv4 address; a member record keeps only that.</summary>
    internal bool TryGetIPv4(out uint ipv4)
    {
        ipv4 = _isIPv6 ? 0 : (uint)_bits;
        return !_isIPv6;
    }

    /// <summary>The port.</summary>
    public ushort Port { get; }

    /// <summary>True for IPv6, false for IPv4.</summary>
    public bool IsIPv6 => _isIPv6;

    /// <summary>True for the default value (0.0.0.0:0), which names no node.</summary>
    public bool IsEmpty => !_isIPv6 && _bits == 0 && Port == 0;

    /// <summary>Number of address bytes on the wire (4 or 16).</summary>
    public int AddressLength => _isIPv6 ? 16 : 4;

    /// <summary>Builds an address from raw bytes (4 or 16 of them, network order).</summary>
    public static NodeAddress FromBytes(ReadOnlySpan<byte> address, ushort port) => address.Length switch
    {
        4 => new NodeAddress(BinaryPrimitives.ReadUInt32BigEndian(address), port),
        16 => new NodeAddress(BinaryPrimitives.ReadUInt128BigEndian(address), true, port),
        _ => throw new ArgumentException("An address has 4 (IPv4) or 16 (IPv6) bytes.", nameof(address)),
    };

    /// <summary>Converts from an <see cref="IPAddress"/> and port. IPv4-mapped IPv6 addresses become IPv4.</summary>
    public static NodeAddress From(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (port is < 0 or > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, "A port is between 0 and 65535.");
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        return FromBytes(bytes[..written], (ushort)port);
    }

    /// <summary>Converts from an <see cref="IPEndPoint"/>.</summary>
    public static NodeAddress From(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        return From(endPoint.Address, endPoint.Port);
    }

    /// <summary>Writes the address bytes (4 or 16, network order).</summary>
    public void WriteAddressBytes(Span<byte> destination)
    {
        if (_isIPv6)
        {
            BinaryPrimitives.WriteUInt128BigEndian(destination, _bits);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)_bits);
        }
    }

    /// <summary>The address as an <see cref="IPAddress"/>.</summary>
    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        WriteAddressBytes(bytes);
        return new IPAddress(bytes[..AddressLength]);
    }

    /// <summary>The address as an <see cref="IPEndPoint"/>.</summary>
    public IPEndPoint ToIPEndPoint() => new(ToIPAddress(), Port);

    /// <summary>
    /// Parses "a.b.c.d:port" (canonical dotted-quad IPv4: four decimal parts, no leading zeros) or
    /// "[v6]:port". Old-style forms that the BSD parser accepts ("010.0.0.1" as octal, "1.2.3",
    /// "0x7f.0.0.1") are refused: a seed typed with leading zeros must not silently point elsewhere.
    /// </summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out NodeAddress address)
    {
        address = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        ReadOnlySpan<char> span = text.AsSpan().Trim();
        int colon = span.LastIndexOf(':');
        if (colon <= 0 || !TryParsePort(span[(colon + 1)..], out ushort port))
        {
            return false;
        }

        ReadOnlySpan<char> host = span[..colon];
        if (host[0] == '[')
        {
            if (host.Length < 3 || host[^1] != ']' || host.Contains('%') ||
                !IPAddress.TryParse(host[1..^1], out IPAddress? v6) || !HasSixteenBytes(v6))
            {
                return false;
            }

            address = From(v6, port);
            return true;
        }

        uint value = 0;
        int parts = 0;
        foreach (Range range in host.Split('.'))
        {
            ReadOnlySpan<char> part = host[range];
            if (++parts > 4 || part.Length is 0 or > 3 || (part.Length > 1 && part[0] == '0') ||
                !uint.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out uint octet) || octet > 255)
            {
                return false;
            }

            value = (value << 8) | octet;
        }

        if (parts != 4)
        {
            return false;
        }

        address = new NodeAddress(value, port);
        return true;
    }

    // Sixteen address bytes: IPv6 (the core names no socket types, not even AddressFamily).
    private static bool HasSixteenBytes(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        return address.TryWriteBytes(bytes, out int written) && written == 16;
    }

    private static bool TryParsePort(ReadOnlySpan<char> text, out ushort port)
    {
        port = 0;
        return text.Length is > 0 and <= 5 && (text.Length == 1 || text[0] != '0') &&
            ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port);
    }

    /// <summary>Parses "host:port"; throws <see cref="FormatException"/> with a clear message on bad input.</summary>
    public static NodeAddress Parse(string text) =>
        TryParse(text, out NodeAddress address)
            ? address
            : throw new FormatException($"'{text}' is not an address: expected IPv4:port (127.0.0.1:7946) or [IPv6]:port ([::1]:7946).");

    /// <inheritdoc />
    public bool Equals(NodeAddress other) => _bits == other._bits && _isIPv6 == other._isIPv6 && Port == other.Port;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is NodeAddress other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_bits, _isIPv6, Port);

    /// <summary>Orders IPv4 before IPv6, then by address bits, then by port (deterministic).</summary>
    public int CompareTo(NodeAddress other)
    {
        int c = _isIPv6.CompareTo(other._isIPv6);
        if (c != 0)
        {
            return c;
        }

        c = _bits.CompareTo(other._bits);
        return c != 0 ? c : Port.CompareTo(other.Port);
    }

    /// <summary>Equality.</summary>
    public static bool operator ==(NodeAddress left, NodeAddress right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(NodeAddress left, NodeAddress right) => !left.Equals(right);

    /// <summary>Ordering.</summary>
    public static bool operator <(NodeAddress left, NodeAddress right) => left.CompareTo(right) < 0;

    /// <summary>Ordering.</summary>
    public static bool operator >(NodeAddress left, NodeAddress right) => left.CompareTo(right) > 0;

    /// <summary>Ordering.</summary>
    public static bool operator <=(NodeAddress left, NodeAddress right) => left.CompareTo(right) <= 0;

    /// <summary>Ordering.</summary>
    public static bool operator >=(NodeAddress left, NodeAddress right) => left.CompareTo(right) >= 0;

    /// <summary>"a.b.c.d:port" or "[v6]:port".</summary>
    public override string ToString()
    {
        if (!_isIPv6)
        {
            uint v = (uint)_bits;
            return string.Create(CultureInfo.InvariantCulture, $"{v >> 24}.{(v >> 16) & 0xFF}.{(v >> 8) & 0xFF}.{v & 0xFF}:{Port}");
        }

        return string.Create(CultureInfo.InvariantCulture, $"[{ToIPAddress()}]:{Port}");
    }
}
