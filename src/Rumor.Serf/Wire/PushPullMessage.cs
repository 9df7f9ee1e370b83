using MessagePack;

namespace Rumor.Serf.Wire;

/// <summary>How a stream parse ended: complete, needs more bytes, or malformed.</summary>
public enum ParseStatus
{
    Complete,
    Truncated,
    Malformed,
}

/// <summary>
/// memberlist's push/pull (serf-wire.md 3.10): <c>[6]{Join, Nodes, UserStateLen}</c>, then Nodes
/// node-state maps, then UserStateLen raw bytes of the delegate's (Serf's) state. Streams have no
/// length prefix, so the decoder reports whether it needs more bytes.
/// </summary>
public sealed record PushPullMessage(bool Join, IReadOnlyList<NodeRecord> Nodes, byte[] UserState)
{
    /// <summary>Most node states accepted in one push/pull.</summary>
    public const int MaxNodes = 65536;

    /// <summary>Largest user state accepted (Serf's, with the 512-slot event ring, is about 1 KiB plus events).</summary>
    public const int MaxUserStateBytes = 4 << 20;

    /// <summary><c>[6][header][states][user state]</c>.</summary>
    public byte[] Encode()
    {
        byte[] head = WireBuilder.Build(MemberlistType.PushPull, (ref MessagePackWriter w) =>
        {
            w.WriteMapHeader(3);
            GoMsgpack.WriteString(ref w, "Join");
            w.Write(Join);
            GoMsgpack.WriteString(ref w, "Nodes");
            w.Write(Nodes.Count);
            GoMsgpack.WriteString(ref w, "UserStateLen");
            w.Write(UserState.Length);
            foreach (NodeRecord node in Nodes)
            {
                node.Write(ref w, pushPull: true);
            }
        });
        return [.. head, .. UserState];
    }

    /// <summary>Decodes a body (after the type byte); <paramref name="consumed"/> is its length when complete.</summary>
    public static ParseStatus TryDecode(ReadOnlyMemory<byte> body, out PushPullMessage message, out int consumed)
    {
        message = new PushPullMessage(false, [], []);
        consumed = 0;
        if (!GoMsgpack.TryDecode(body, out object? headValue, out int used, out bool truncated))
        {
            return truncated ? ParseStatus.Truncated : ParseStatus.Malformed;
        }

        if (headValue is not GoMap head)
        {
            return ParseStatus.Malformed;
        }

        try
        {
            bool join = head.Bool("Join");
            long nodes = head.Int("Nodes");
            long userLength = head.Int("UserStateLen");
            if (nodes is < 0 or > MaxNodes || userLength is < 0 or > MaxUserStateBytes)
            {
                return ParseStatus.Malformed;
            }

            int offset = used;
            List<NodeRecord> records = new((int)Math.Min(nodes, 256));
            for (int i = 0; i < nodes; i++)
            {
                if (!GoMsgpack.TryDecode(body[offset..], out object? value, out int n, out truncated))
                {
                    return truncated ? ParseStatus.Truncated : ParseStatus.Malformed;
                }

                if (value is not GoMap state)
                {
                    return ParseStatus.Malformed;
                }

                records.Add(NodeRecord.From(state, pushPull: true));
                offset += n;
            }

            if (body.Length - offset < userLength)
            {
                return ParseStatus.Truncated;
            }

            message = new PushPullMessage(join, records, body.Slice(offset, (int)userLength).ToArray());
            consumed = offset + (int)userLength;
            return ParseStatus.Complete;
        }
        catch (FormatException)
        {
            return ParseStatus.Malformed;
        }
    }
}
