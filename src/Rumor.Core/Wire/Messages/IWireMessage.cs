namespace Rumor.Core.Wire.Messages;

/// <summary>
/// A message of wire format v1. Every message knows its exact encoded payload length before it is
/// written, so builders can check the byte budget without encoding twice. Implemented by structs and
/// used through generic constraints, so encoding never boxes.
/// </summary>
public interface IWireMessage<TSelf> where TSelf : struct, IWireMessage<TSelf>
{
    /// <summary>The message type id.</summary>
    static abstract MessageType Type { get; }

    /// <summary>The exact number of payload bytes <see cref="WritePayload"/> writes (the type byte excluded).</summary>
    int PayloadLength { get; }

    /// <summary>Writes the payload.</summary>
    void WritePayload(ref WireWriter writer);

    /// <summary>Decodes a payload; the whole span must be consumed.</summary>
    static abstract DecodeError TryDecode(ReadOnlySpan<byte> payload, NameTable? names, out TSelf message);
}
