using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Support;

/// <summary>Dispatches the generic (struct-constrained) codec API over boxed messages of any type.</summary>
internal static class MessageOps
{
    public static MessageType TypeOf(object message) => message switch
    {
        PingMessage => MessageType.Ping,
        IndirectPingMessage => MessageType.IndirectPing,
        AckMessage => MessageType.Ack,
        NackMessage => MessageType.Nack,
        AliveMessage => MessageType.Alive,
        SuspectMessage => MessageType.Suspect,
        DeadMessage => MessageType.Dead,
        PushPullMessage => MessageType.PushPull,
        StateDigestMessage => MessageType.StateDigest,
        StateDeltaMessage => MessageType.StateDelta,
        StateChecksumMessage => MessageType.StateChecksum,
        HeartbeatsMessage => MessageType.Heartbeats,
        UserEventMessage => MessageType.UserEvent,
        EventDigestMessage => MessageType.EventDigest,
        QueryMessage => MessageType.Query,
        QueryResponseMessage => MessageType.QueryResponse,
        AggregateMessage => MessageType.Aggregate,
        CoordinateMessage => MessageType.Coordinate,
        ViewChecksumMessage => MessageType.ViewChecksum,
        _ => throw new ArgumentException(message.GetType().Name),
    };

    public static int PayloadLength(object message) => message switch
    {
        PingMessage m => m.PayloadLength,
        IndirectPingMessage m => m.PayloadLength,
        AckMessage m => m.PayloadLength,
        NackMessage m => m.PayloadLength,
        AliveMessage m => m.PayloadLength,
        SuspectMessage m => m.PayloadLength,
        DeadMessage m => m.PayloadLength,
        PushPullMessage m => m.PayloadLength,
        StateDigestMessage m => m.PayloadLength,
        StateDeltaMessage m => m.PayloadLength,
        StateChecksumMessage m => m.PayloadLength,
        HeartbeatsMessage m => m.PayloadLength,
        UserEventMessage m => m.PayloadLength,
        EventDigestMessage m => m.PayloadLength,
        QueryMessage m => m.PayloadLength,
        QueryResponseMessage m => m.PayloadLength,
        AggregateMessage m => m.PayloadLength,
        CoordinateMessage m => m.PayloadLength,
        ViewChecksumMessage m => m.PayloadLength,
        _ => throw new ArgumentException(message.GetType().Name),
    };

    /// <summary>Writes the payload into a generously sized buffer and returns how many bytes were written.</summary>
    public static int WrittenLength(object message, int slack = 64)
    {
        byte[] buffer = new byte[PayloadLength(message) + slack];
        WireWriter writer = new(buffer);
        switch (message)
        {
            case PingMessage m: m.WritePayload(ref writer); break;
            case IndirectPingMessage m: m.WritePayload(ref writer); break;
            case AckMessage m: m.WritePayload(ref writer); break;
            case NackMessage m: m.WritePayload(ref writer); break;
            case AliveMessage m: m.WritePayload(ref writer); break;
            case SuspectMessage m: m.WritePayload(ref writer); break;
            case DeadMessage m: m.WritePayload(ref writer); break;
            case PushPullMessage m: m.WritePayload(ref writer); break;
            case StateDigestMessage m: m.WritePayload(ref writer); break;
            case StateDeltaMessage m: m.WritePayload(ref writer); break;
            case StateChecksumMessage m: m.WritePayload(ref writer); break;
            case HeartbeatsMessage m: m.WritePayload(ref writer); break;
            case UserEventMessage m: m.WritePayload(ref writer); break;
            case EventDigestMessage m: m.WritePayload(ref writer); break;
            case QueryMessage m: m.WritePayload(ref writer); break;
            case QueryResponseMessage m: m.WritePayload(ref writer); break;
            case AggregateMessage m: m.WritePayload(ref writer); break;
            case CoordinateMessage m: m.WritePayload(ref writer); break;
            case ViewChecksumMessage m: m.WritePayload(ref writer); break;
            default: throw new ArgumentException(message.GetType().Name);
        }

        return writer.Position;
    }

    public static byte[] EncodeSingle(object message) => message switch
    {
        PingMessage m => PacketBuilder.EncodeSingle(m),
        IndirectPingMessage m => PacketBuilder.EncodeSingle(m),
        AckMessage m => PacketBuilder.EncodeSingle(m),
        NackMessage m => PacketBuilder.EncodeSingle(m),
        AliveMessage m => PacketBuilder.EncodeSingle(m),
        SuspectMessage m => PacketBuilder.EncodeSingle(m),
        DeadMessage m => PacketBuilder.EncodeSingle(m),
        PushPullMessage m => PacketBuilder.EncodeSingle(m),
        StateDigestMessage m => PacketBuilder.EncodeSingle(m),
        StateDeltaMessage m => PacketBuilder.EncodeSingle(m),
        StateChecksumMessage m => PacketBuilder.EncodeSingle(m),
        HeartbeatsMessage m => PacketBuilder.EncodeSingle(m),
        UserEventMessage m => PacketBuilder.EncodeSingle(m),
        EventDigestMessage m => PacketBuilder.EncodeSingle(m),
        QueryMessage m => PacketBuilder.EncodeSingle(m),
        QueryResponseMessage m => PacketBuilder.EncodeSingle(m),
        AggregateMessage m => PacketBuilder.EncodeSingle(m),
        CoordinateMessage m => PacketBuilder.EncodeSingle(m),
        ViewChecksumMessage m => PacketBuilder.EncodeSingle(m),
        _ => throw new ArgumentException(message.GetType().Name),
    };

    public static byte[] EncodeMessage(object message) => message switch
    {
        PingMessage m => PacketBuilder.EncodeMessage(m),
        IndirectPingMessage m => PacketBuilder.EncodeMessage(m),
        AckMessage m => PacketBuilder.EncodeMessage(m),
        NackMessage m => PacketBuilder.EncodeMessage(m),
        AliveMessage m => PacketBuilder.EncodeMessage(m),
        SuspectMessage m => PacketBuilder.EncodeMessage(m),
        DeadMessage m => PacketBuilder.EncodeMessage(m),
        PushPullMessage m => PacketBuilder.EncodeMessage(m),
        StateDigestMessage m => PacketBuilder.EncodeMessage(m),
        StateDeltaMessage m => PacketBuilder.EncodeMessage(m),
        StateChecksumMessage m => PacketBuilder.EncodeMessage(m),
        HeartbeatsMessage m => PacketBuilder.EncodeMessage(m),
        UserEventMessage m => PacketBuilder.EncodeMessage(m),
        EventDigestMessage m => PacketBuilder.EncodeMessage(m),
        QueryMessage m => PacketBuilder.EncodeMessage(m),
        QueryResponseMessage m => PacketBuilder.EncodeMessage(m),
        AggregateMessage m => PacketBuilder.EncodeMessage(m),
        CoordinateMessage m => PacketBuilder.EncodeMessage(m),
        ViewChecksumMessage m => PacketBuilder.EncodeMessage(m),
        _ => throw new ArgumentException(message.GetType().Name),
    };

    public static bool TryAdd(PacketBuilder builder, object message) => message switch
    {
        PingMessage m => builder.TryAdd(m),
        IndirectPingMessage m => builder.TryAdd(m),
        AckMessage m => builder.TryAdd(m),
        NackMessage m => builder.TryAdd(m),
        AliveMessage m => builder.TryAdd(m),
        SuspectMessage m => builder.TryAdd(m),
        DeadMessage m => builder.TryAdd(m),
        PushPullMessage m => builder.TryAdd(m),
        StateDigestMessage m => builder.TryAdd(m),
        StateDeltaMessage m => builder.TryAdd(m),
        StateChecksumMessage m => builder.TryAdd(m),
        HeartbeatsMessage m => builder.TryAdd(m),
        UserEventMessage m => builder.TryAdd(m),
        EventDigestMessage m => builder.TryAdd(m),
        QueryMessage m => builder.TryAdd(m),
        QueryResponseMessage m => builder.TryAdd(m),
        AggregateMessage m => builder.TryAdd(m),
        CoordinateMessage m => builder.TryAdd(m),
        ViewChecksumMessage m => builder.TryAdd(m),
        _ => throw new ArgumentException(message.GetType().Name),
    };
}
