using System.Buffers.Binary;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Support;

/// <summary>Builds and re-seals packets by hand, so malformed bodies can reach the checks behind the CRC.</summary>
internal static class Packets
{
    /// <summary>version 1 · type · flags 0 · body · CRC32C (computed with the reference implementation).</summary>
    public static byte[] Seal(byte type, ReadOnlySpan<byte> body, byte version = WireLimits.FormatVersion, byte flags = 0)
    {
        byte[] packet = new byte[3 + body.Length + 4];
        packet[0] = version;
        packet[1] = type;
        packet[2] = flags;
        body.CopyTo(packet.AsSpan(3));
        Reseal(packet);
        return packet;
    }

    public static byte[] Seal(MessageType type, ReadOnlySpan<byte> body) => Seal((byte)type, body);

    /// <summary>Rewrites the trailer so that it matches the (possibly corrupted) bytes before it.</summary>
    public static void Reseal(byte[] packet)
    {
        int end = packet.Length - 4;
        BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(end), ReferenceCrc32C.Compute(packet.AsSpan(0, end)));
    }

    /// <summary>The payload of a message (no type byte).</summary>
    public static byte[] Payload<T>(in T message) where T : struct, IWireMessage<T> => PacketBuilder.EncodeMessage(message)[1..];

    /// <summary>The payload of a boxed message (no type byte).</summary>
    public static byte[] Payload(object message) => MessageOps.EncodeMessage(message)[1..];

    /// <summary>A compound body: count · (length u16 · type · payload)*, from raw entries (type + payload each).</summary>
    public static byte[] CompoundBody(params byte[][] entries)
    {
        List<byte> body = [(byte)entries.Length];
        foreach (byte[] entry in entries)
        {
            body.Add((byte)entry.Length);
            body.Add((byte)(entry.Length >> 8));
            body.AddRange(entry);
        }

        return [.. body];
    }

    /// <summary>Decodes a payload with the decoder of <paramref name="type"/>; the message is returned boxed for comparisons.</summary>
    public static DecodeError DecodeAny(MessageType type, ReadOnlySpan<byte> payload, NameTable? names, out object? message)
    {
        DecodeError error;
        switch (type)
        {
            case MessageType.Ping:
                error = PingMessage.TryDecode(payload, names, out PingMessage ping);
                message = ping;
                break;
            case MessageType.IndirectPing:
                error = IndirectPingMessage.TryDecode(payload, names, out IndirectPingMessage indirect);
                message = indirect;
                break;
            case MessageType.Ack:
                error = AckMessage.TryDecode(payload, names, out AckMessage ack);
                message = ack;
                break;
            case MessageType.Nack:
                error = NackMessage.TryDecode(payload, names, out NackMessage nack);
                message = nack;
                break;
            case MessageType.Alive:
                error = AliveMessage.TryDecode(payload, names, out AliveMessage alive);
                message = alive;
                break;
            case MessageType.Suspect:
                error = SuspectMessage.TryDecode(payload, names, out SuspectMessage suspect);
                message = suspect;
                break;
            case MessageType.Dead:
                error = DeadMessage.TryDecode(payload, names, out DeadMessage dead);
                message = dead;
                break;
            case MessageType.PushPull:
                error = PushPullMessage.TryDecode(payload, names, out PushPullMessage pushPull);
                message = pushPull;
                break;
            case MessageType.StateDigest:
                error = StateDigestMessage.TryDecode(payload, names, out StateDigestMessage stateDigestMessage);
                message = stateDigestMessage;
                break;
            case MessageType.StateDelta:
                error = StateDeltaMessage.TryDecode(payload, names, out StateDeltaMessage stateDeltaMessage);
                message = stateDeltaMessage;
                break;
            case MessageType.StateChecksum:
                error = StateChecksumMessage.TryDecode(payload, names, out StateChecksumMessage stateChecksumMessage);
                message = stateChecksumMessage;
                break;
            case MessageType.Heartbeats:
                error = HeartbeatsMessage.TryDecode(payload, names, out HeartbeatsMessage heartbeatsMessage);
                message = heartbeatsMessage;
                break;
            case MessageType.UserEvent:
                error = UserEventMessage.TryDecode(payload, names, out UserEventMessage userEventMessage);
                message = userEventMessage;
                break;
            case MessageType.EventDigest:
                error = EventDigestMessage.TryDecode(payload, names, out EventDigestMessage eventDigestMessage);
                message = eventDigestMessage;
                break;
            case MessageType.Query:
                error = QueryMessage.TryDecode(payload, names, out QueryMessage queryMessage);
                message = queryMessage;
                break;
            case MessageType.QueryResponse:
                error = QueryResponseMessage.TryDecode(payload, names, out QueryResponseMessage queryResponseMessage);
                message = queryResponseMessage;
                break;
            case MessageType.Aggregate:
                error = AggregateMessage.TryDecode(payload, names, out AggregateMessage aggregateMessage);
                message = aggregateMessage;
                break;
            case MessageType.Coordinate:
                error = CoordinateMessage.TryDecode(payload, names, out CoordinateMessage coordinateMessage);
                message = coordinateMessage;
                break;
            case MessageType.ViewChecksum:
                error = ViewChecksumMessage.TryDecode(payload, names, out ViewChecksumMessage viewChecksumMessage);
                message = viewChecksumMessage;
                break;
            default:
                message = null;
                return DecodeError.UnknownType;
        }

        return error;
    }

    /// <summary>Opens, walks and decodes every message of a packet; the first error wins. Never throws by contract.</summary>
    public static DecodeError DecodeAll(ReadOnlySpan<byte> packet, int budget, NameTable? names, List<object?> messages)
    {
        DecodeError error = PacketReader.TryOpen(packet, budget, out PacketReader reader);
        if (error != DecodeError.None)
        {
            return error;
        }

        while (reader.TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out bool known))
        {
            if (!known)
            {
                messages.Add(null);
                continue;
            }

            error = DecodeAny(type, payload, names, out object? message);
            if (error != DecodeError.None)
            {
                return error;
            }

            messages.Add(message);
        }

        return DecodeError.None;
    }
}
