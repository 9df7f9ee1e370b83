using System.Text;
using System.Text.Unicode;
using Rumor.Core.Aggregates;

namespace Rumor.Core.Wire.Messages;

/// <summary>Flags of an <see cref="AggregateMessage"/>.</summary>
[Flags]
public enum AggregateFlags : byte
{
    /// <summary>A push: the receiver absorbs the flow and answers with a reply that acknowledges it.</summary>
    None = 0,

    /// <summary>An answer to a push: it carries the acknowledgement and is itself never answered.</summary>
    Reply = 0x01,

    /// <summary>The aggregate has a lifetime: the payload ends with the remaining lifetime (u32 ms) and the function (u8).</summary>
    Lifetime = 0x02,

    /// <summary>The aggregate has ended (stopped or expired) in epochs up to <see cref="AggregateMessage.Epoch"/> + 1: the receiver ends it too; the flow is not absorbed.</summary>
    Ended = 0x04,
}

/// <summary>
/// One push-sum / extremum gossip share of the aggregate named by <see cref="Key"/>, in the epoch
/// (<see cref="Epoch"/>, <see cref="Initiator"/>). <see cref="Flow"/> is the sender's cumulative
/// flow to the receiver in this epoch (everything it ever sent it, not the increment), numbered by
/// <see cref="Sequence"/>, so a lost or duplicated datagram is repaired or ignored by the next one;
/// <see cref="Ack"/> is the highest sequence the sender has absorbed from the receiver.
/// <see cref="Min"/> and <see cref="Max"/> are the sender's extremes (±∞: none known);
/// <see cref="Average"/>, <see cref="Count"/> and <see cref="HolderCount"/> its current estimates
/// (NaN: none yet; in a reply, the estimates from before the push it answers was absorbed), from
/// which receivers derive their error bound.
/// <para>
/// Payload: flags u8 · key (u16 length, UTF-8) · epoch u32 · initiator (name) · sequence u32 ·
/// ack u32 · flow value f64 · flow holders f64 · flow nodes f64 · flow weight f64 · min f64 ·
/// max f64 · average f64 · count f64 · holder count f64 (f64: IEEE 754 binary64 bits, little-endian);
/// with the Lifetime flag also remaining lifetime u32 (ms) · function u8.
/// </para>
/// </summary>
public readonly record struct AggregateMessage(
    AggregateFlags Flags,
    string Key,
    uint Epoch,
    string Initiator,
    uint Sequence,
    uint Ack,
    PushSumState Flow,
    double Min,
    double Max,
    double Average,
    double Count,
    double HolderCount,
    uint LifetimeMs = 0,
    AggregateFunction Function = AggregateFunction.Average) : IWireMessage<AggregateMessage>
{
    /// <summary>Bytes of the payload besides the key and the initiator name.</summary>
    public const int FixedBytes = 1 + 2 + 4 + 1 + 4 + 4 + (9 * 8);

    /// <inheritdoc />
    public static MessageType Type => MessageType.Aggregate;

    /// <summary>True for a reply.</summary>
    public bool IsReply => (Flags & AggregateFlags.Reply) != 0;

    /// <summary>True when the aggregate has ended at the sender.</summary>
    public bool IsEnded => (Flags & AggregateFlags.Ended) != 0;

    /// <summary>True when <see cref="LifetimeMs"/> and <see cref="Function"/> are carried.</summary>
    public bool HasLifetime => (Flags & AggregateFlags.Lifetime) != 0;

    /// <summary>The largest function byte this version knows.</summary>
    private const byte FunctionMax = (byte)AggregateFunction.Max;

    /// <summary>Bytes of the lifetime extension.</summary>
    private const int LifetimeBytes = 4 + 1;

    /// <inheritdoc />
    public int PayloadLength => FixedBytes + (HasLifetime ? LifetimeBytes : 0) + Encoding.UTF8.GetByteCount(Key) + Encoding.UTF8.GetByteCount(Initiator);

    /// <inheritdoc />
    public void WritePayload(ref WireWriter writer)
    {
        writer.WriteByte((byte)Flags);
        writer.WriteString16(Key);
        writer.WriteUInt32(Epoch);
        writer.WriteName(Initiator);
        writer.WriteUInt32(Sequence);
        writer.WriteUInt32(Ack);
        WriteDouble(ref writer, Flow.Value);
        WriteDouble(ref writer, Flow.Holders);
        WriteDouble(ref writer, Flow.Nodes);
        WriteDouble(ref writer, Flow.Weight);
        WriteDouble(ref writer, Min);
        WriteDouble(ref writer, Max);
        WriteDouble(ref writer, Average);
        WriteDouble(ref writer, Count);
        WriteDouble(ref writer, HolderCount);
        if (HasLifetime)
        {
            writer.WriteUInt32(LifetimeMs);
            writer.WriteByte((byte)Function);
        }
    }

    /// <inheritdoc />
    public static DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out AggregateMessage message)
    {
        message = default;
        WireReader reader = new(payload);
        if (!reader.TryReadByte(out byte flags))
        {
            return DecodeError.Truncated;
        }

        if ((flags & ~(byte)(AggregateFlags.Reply | AggregateFlags.Lifetime | AggregateFlags.Ended)) != 0)
        {
            return DecodeError.Malformed;
        }

        if (!reader.TryReadUInt16(out ushort keyLength) || !reader.TryReadRaw(keyLength, out ReadOnlySpan<byte> keyUtf8))
        {
            return DecodeError.Truncated;
        }

        if (keyLength == 0 || !Utf8.IsValid(keyUtf8))
        {
            return DecodeError.Malformed;
        }

        if (!reader.TryReadUInt32(out uint epoch))
        {
            return DecodeError.Truncated;
        }

        DecodeError error = reader.TryReadName(names, allowEmpty: false, out string initiator);
        if (error != DecodeError.None)
        {
            return error;
        }

        if (!reader.TryReadUInt32(out uint sequence) || !reader.TryReadUInt32(out uint ack))
        {
            return DecodeError.Truncated;
        }

        Span<double> numbers = stackalloc double[9];
        for (int i = 0; i < numbers.Length; i++)
        {
            if (!reader.TryReadUInt64(out ulong bits))
            {
                return DecodeError.Truncated;
            }

            numbers[i] = BitConverter.UInt64BitsToDouble(bits);
        }

        PushSumState flow = new(numbers[0], numbers[1], numbers[2], numbers[3]);

        // Flows are sums of halves of finite masses; the node counts and the weight never go below
        // zero. Extremes are numbers or ±∞ (none known); estimates are numbers or NaN (none yet).
        if (!flow.IsFinite || flow.Holders < 0 || flow.Nodes < 0 || flow.Weight < 0 ||
            double.IsNaN(numbers[4]) || double.IsNaN(numbers[5]) ||
            double.IsInfinity(numbers[6]) || double.IsInfinity(numbers[7]) || double.IsInfinity(numbers[8]))
        {
            return DecodeError.Malformed;
        }

        uint lifetimeMs = 0;
        byte function = 0;
        if ((flags & (byte)AggregateFlags.Lifetime) != 0)
        {
            if (!reader.TryReadUInt32(out lifetimeMs) || !reader.TryReadByte(out function))
            {
                return DecodeError.Truncated;
            }

            if (function > FunctionMax)
            {
                return DecodeError.Malformed;
            }
        }

        if (reader.Remaining != 0)
        {
            return DecodeError.TrailingBytes;
        }

        string key = Encoding.UTF8.GetString(keyUtf8);
        message = new AggregateMessage((AggregateFlags)flags, key, epoch, initiator, sequence, ack, flow, numbers[4], numbers[5], numbers[6], numbers[7], numbers[8],
            lifetimeMs, (AggregateFunction)function);
        return DecodeError.None;
    }

    private static void WriteDouble(ref WireWriter writer, double value) => writer.WriteUInt64(BitConverter.DoubleToUInt64Bits(value));
}
