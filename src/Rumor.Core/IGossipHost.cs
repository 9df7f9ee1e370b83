namespace Rumor.Core;

/// <summary>
/// What a <see cref="GossipNode"/> asks its shell to do. The simulator implements it with a virtual
/// network; the transport with UDP and TCP sockets. Calls come synchronously from inside the node's
/// input methods; spans are valid only during the call (copy what you keep).
/// </summary>
public interface IGossipHost
{
    /// <summary>Send one datagram (already within the packet budget).</summary>
    void SendPacket(NodeAddress to, ReadOnlySpan<byte> packet);

    /// <summary>
    /// Open a stream to <paramref name="to"/>, send <paramref name="request"/>, and deliver the one
    /// reply through <see cref="GossipNode.OnStreamResponse"/> or a failure through
    /// <see cref="GossipNode.OnStreamFailed"/>. The node enforces its own deadline too.
    /// </summary>
    void OpenStream(long streamId, NodeAddress to, ReadOnlySpan<byte> request);

    /// <summary>Answer an incoming stream (see <see cref="GossipNode.OnStreamRequest"/>), then close it.</summary>
    void ReplyStream(long streamId, ReadOnlySpan<byte> response);

    /// <summary>Something happened that the application may care about.</summary>
    void OnEvent(GossipEvent gossipEvent);
}
