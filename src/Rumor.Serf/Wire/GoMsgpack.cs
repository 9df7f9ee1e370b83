using System.Buffers;
using System.Text;
using MessagePack;

namespace Rumor.Serf.Wire;

/// <summary>
/// msgpack as hashicorp/go-msgpack 0.5.5 writes and reads it (serf-wire.md 3.2), on top of the
/// MessagePack library's low-level <see cref="MessagePackReader"/> and <see cref="MessagePackWriter"/>.
/// Writing: structs are maps keyed by Go field names in bytewise order (callers emit them sorted),
/// strings and byte slices both use the old "raw" str family (the writer's <c>OldSpec</c> mode: no
/// str8, no bin), integers minimal by value, nil for absent slices. Reading: a body is decoded into a
/// small tree (<see cref="GoMap"/>) with a depth bound and with every length checked against the
/// bytes that remain, so hostile input is an error, never a crash or a huge allocation; str and bin
/// are both read as bytes, any integer width is accepted, unknown keys are ignored by the callers.
/// The library's own serializer is not used: it cannot express Go's field-name maps with
/// str-encoded byte slices without custom formatters for every type, and its recursive skip has no
/// depth bound.
/// </summary>
public static class GoMsgpack
{
    /// <summary>Deepest nesting accepted in a body (Serf's deepest, the push/pull event ring, is 4).</summary>
    public const int MaxDepth = 16;

    /// <summary>A writer in go-msgpack's conventions over <paramref name="output"/>; call Flush when done.</summary>
    public static MessagePackWriter CreateWriter(IBufferWriter<byte> output) => new(output) { OldSpec = true };

    /// <summary>Writes a Go string or byte slice: nil as msgpack nil, else a raw (str-family) header and the bytes.</summary>
    public static void WriteRaw(ref MessagePackWriter writer, ReadOnlySpan<byte> bytes, bool isNil = false)
    {
        if (isNil)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteStringHeader(bytes.Length);
        writer.WriteRaw(bytes);
    }

    /// <summary>Writes a Go string as raw bytes (UTF-8).</summary>
    public static void WriteString(ref MessagePackWriter writer, string value) => WriteRaw(ref writer, Encoding.UTF8.GetBytes(value));

    /// <summary>Writes a Go <c>[]byte</c> that may be nil.</summary>
    public static void WriteBytes(ref MessagePackWriter writer, byte[]? value) => WriteRaw(ref writer, value, value is null);

    /// <summary>
    /// Decodes one msgpack object from the start of <paramref name="input"/>. Returns false on malformed
    /// or truncated input (<paramref name="truncated"/> then says whether more bytes could complete it);
    /// never throws.
    /// </summary>
    public static bool TryDecode(ReadOnlyMemory<byte> input, out object? value, out int consumed, out bool truncated)
    {
        value = null;
        consumed = 0;
        truncated = false;
        try
        {
            MessagePackReader reader = new(input);
            value = ReadValue(ref reader, 0);
            consumed = checked((int)reader.Consumed);
            return true;
        }
        catch (EndOfStreamException)
        {
            truncated = true;
            return false;
        }
        catch (Exception e) when (e is MessagePackSerializationException or OverflowException or InvalidOperationException or FormatException or ArgumentException or DecoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>Decodes one msgpack map from the start of <paramref name="input"/>; false unless it is a well-formed map.</summary>
    public static bool TryDecodeMap(ReadOnlyMemory<byte> input, out GoMap map, out int consumed)
    {
        map = GoMap.Empty;
        if (!TryDecode(input, out object? value, out consumed, out _) || value is not GoMap m)
        {
            return false;
        }

        map = m;
        return true;
    }

    private static object? ReadValue(ref MessagePackReader reader, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new MessagePackSerializationException("msgpack nesting too deep");
        }

        long remaining = reader.Sequence.Length - reader.Consumed;
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Nil:
                reader.ReadNil();
                return null;
            case MessagePackType.Boolean:
                return reader.ReadBoolean();
            case MessagePackType.Integer:
                byte code = reader.NextCode;
                if (code == MessagePackCode.UInt64)
                {
                    ulong big = reader.ReadUInt64();
                    return big <= long.MaxValue ? (long)big : big;
                }

                return reader.ReadInt64();
            case MessagePackType.Float:
                return reader.ReadDouble();
            case MessagePackType.String:
                ReadOnlySequence<byte>? text = reader.ReadStringSequence();
                return text is { } t ? t.ToArray() : null;
            case MessagePackType.Binary:
                ReadOnlySequence<byte>? bin = reader.ReadBytes();
                return bin is { } b ? b.ToArray() : null;
            case MessagePackType.Array:
                int count = reader.ReadArrayHeader();
                if (count > remaining)
                {
                    throw new EndOfStreamException();
                }

                List<object?> list = new(Math.Min(count, 1024));
                for (int i = 0; i < count; i++)
                {
                    list.Add(ReadValue(ref reader, depth + 1));
                }

                return list;
            case MessagePackType.Map:
                int pairs = reader.ReadMapHeader();
                if (pairs > remaining / 2)
                {
                    throw new EndOfStreamException();
                }

                Dictionary<string, object?> map = new(Math.Min(pairs, 1024), StringComparer.Ordinal);
                for (int i = 0; i < pairs; i++)
                {
                    object? key = ReadValue(ref reader, depth + 1);
                    object? item = ReadValue(ref reader, depth + 1);
                    if (key is byte[] keyBytes)
                    {
                        map[Encoding.UTF8.GetString(keyBytes)] = item;
                    }
                }

                return new GoMap(map);
            case MessagePackType.Extension:
                reader.Skip();
                return null;
            default:
                throw new MessagePackSerializationException("unknown msgpack code");
        }
    }
}

/// <summary>
/// A decoded msgpack map with go-msgpack's reading rules: a missing key reads as the zero value, a
/// value of the wrong kind or out of range makes the whole message malformed (<see cref="FormatException"/>
/// caught by the message's TryDecode).
/// </summary>
public sealed class GoMap(Dictionary<string, object?> values)
{
    /// <summary>The empty map.</summary>
    public static readonly GoMap Empty = new(new Dictionary<string, object?>(StringComparer.Ordinal));

    /// <summary>The raw entries.</summary>
    public IReadOnlyDictionary<string, object?> Values => values;

    /// <summary>True when the key is present.</summary>
    public bool Has(string key) => values.ContainsKey(key);

    /// <summary>An unsigned integer field (also accepts a bool as 0/1, as go-msgpack does).</summary>
    public ulong UInt(string key, ulong max = ulong.MaxValue)
    {
        if (!values.TryGetValue(key, out object? v) || v is null)
        {
            return 0;
        }

        ulong result = v switch
        {
            long l when l >= 0 => (ulong)l,
            ulong u => u,
            bool b => b ? 1UL : 0UL,
            _ => throw new FormatException($"{key}: not an unsigned integer"),
        };
        return result <= max ? result : throw new FormatException($"{key}: out of range");
    }

    /// <summary>A signed integer field.</summary>
    public long Int(string key)
    {
        if (!values.TryGetValue(key, out object? v) || v is null)
        {
            return 0;
        }

        return v switch
        {
            long l => l,
            bool b => b ? 1 : 0,
            _ => throw new FormatException($"{key}: not a signed integer"),
        };
    }

    /// <summary>A bool field (also accepts 0/1).</summary>
    public bool Bool(string key) => values.TryGetValue(key, out object? v) && v switch
    {
        null => false,
        bool b => b,
        long l when l is 0 or 1 => l == 1,
        _ => throw new FormatException($"{key}: not a bool"),
    };

    /// <summary>A float64 field.</summary>
    public double Float(string key) => !values.TryGetValue(key, out object? v) || v is null ? 0 : v switch
    {
        double d => d,
        long l => l,
        _ => throw new FormatException($"{key}: not a float"),
    };

    /// <summary>A <c>[]byte</c> field: nil when absent or nil.</summary>
    public byte[]? Bytes(string key) => !values.TryGetValue(key, out object? v) || v is null ? null
        : v as byte[] ?? throw new FormatException($"{key}: not bytes");

    /// <summary>A string field: empty when absent.</summary>
    public string String(string key) => Bytes(key) is { } b ? Encoding.UTF8.GetString(b) : "";

    /// <summary>An array field: empty when absent or nil.</summary>
    public IReadOnlyList<object?> List(string key) => !values.TryGetValue(key, out object? v) || v is null ? []
        : v as List<object?> ?? throw new FormatException($"{key}: not an array");

    /// <summary>A nested map field: empty when absent or nil.</summary>
    public GoMap Map(string key) => !values.TryGetValue(key, out object? v) || v is null ? Empty
        : v as GoMap ?? throw new FormatException($"{key}: not a map");
}
