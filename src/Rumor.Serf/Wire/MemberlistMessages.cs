using MessagePack;

namespace Rumor.Serf.Wire;

// memberlist 0.2.2's message bodies (serf-wire.md 3.3). Each record writes its keys in the bytewise
// order Go emits them and reads any order through GoMap; TryDecode never throws.

/// <summary><c>ping</c>: a direct probe; the Source fields are omitted when empty (omitempty).</summary>
public sealed record PingMessage(uint SeqNo, string Node, byte[]? SourceAddr = null, ushort SourcePort = 0, string SourceNode = "")
{
    /// <summary><c>[0][map]</c>.</summary>
    public byte[] Encode() => WireBuilder.Build(MemberlistType.Ping, WriteBody);

    internal void WriteBody(ref MessagePackWriter w)
    {
        bool addr = SourceAddr is { Length: > 0 };
        bool node = SourceNode.Length > 0;
        bool port = SourcePort != 0;
        w.WriteMapHeader(2 + (addr ? 1 : 0) + (node ? 1 : 0) + (port ? 1 : 0));
        GoMsgpack.WriteString(ref w, "Node");
        GoMsgpack.WriteString(ref w, Node);
        GoMsgpack.WriteString(ref w, "SeqNo");
        w.Write(SeqNo);
        if (addr)
        {
            GoMsgpack.WriteString(ref w, "SourceAddr");
            GoMsgpack.WriteBytes(ref w, SourceAddr);
        }

        if (node)
        {
            GoMsgpack.WriteString(ref w, "SourceNode");
            GoMsgpack.WriteString(ref w, SourceNode);
        }

        if (port)
        {
            GoMsgpack.WriteString(ref w, "SourcePort");
            w.Write(SourcePort);
        }
    }

    /// <summary>Decodes a body (without the type byte).</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> body, out PingMessage message) => Wire.TryDecode(body, out message, m =>
        new PingMessage((uint)m.UInt("SeqNo", uint.MaxValue), m.String("Node"), m.Bytes("SourceAddr"), (ushort)m.UInt("SourcePort", ushort.MaxValue), m.String("SourceNode")));
}

/// <summary><c>indirectPingReq</c>: asks a helper to probe <see cref="Target"/>:<see cref="Port"/>.</summary>
public sealed record IndirectPingMessage(uint SeqNo, byte[]? Target, ushort Port, string Node, bool Nack, byte[]? SourceAddr = null, ushort SourcePort = 0, string SourceNode = "")
{
    /// <summary><c>[1][map]</c>.</summary>
    public byte[] Encode() => WireBuilder.Build(MemberlistType.IndirectPing, (ref MessagePackWriter w) =>
    {
        bool addr = SourceAddr is { Length: > 0 };
        bool node = SourceNode.Length > 0;
        bool port = SourcePort != 0;
        w.WriteMapHeader(5 + (addr ? 1 : 0) + (node ? 1 : 0) + (port ? 1 : 0));
        GoMsgpack.WriteString(ref w, "Nack");
        w.Write(Nack);
        GoMsgpack.WriteString(ref w, "Node");
        GoMsgpack.WriteString(ref w, Node);
        GoMsgpack.WriteString(ref w, "Port");
        w.Write(Port);
        GoMsgpack.WriteString(ref w, "SeqNo");
        w.Write(SeqNo);
        if (addr)
        {
            GoMsgpack.WriteString(ref w, "SourceAddr");
            GoMsgpack.WriteBytes(ref w, SourceAddr);
        }

        if (node)
        {
            GoMsgpack.WriteString(ref w, "SourceNode");
            GoMsgpack.WriteString(ref w, SourceNode);
        }

        if (port)
        {
            GoMsgpack.WriteString(ref w, "SourcePort");
            w.Write(SourcePort);
        }

        GoMsgpack.WriteString(ref w, "Target");
        GoMsgpack.WriteBytes(ref w, Target);
    });

    /// <summary>Decodes a body.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> body, out IndirectPingMessage message) => Wire.TryDecode(body, out message, m =>
        new IndirectPingMessage((uint)m.UInt("SeqNo", uint.MaxValue), m.Bytes("Target"), (ushort)m.UInt("Port", ushort.MaxValue), m.String("Node"), m.Bool("Nack"),
            m.Bytes("SourceAddr"), (ushort)m.UInt("SourcePort", ushort.MaxValue), m.String("SourceNode")));
}

/// <summary><c>ackResp</c>: answers a ping; Serf puts its Vivaldi coordinate in <see cref="Payload"/>.</summary>
public sealed record AckMessage(uint SeqNo, byte[]? Payload)
{
    /// <summary><c>[2][map]</c>.</summary>
    public byte[] Encode() => WireBuilder.Build(MemberlistType.Ack, (ref MessagePackWriter w) =>
    {
        w.WriteMapHeader(2);
        GoMsgpack.WriteString(ref w, "Payload");
        GoMsgpack.WriteBytes(ref w, Payload);
        GoMsgpack.WriteString(ref w, "SeqNo");
        w.Write(SeqNo);
    });

    /// <summary>Decodes a body.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> body, out AckMessage message) => Wire.TryDecode(body, out message, m =>
        new AckMessage((uint)m.UInt("SeqNo", uint.MaxValue), m.Bytes("Payload")));
}

/// <summary><c>nackResp</c>: an indirect helper heard nothing from the target.</summary>
public sealed record NackMessage(uint SeqNo)
{
    /// <summary><c>[11][map]</c>.</summary>
    public byte[] Encode() => WireBuilder.Build(MemberlistType.Nack, (ref MessagePackWriter w) =>
    {
        w.WriteMapHeader(1);
        GoMsgpack.WriteString(ref w, "SeqNo");
        w.Write(SeqNo);
    });

    /// <summary>Decodes a body.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> body, out NackMessage message) => Wire.TryDecode(body, out message, m =>
        new NackMessage((uint)m.UInt("SeqNo", uint.MaxValue)));
}

/// <summary><c>suspect</c> (type 3) and <c>dead</c> (type 5) share their body; dead with From == Node means left.</summary>
public sealed record AccusationMessage(uint Incarnation, string Node, string From)
{
    /// <summary><c>[3 or 5][map]</c>.</summary>
    public byte[] Encode(MemberlistType type) => WireBuilder.Build(type, (ref MessagePackWriter w) =>
    {
        w.WriteMapHeader(3);
        GoMsgpack.WriteString(ref w, "From");
        GoMsgpack.WriteString(ref w, From);
        GoMsgpack.WriteString(ref w, "Incarnation");
        w.Write(Incarnation);
        GoMsgpack.WriteString(ref w, "Node");
        GoMsgpack.WriteString(ref w, Node);
    });

    /// <summary>Decodes a body.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> body, out AccusationMessage message) => Wire.TryDecode(body, out message, m =>
        new AccusationMessage((uint)m.UInt("Incarnation", uint.MaxValue), m.String("Node"), m.String("From")));
}

/// <summary>
/// A node's record as <c>alive</c> (type 4, key <c>Node</c>) and as a push/pull node state (key
/// <c>Name</c>, plus <c>State</c>). <see cref="Vsn"/> is always 6 bytes on send: a Go node indexes
/// it blindly and panics on 1..5 bytes.
/// </summary>
public sealed record NodeRecord(string Name, byte[]? Addr, ushort Port, byte[]? Meta, uint Incarnation, byte[]? Vsn, MemberlistState State = MemberlistState.Alive)
{
    /// <summary>Serf 0.9.4 agent versions: memberlist 1..5 speaking 2, Serf 2..5 speaking 5.</summary>
    public static readonly byte[] SerfAgentVsn = [1, 5, 2, 2, 5, 5];

    /// <summary><c>[4][alive map]</c>.</summary>
    public byte[] EncodeAlive() => WireBuilder.Build(MemberlistType.Alive, (ref MessagePackWriter w) => Write(ref w, pushPull: false));

    internal void Write(ref MessagePackWriter w, bool pushPull)
    {
        w.WriteMapHeader(pushPull ? 7 : 6);
        GoMsgpack.WriteString(ref w, "Addr");
        GoMsgpack.WriteBytes(ref w, Addr);
        GoMsgpack.WriteString(ref w, "Incarnation");
        w.Write(Incarnation);
        GoMsgpack.WriteString(ref w, "Meta");
        GoMsgpack.WriteBytes(ref w, Meta);
        GoMsgpack.WriteString(ref w, pushPull ? "Name" : "Node");
        GoMsgpack.WriteString(ref w, Name);
        GoMsgpack.WriteString(ref w, "Port");
        w.Write(Port);
        if (pushPull)
        {
            GoMsgpack.WriteString(ref w, "State");
            w.Write((int)State);
        }

        GoMsgpack.WriteString(ref w, "Vsn");
        GoMsgpack.WriteBytes(ref w, Vsn);
    }

    /// <summary>Decodes an alive body.</summary>
    public static bool TryDecodeAlive(ReadOnlyMemory<byte> body, out NodeRecord message) => Wire.TryDecode(body, out message, m => From(m, pushPull: false));

    internal static NodeRecord From(GoMap m, bool pushPull)
    {
        long state = pushPull ? m.Int("State") : 0;
        if (state is < 0 or > 3)
        {
            throw new FormatException("State: unknown");
        }

        return new NodeRecord(m.String(pushPull ? "Name" : "Node"), m.Bytes("Addr"), (ushort)m.UInt("Port", ushort.MaxValue), m.Bytes("Meta"),
            (uint)m.UInt("Incarnation", uint.MaxValue), m.Bytes("Vsn"), (MemberlistState)state);
    }
}

/// <summary><c>compress</c>: <c>{Algo: 0 (LZW), Buf}</c> wrapping a whole message.</summary>
public sealed record CompressMessage(byte Algo, byte[] Buf)
{
    /// <summary><c>[9][map]</c>.</summary>
    public byte[] Encode() => WireBuilder.Build(MemberlistType.Compress, (ref MessagePackWriter w) =>
    {
        w.WriteMapHeader(2);
        GoMsgpack.WriteString(ref w, "Algo");
        w.Write(Algo);
        GoMsgpack.WriteString(ref w, "Buf");
        GoMsgpack.WriteBytes(ref w, Buf);
    });

    /// <summary>Decodes a body; also reports how many bytes the map took (streams carry no length).</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> body, out CompressMessage message, out int consumed)
    {
        message = new CompressMessage(0, []);
        if (!GoMsgpack.TryDecodeMap(body, out GoMap m, out consumed))
        {
            return false;
        }

        try
        {
            message = new CompressMessage((byte)m.UInt("Algo", byte.MaxValue), m.Bytes("Buf") ?? []);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary><c>errResp</c>: a stream reply saying why a request failed.</summary>
public sealed record ErrorMessage(string Error)
{
    /// <summary><c>[13][map]</c>.</summary>
    public byte[] Encode() => WireBuilder.Build(MemberlistType.Err, (ref MessagePackWriter w) =>
    {
        w.WriteMapHeader(1);
        GoMsgpack.WriteString(ref w, "Error");
        GoMsgpack.WriteString(ref w, Error);
    });

    /// <summary>Decodes a body.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> body, out ErrorMessage message) => Wire.TryDecode(body, out message, m => new ErrorMessage(m.String("Error")));
}

/// <summary>Shared decode step: one map, then the record built from it; false on any malformation.</summary>
internal static class Wire
{
    public static bool TryDecode<T>(ReadOnlyMemory<byte> body, out T message, Func<GoMap, T> build)
        where T : class
    {
        message = null!;
        if (!GoMsgpack.TryDecodeMap(body, out GoMap map, out _))
        {
            return false;
        }

        try
        {
            message = build(map);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
