using MessagePack;

namespace Rumor.Serf.Wire;

/// <summary>
/// The payload of Serf's key queries (<c>_serf_install-key</c>, <c>_serf_use-key</c>,
/// <c>_serf_remove-key</c>): <c>[7]{Key: bytes}</c> (serf-wire.md 4.6). <c>_serf_list-keys</c> has an empty payload.
/// </summary>
public sealed record KeyRequestMessage(byte[]? Key)
{
    /// <summary><c>[7]{Key}</c>.</summary>
    public byte[] Encode() => WireBuilder.Build([(byte)SerfType.KeyRequest], (ref MessagePackWriter w) =>
    {
        w.WriteMapHeader(1);
        GoMsgpack.WriteString(ref w, "Key");
        GoMsgpack.WriteBytes(ref w, Key);
    });

    /// <summary>Decodes a query payload (with its type byte).</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> payload, out KeyRequestMessage message)
    {
        message = new KeyRequestMessage((byte[]?)null);
        if (payload.Length < 1 || payload.Span[0] != (byte)SerfType.KeyRequest)
        {
            return false;
        }

        return Wire.TryDecode(payload[1..], out message, m => new KeyRequestMessage(m.Bytes("Key")));
    }
}

/// <summary>
/// A member's answer to a key query, <c>[8]{Keys: [string], Message, PrimaryKey, Result}</c>
/// (Serf's <c>nodeKeyResponse</c>; keys are base64 text).
/// </summary>
public sealed record KeyResponseMessage(bool Result, string Message, IReadOnlyList<string> Keys, string PrimaryKey)
{
    /// <summary><c>[8]{Keys, Message, PrimaryKey, Result}</c>, keys sorted as Go emits them.</summary>
    public byte[] Encode() => WireBuilder.Build([(byte)SerfType.KeyResponse], (ref MessagePackWriter w) =>
    {
        w.WriteMapHeader(4);
        GoMsgpack.WriteString(ref w, "Keys");
        if (Keys.Count == 0)
        {
            w.WriteNil();
        }
        else
        {
            w.WriteArrayHeader(Keys.Count);
            foreach (string key in Keys)
            {
                GoMsgpack.WriteString(ref w, key);
            }
        }

        GoMsgpack.WriteString(ref w, "Message");
        GoMsgpack.WriteString(ref w, Message);
        GoMsgpack.WriteString(ref w, "PrimaryKey");
        GoMsgpack.WriteString(ref w, PrimaryKey);
        GoMsgpack.WriteString(ref w, "Result");
        w.Write(Result);
    });

    /// <summary>Decodes a response payload (with its type byte).</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> payload, out KeyResponseMessage message)
    {
        message = new KeyResponseMessage(false, "", [], "");
        if (payload.Length < 1 || payload.Span[0] != (byte)SerfType.KeyResponse)
        {
            return false;
        }

        return Wire.TryDecode(payload[1..], out message, m => new KeyResponseMessage(m.Bool("Result"), m.String("Message"),
            [.. m.List("Keys").Select(k => k is byte[] b ? System.Text.Encoding.UTF8.GetString(b) : throw new FormatException("Keys: not strings"))], m.String("PrimaryKey")));
    }
}
