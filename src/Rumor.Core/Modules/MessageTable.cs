using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Modules;

/// <summary>
/// Handles decoded datagram messages of type <typeparamref name="T"/>: the kernel and each module
/// implement it once per message type they own (explicitly, forwarding to their handler).
/// </summary>
internal interface IMessageHandler<T>
    where T : struct, IWireMessage<T>
{
    /// <summary>Handles one decoded message that arrived from <paramref name="from"/>.</summary>
    void Handle(NodeAddress from, in T message, TimeSpan now);
}

/// <summary>Handles an incoming stream whose packet header names a registered type; replies (or not) during the call.</summary>
internal interface IStreamRequestHandler
{
    /// <summary>Handles one incoming stream's request.</summary>
    void HandleStreamRequest(long streamId, NodeAddress from, ReadOnlySpan<byte> request, TimeSpan now);
}

/// <summary>
/// The node's dispatch table: message id → handler, for datagram messages and for stream requests
/// (by the packet's header type). The kernel registers its own messages here exactly as modules
/// do; every id has at most one owner (a second registration throws at construction), so who
/// handles what is decided once, not per packet. Decoding is one generic helper over the static
/// <see cref="IWireMessage{TSelf}.TryDecode"/>.
/// <para>
/// A row is the handler object and one decoder shared by every node (a static delegate per message
/// type and naming): a simulated cluster builds this table once per node, and a delegate bound to
/// the handler plus a wrapping closure per message type were ~2.9 KB a node (18 types; ~3 bytes a
/// member record at N = 1,000, measured with a heap census of the scale benchmark).
/// </para>
/// </summary>
internal sealed class MessageTable(NameTable names)
{
    // By id, each array as long as the highest id registered + 1 (ids are bytes, but the kernel's
    // and the modules' are below 32: two 256-slot arrays were 4 KiB a node, 4 bytes a member record
    // of a simulated cluster of 1,000).
    private PacketRow[] _packets = [];
    private IStreamRequestHandler?[] _streams = [];

    private delegate DecodeError Decoder(object handler, NameTable names, NodeAddress from, ReadOnlySpan<byte> payload, TimeSpan now);

    /// <summary>Registers the handler of <typeparamref name="T"/>; names are interned in the node's name table unless <paramref name="internNames"/> is false.</summary>
    public void Add<T>(IMessageHandler<T> handler, bool internNames = true)
        where T : struct, IWireMessage<T>
    {
        ArgumentNullException.ThrowIfNull(handler);
        int id = (byte)T.Type;
        if (id < _packets.Length && _packets[id].Handler is not null)
        {
            throw new InvalidOperationException($"Message type {T.Type} already has a handler.");
        }

        Grow(ref _packets, id);
        _packets[id] = new PacketRow(handler, internNames ? Decoding<T>.Interned : Decoding<T>.NotInterned);
    }

    /// <summary>Registers the handler of incoming streams whose packet header type is <paramref name="headerType"/>.</summary>
    public void AddStream(MessageType headerType, IStreamRequestHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        int id = (byte)headerType;
        if (id < _streams.Length && _streams[id] is not null)
        {
            throw new InvalidOperationException($"Streams of header type {headerType} already have a handler.");
        }

        Grow(ref _streams, id);
        _streams[id] = handler;
    }

    /// <summary>Decodes and handles one datagram message; an id nobody registered is malformed here.</summary>
    public DecodeError Dispatch(NodeAddress from, MessageType type, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        if ((byte)type >= _packets.Length)
        {
            return DecodeError.Malformed;
        }

        PacketRow row = _packets[(byte)type];
        return row.Handler is null ? DecodeError.Malformed : row.Decode(row.Handler, names, from, payload, now);
    }

    /// <summary>The handler of a stream request by the header type byte of its packet, or null.</summary>
    public IStreamRequestHandler? StreamHandler(ReadOnlySpan<byte> request) =>
        request.Length >= WireLimits.HeaderBytes && request[1] < _streams.Length ? _streams[request[1]] : null;

    private static void Grow<TRow>(ref TRow[] rows, int id)
    {
        if (id >= rows.Length)
        {
            Array.Resize(ref rows, id + 1);
        }
    }

    private readonly record struct PacketRow(object? Handler, Decoder Decode);

    /// <summary>The one decode-then-handle step every message type goes through, as two delegates per type shared by every table.</summary>
    private static class Decoding<T>
        where T : struct, IWireMessage<T>
    {
        public static readonly Decoder Interned = static (handler, names, from, payload, now) => Decode(handler, names, from, payload, now);

        public static readonly Decoder NotInterned = static (handler, _, from, payload, now) => Decode(handler, null, from, payload, now);

        private static DecodeError Decode(object handler, NameTable? names, NodeAddress from, ReadOnlySpan<byte> payload, TimeSpan now)
        {
            DecodeError error = T.TryDecode(payload, names, out T message);
            if (error == DecodeError.None)
            {
                ((IMessageHandler<T>)handler).Handle(from, in message, now);
            }

            return error;
        }
    }
}
