using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Modules;

/// <summary>Handles one decoded message of type <typeparamref name="T"/> that arrived from <paramref name="from"/>.</summary>
internal delegate void MessageHandler<T>(NodeAddress from, in T message, TimeSpan now)
    where T : struct, IWireMessage<T>;

/// <summary>Handles an incoming stream whose packet header names a registered type; replies (or not) during the call.</summary>
internal delegate void StreamRequestHandler(long streamId, NodeAddress from, ReadOnlySpan<byte> request, TimeSpan now);

/// <summary>One raw message's handler: decode, then hand over.</summary>
internal delegate DecodeError PacketHandler(NodeAddress from, ReadOnlySpan<byte> payload, TimeSpan now);

/// <summary>
/// The node's dispatch table: message id → handler, for datagram messages and for stream requests
/// (by the packet's header type). The kernel registers its own messages here exactly as modules
/// do; every id has at most one owner (a second registration throws at construction), so who
/// handles what is decided once, not per packet. Decoding is one generic helper over the static
/// <see cref="IWireMessage{TSelf}.TryDecode"/>.
/// </summary>
internal sealed class MessageTable
{
    // By id, each array as long as the highest id registered + 1 (ids are bytes, but the kernel's
    // and the modules' are below 32: two 256-slot arrays were 4 KiB a node, 4 bytes a member record
    // of a simulated cluster of 1,000).
    private PacketHandler?[] _packets = [];
    private StreamRequestHandler?[] _streams = [];

    /// <summary>Registers the handler of <typeparamref name="T"/>; names are interned in <paramref name="names"/> (null: not interned).</summary>
    public void Add<T>(MessageHandler<T> handler, NameTable? names)
        where T : struct, IWireMessage<T>
    {
        ArgumentNullException.ThrowIfNull(handler);
        int id = (byte)T.Type;
        if (id < _packets.Length && _packets[id] is not null)
        {
            throw new InvalidOperationException($"Message type {T.Type} already has a handler.");
        }

        if (id >= _packets.Length)
        {
            Array.Resize(ref _packets, id + 1);
        }

        _packets[id] = (from, payload, now) => Decode(handler, names, from, payload, now);
    }

    /// <summary>Registers the handler of incoming streams whose packet header type is <paramref name="headerType"/>.</summary>
    public void AddStream(MessageType headerType, StreamRequestHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        int id = (byte)headerType;
        if (id < _streams.Length && _streams[id] is not null)
        {
            throw new InvalidOperationException($"Streams of header type {headerType} already have a handler.");
        }

        if (id >= _streams.Length)
        {
            Array.Resize(ref _streams, id + 1);
        }

        _streams[id] = handler;
    }

    /// <summary>Decodes and handles one datagram message; an id nobody registered is malformed here.</summary>
    public DecodeError Dispatch(NodeAddress from, MessageType type, ReadOnlySpan<byte> payload, TimeSpan now) =>
        (byte)type < _packets.Length && _packets[(byte)type] is { } handler ? handler(from, payload, now) : DecodeError.Malformed;

    /// <summary>The handler of a stream request by the header type byte of its packet, or null.</summary>
    public StreamRequestHandler? StreamHandler(ReadOnlySpan<byte> request) =>
        request.Length >= WireLimits.HeaderBytes && request[1] < _streams.Length ? _streams[request[1]] : null;

    /// <summary>The one decode-then-handle step every message type goes through.</summary>
    private static DecodeError Decode<T>(MessageHandler<T> handler, NameTable? names, NodeAddress from, ReadOnlySpan<byte> payload, TimeSpan now)
        where T : struct, IWireMessage<T>
    {
        DecodeError error = T.TryDecode(payload, names, out T message);
        if (error == DecodeError.None)
        {
            handler(from, in message, now);
        }

        return error;
    }
}
