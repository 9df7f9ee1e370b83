using System.Buffers.Binary;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Wire;

/// <summary>
/// Packs messages into one packet under a byte budget, refusing any message that would exceed it.
/// One message makes a plain packet; two or more make a compound packet. Layout:
/// <code>
/// packet   = version u8 | type u8 | flags u8 | body | crc32c u32 (over version..body)
/// compound = count u8 | count × (length u16 | type u8 | payload)     (length covers type + payload)
/// </code>
/// The builder owns one buffer and is reused for every packet (no allocation per packet).
/// </summary>
public sealed class PacketBuilder
{
    // Messages are written from this offset: header (3) + compound count (1).
    private const int FirstEntryOffset = WireLimits.HeaderBytes + WireLimits.CompoundHeaderBytes;

    private readonly byte[] _buffer;
    private int _budget;
    private int _position;
    private int _count;
    private int _firstEntryLength;
    private int _finishedLength;
    private PacketFlags _flags;

    /// <summary>Creates a builder whose packets may be at most <paramref name="capacityBytes"/> long.</summary>
    public PacketBuilder(int capacityBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityBytes, WireLimits.OverheadBytes + FirstEntryOffset);
        _buffer = new byte[capacityBytes];
        Reset(capacityBytes);
    }

    /// <summary>The largest budget a reset may give (the buffer's length).</summary>
    public int Capacity => _buffer.Length;

    /// <summary>Messages added since the last reset.</summary>
    public int Count => _count;

    /// <summary>The budget of the packet being built.</summary>
    public int Budget => _budget;

    /// <summary>The largest message (type byte + payload) that still fits.</summary>
    public int RemainingForMessage => _count >= WireLimits.CompoundMaxMessages
        ? 0
        : Math.Max(0, _budget - _position - WireLimits.TrailerBytes - WireLimits.CompoundEntryOverheadBytes);

    /// <summary>Starts a new packet of at most <paramref name="budgetBytes"/> bytes.</summary>
    public void Reset(int budgetBytes, PacketFlags flags = PacketFlags.None)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(budgetBytes, _buffer.Length);
        ArgumentOutOfRangeException.ThrowIfLessThan(budgetBytes, WireLimits.OverheadBytes + FirstEntryOffset);
        _budget = budgetBytes;
        _position = FirstEntryOffset;
        _count = 0;
        _firstEntryLength = 0;
        _finishedLength = 0;
        _flags = flags;
    }

    /// <summary>Adds a message if it fits the budget; returns false (and changes nothing) if it does not.</summary>
    public bool TryAdd<T>(in T message) where T : struct, IWireMessage<T>
    {
        ThrowIfFinished();
        int length = 1 + message.PayloadLength;
        if (length > RemainingForMessage || length > ushort.MaxValue)
        {
            return false;
        }

        WireWriter writer = new(_buffer.AsSpan(_position));
        writer.WriteUInt16((ushort)length);
        writer.WriteByte((byte)T.Type);
        message.WritePayload(ref writer);
        Commit(length);
        return true;
    }

    /// <summary>Adds a message already encoded as type byte + payload (how broadcasts are queued).</summary>
    public bool TryAddEncoded(ReadOnlySpan<byte> typeAndPayload)
    {
        ThrowIfFinished();
        int length = typeAndPayload.Length;
        if (length < 1 || length > RemainingForMessage || length > ushort.MaxValue)
        {
            return false;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_position), (ushort)length);
        typeAndPayload.CopyTo(_buffer.AsSpan(_position + 2));
        Commit(length);
        return true;
    }

    private void ThrowIfFinished()
    {
        if (_finishedLength != 0)
        {
            throw new InvalidOperationException("The packet is finished: Reset the builder before adding messages.");
        }
    }

    private void Commit(int length)
    {
        if (_count == 0)
        {
            _firstEntryLength = length;
        }

        _position += WireLimits.CompoundEntryOverheadBytes + length;
        _count++;
    }

    /// <summary>
    /// Writes header and checksum and returns the packet; empty when no message was added. The span
    /// stays valid until the next <see cref="Reset"/>. Calling it again returns the same packet
    /// (a single message is moved in place, so the work must not be redone).
    /// </summary>
    public ReadOnlySpan<byte> Finish()
    {
        if (_count == 0)
        {
            return [];
        }

        if (_finishedLength != 0)
        {
            return _buffer.AsSpan(0, _finishedLength);
        }

        Span<byte> buffer = _buffer;
        int end;
        if (_count == 1)
        {
            // A single message needs no compound wrapper: its type becomes the header type and its
            // payload moves up to follow the header.
            byte type = buffer[FirstEntryOffset + 2];
            int payloadLength = _firstEntryLength - 1;
            buffer.Slice(FirstEntryOffset + 3, payloadLength).CopyTo(buffer[WireLimits.HeaderBytes..]);
            buffer[1] = type;
            end = WireLimits.HeaderBytes + payloadLength;
        }
        else
        {
            buffer[1] = (byte)MessageType.Compound;
            buffer[WireLimits.HeaderBytes] = (byte)_count;
            end = _position;
        }

        buffer[0] = WireLimits.FormatVersion;
        buffer[2] = (byte)_flags;
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[end..], Crc32C.Compute(buffer[..end]));
        _finishedLength = end + WireLimits.TrailerBytes;
        return buffer[.._finishedLength];
    }

    /// <summary>Encodes one message as a packet into a new array (for streams and tests; not the hot path).</summary>
    public static byte[] EncodeSingle<T>(in T message, PacketFlags flags = PacketFlags.None) where T : struct, IWireMessage<T>
    {
        byte[] packet = new byte[WireLimits.OverheadBytes + message.PayloadLength];
        WriteSingle(in message, packet, flags);
        return packet;
    }

    /// <summary>As <see cref="EncodeSingle{T}"/>, into a pooled array (for full-state streams, hundreds of kilobytes at a few thousand members).</summary>
    internal static PooledBytes EncodeSinglePooled<T>(in T message) where T : struct, IWireMessage<T>
    {
        PooledBytes pooled = PooledBytes.Rent(WireLimits.OverheadBytes + message.PayloadLength);
        try
        {
            WriteSingle(in message, pooled.Array.AsSpan(0, pooled.Length), PacketFlags.None);
        }
        catch
        {
            pooled.Dispose();
            throw;
        }

        return pooled;
    }

    /// <summary>Writes header, payload and checksum of one message into <paramref name="packet"/>, which is exactly <see cref="WireLimits.OverheadBytes"/> plus the payload long.</summary>
    private static void WriteSingle<T>(in T message, Span<byte> packet, PacketFlags flags) where T : struct, IWireMessage<T>
    {
        int payloadLength = packet.Length - WireLimits.OverheadBytes;
        packet[0] = WireLimits.FormatVersion;
        packet[1] = (byte)T.Type;
        packet[2] = (byte)flags;
        WireWriter writer = new(packet.Slice(WireLimits.HeaderBytes, payloadLength));
        message.WritePayload(ref writer);
        if (writer.Position != payloadLength)
        {
            throw new InvalidOperationException($"{T.Type} wrote {writer.Position} bytes but declared {payloadLength}.");
        }

        int end = WireLimits.HeaderBytes + payloadLength;
        BinaryPrimitives.WriteUInt32LittleEndian(packet[end..], Crc32C.Compute(packet[..end]));
    }

    /// <summary>Encodes pre-encoded messages (type byte + payload each) as one packet, plain when there is one (for streams; not the hot path).</summary>
    public static byte[] EncodePacket(IReadOnlyList<byte[]> messages)
    {
        ReadOnlyMemory<byte>[] spans = new ReadOnlyMemory<byte>[messages.Count];
        for (int i = 0; i < spans.Length; i++)
        {
            spans[i] = messages[i];
        }

        byte[] packet = new byte[PacketLength(spans)];
        WritePacket(spans, packet);
        return packet;
    }

    /// <summary>As <see cref="EncodePacket"/>, into a pooled array (state streams: a packet of N owners' deltas or digest lines per exchange while keys spread).</summary>
    internal static PooledBytes EncodePacketPooled(ReadOnlySpan<ReadOnlyMemory<byte>> messages)
    {
        PooledBytes packet = PooledBytes.Rent(PacketLength(messages));
        WritePacket(messages, packet.Array.AsSpan(0, packet.Length));
        return packet;
    }

    private static int PacketLength(ReadOnlySpan<ReadOnlyMemory<byte>> messages)
    {
        ArgumentOutOfRangeException.ThrowIfZero(messages.Length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(messages.Length, WireLimits.CompoundMaxMessages);
        bool compound = messages.Length > 1;
        int length = WireLimits.OverheadBytes + (compound ? 1 : -1);
        foreach (ReadOnlyMemory<byte> message in messages)
        {
            length += message.Length + (compound ? WireLimits.CompoundEntryOverheadBytes : 0);
        }

        return length;
    }

    private static void WritePacket(ReadOnlySpan<ReadOnlyMemory<byte>> messages, Span<byte> packet)
    {
        bool compound = messages.Length > 1;
        packet[0] = WireLimits.FormatVersion;
        packet[2] = (byte)PacketFlags.None;
        int position = WireLimits.HeaderBytes;
        if (compound)
        {
            packet[1] = (byte)MessageType.Compound;
            packet[position++] = (byte)messages.Length;
            foreach (ReadOnlyMemory<byte> message in messages)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(packet[position..], checked((ushort)message.Length));
                message.Span.CopyTo(packet[(position + 2)..]);
                position += 2 + message.Length;
            }
        }
        else
        {
            ReadOnlySpan<byte> only = messages[0].Span;
            packet[1] = only[0];
            only[1..].CopyTo(packet[position..]);
            position += only.Length - 1;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(packet[position..], Crc32C.Compute(packet[..position]));
    }

    /// <summary>As <see cref="EncodeMessage{T}(in T)"/>, into a pooled array (a state stream's deltas or digest, before they go into its packet).</summary>
    internal static PooledBytes EncodeMessagePooled<T>(in T message) where T : struct, IWireMessage<T>
    {
        PooledBytes bytes = PooledBytes.Rent(1 + message.PayloadLength);
        try
        {
            bytes.Array[0] = (byte)T.Type;
            WireWriter writer = new(bytes.Array.AsSpan(1, bytes.Length - 1));
            message.WritePayload(ref writer);
        }
        catch
        {
            bytes.Dispose();
            throw;
        }

        return bytes;
    }

    /// <summary>Encodes one message as type byte + payload (the form broadcasts are queued in).</summary>
    public static byte[] EncodeMessage<T>(in T message) where T : struct, IWireMessage<T>
    {
        byte[] bytes = new byte[1 + message.PayloadLength];
        bytes[0] = (byte)T.Type;
        WireWriter writer = new(bytes.AsSpan(1));
        message.WritePayload(ref writer);
        return bytes;
    }

    /// <summary>
    /// Encodes <paramref name="message"/> as <see cref="EncodeMessage{T}(in T)"/> does, and when
    /// <paramref name="names"/> interns messages (<see cref="NameTable.InternsMessages"/>: a
    /// simulation's shared table) returns the one array that holds these bytes, written on the stack
    /// first, so that a message already held allocates nothing. Only for messages that are queued
    /// as they are and never written into (membership news: every node of a simulation queues the
    /// same Alive of each member).
    /// </summary>
    public static byte[] EncodeMessage<T>(in T message, NameTable names) where T : struct, IWireMessage<T>
    {
        int length = 1 + message.PayloadLength;
        if (!names.InternsMessages || length > NameTable.MessageInternMaxBytes)
        {
            return EncodeMessage(message);
        }

        Span<byte> bytes = stackalloc byte[length]; // at most MessageInternMaxBytes (zeroed at every call: no more than the message)
        bytes[0] = (byte)T.Type;
        WireWriter writer = new(bytes[1..]);
        message.WritePayload(ref writer);
        return names.InternMessage(bytes);
    }
}
