using System.Net;
using System.Net.Sockets;
using Rumor.Core;

namespace Rumor.Transport;

/// <summary>
/// Binds the UDP socket and the TCP listener on one address and port, as memberlist does: members
/// know one address per peer and reach both datagrams and streams there. For port 0 the TCP
/// listener takes a free port first and UDP follows on the same number; if UDP finds it taken
/// (another process's datagram socket), a fresh port is tried, a bounded number of times.
/// </summary>
internal static class SocketBinder
{
    private const int FreePortAttempts = 20;
    private const int ListenBacklog = 512;

    public static (Socket Udp, Socket Listener) Bind(NodeAddress address)
    {
        if (address.Port != 0)
        {
            Socket listener = Listen(address);
            try
            {
                return (BindUdp(address), listener);
            }
            catch
            {
                listener.Dispose();
                throw;
            }
        }

        for (int attempt = 0; attempt < FreePortAttempts; attempt++)
        {
            Socket listener = Listen(address);
            NodeAddress chosen = NodeAddress.From((IPEndPoint)listener.LocalEndPoint!);
            try
            {
                return (BindUdp(chosen), listener);
            }
            catch (TransportBindException e) when (e.IsAddressInUse)
            {
                listener.Dispose();
            }
            catch
            {
                listener.Dispose();
                throw;
            }
        }

        throw new TransportBindException($"could not find a port on {address.ToIPAddress()} free for both UDP and TCP after {FreePortAttempts} attempts.");
    }

    private static Socket Listen(NodeAddress address)
    {
        IPEndPoint endPoint = address.ToIPEndPoint();
        Socket socket = new(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            AllowDualMode(socket, endPoint);
            socket.Bind(endPoint);
            socket.Listen(ListenBacklog);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new TransportBindException(address, "TCP", e);
        }
    }

    private static Socket BindUdp(NodeAddress address)
    {
        IPEndPoint endPoint = address.ToIPEndPoint();
        Socket socket = new(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            AllowDualMode(socket, endPoint);
            socket.Bind(endPoint);

            // Sends happen on the event loop: a full send buffer must drop the datagram (counted),
            // never stall the protocol. Receives are asynchronous and unaffected by this setting.
            socket.Blocking = false;
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new TransportBindException(address, "UDP", e);
        }
    }

    private static void AllowDualMode(Socket socket, IPEndPoint endPoint)
    {
        // Bound to [::], accept IPv4 peers too; a specific IPv6 address stays IPv6-only.
        if (endPoint.Address.Equals(IPAddress.IPv6Any))
        {
            socket.DualMode = true;
        }
    }
}
