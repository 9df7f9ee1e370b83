using System.Net;
using System.Net.Sockets;
using Rumor.Core;

namespace Rumor.Transport;

/// <summary>
/// Converts between the node's <see cref="NodeAddress"/> and the socket layer's
/// <see cref="SocketAddress"/> without allocating for a peer seen before, so the datagram hot path
/// allocates nothing per packet (issue 16): <see cref="Socket.ReceiveFrom(Span{byte}, SocketFlags, SocketAddress)"/>
/// fills one reused <see cref="SocketAddress"/>, which is looked up by value here, and
/// <see cref="Socket.SendTo(ReadOnlySpan{byte}, SocketFlags, SocketAddress)"/> takes the cached
/// serialized form of the destination (going through <see cref="EndPoint"/> instead costs an
/// <see cref="IPEndPoint"/>, an <see cref="IPAddress"/> and a serialized address per packet). The
/// platform's address layout stays .NET's business: a new peer is converted once through
/// <see cref="IPEndPoint"/>. Bounded: past <see cref="EntriesMax"/> peers (a flood of spoofed
/// sources) the table starts over, which costs allocations again but never memory without limit.
/// Not thread-safe: one instance per thread (the receive thread's, the loop's).
/// </summary>
internal sealed class PeerAddresses(AddressFamily socketFamily, bool dualMode)
{
    /// <summary>Peers remembered at once, each way.</summary>
    public const int EntriesMax = 4096;

    private readonly Dictionary<SocketAddress, NodeAddress> _received = [];
    private readonly Dictionary<NodeAddress, SocketAddress> _destinations = [];
    private readonly IPEndPoint _template = socketFamily == AddressFamily.InterNetworkV6
        ? new IPEndPoint(IPAddress.IPv6Any, 0)
        : new IPEndPoint(IPAddress.Any, 0);

    /// <summary>An empty address of the socket's family, for receiving into (reused for every datagram).</summary>
    public SocketAddress CreateReceiveBuffer() => new(socketFamily);

    /// <summary>The node address of a datagram's source, as <see cref="Socket.ReceiveFrom(Span{byte}, SocketFlags, SocketAddress)"/> left it in <paramref name="received"/>. IPv4-mapped IPv6 sources become IPv4.</summary>
    public NodeAddress FromReceived(SocketAddress received)
    {
        if (_received.TryGetValue(received, out NodeAddress known))
        {
            return known;
        }

        NodeAddress address = NodeAddress.From((IPEndPoint)_template.Create(received));
        if (_received.Count >= EntriesMax)
        {
            _received.Clear();
        }

        // The key must be a copy: the caller keeps receiving into the same instance.
        SocketAddress key = new(received.Family, received.Size);
        received.Buffer.Span.CopyTo(key.Buffer.Span);
        _received[key] = address;
        return address;
    }

    /// <summary>
    /// The serialized destination for <paramref name="to"/>; null when this socket cannot reach it
    /// (an IPv6 peer from an IPv4 socket, or an IPv4 peer from an IPv6 socket that is not dual-mode).
    /// A dual-mode IPv6 socket reaches an IPv4 peer at its IPv4-mapped IPv6 address.
    /// </summary>
    public SocketAddress? Destination(NodeAddress to)
    {
        if (_destinations.TryGetValue(to, out SocketAddress? known))
        {
            return known;
        }

        bool socketIsIPv6 = socketFamily == AddressFamily.InterNetworkV6;
        if (to.IsIPv6 != socketIsIPv6 && !(socketIsIPv6 && dualMode))
        {
            return null;
        }

        IPAddress ip = to.ToIPAddress();
        SocketAddress serialized = new IPEndPoint(socketIsIPv6 ? ip.MapToIPv6() : ip, to.Port).Serialize();
        if (_destinations.Count >= EntriesMax)
        {
            _destinations.Clear();
        }

        _destinations[to] = serialized;
        return serialized;
    }
}
