using Rumor.Core;

namespace Rumor.Transport;

/// <summary>
/// The node's view of the transport. A private adapter rather than an interface the transport
/// implements publicly, so that application code cannot call these (they are only valid on the
/// loop thread, during the node's own calls).
/// </summary>
public sealed partial class GossipTransport
{
    private sealed class NodeHost(GossipTransport transport) : IGossipHost
    {
        public void SendPacket(NodeAddress to, ReadOnlySpan<byte> packet) => transport.SendDatagram(to, packet);

        public void OpenStream(long streamId, NodeAddress to, ReadOnlySpan<byte> request) => transport.OpenStream(streamId, to, request);

        public void ReplyStream(long streamId, ReadOnlySpan<byte> response) => transport.ReplyStream(streamId, response);

        public void OnEvent(GossipEvent gossipEvent)
        {
            // Synchronous, on the loop, before the node sends anything carrying the new incarnation.
            if (gossipEvent is LocalIncarnationChanged changed)
            {
                transport.PersistIncarnation(changed.Incarnation);
            }
            else if (gossipEvent is KeyringChanged)
            {
                transport.PersistKeyring();
            }

            transport.PublishEvent(gossipEvent);
        }
    }
}
