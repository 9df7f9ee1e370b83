using System.Buffers;
using MessagePack;

namespace Rumor.Serf.Wire;

/// <summary>Writes a message body with a <see cref="MessagePackWriter"/> in go-msgpack conventions.</summary>
public delegate void BodyWriter(ref MessagePackWriter writer);

/// <summary>Builds <c>[type byte(s)][msgpack body]</c> messages.</summary>
public static class WireBuilder
{
    /// <summary>The bytes of <paramref name="prefix"/> followed by the body <paramref name="body"/> writes.</summary>
    public static byte[] Build(ReadOnlySpan<byte> prefix, BodyWriter body)
    {
        ArrayBufferWriter<byte> output = new(128);
        output.Write(prefix);
        MessagePackWriter writer = GoMsgpack.CreateWriter(output);
        body(ref writer);
        writer.Flush();
        return output.WrittenSpan.ToArray();
    }

    /// <summary>A memberlist message: <c>[type][body]</c>.</summary>
    public static byte[] Build(MemberlistType type, BodyWriter body) => Build([(byte)type], body);

    /// <summary>A Serf message inside a memberlist user message: <c>[8][serfType][body]</c>.</summary>
    public static byte[] BuildSerf(SerfType type, BodyWriter body) => Build([(byte)MemberlistType.User, (byte)type], body);
}
