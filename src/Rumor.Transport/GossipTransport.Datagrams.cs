using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Rumor.Core;
using Rumor.Core.Wire;

namespace Rumor.Transport;

/// <summary>
/// Datagrams over UDP. Receiving is one loop on a thread of its own that copies each datagram into a pooled
/// buffer and posts it to the event loop; the node validates it (a malformed one is counted in
/// <c>node.Counters.DecodeFailures</c> and dropped). Sending happens on the event loop itself, on
/// a non-blocking socket: a datagram the socket refuses is dropped and counted, never thrown into
/// the core. Loss is normal for UDP and the protocol is built for it.
/// </summary>
public sealed partial class GossipTransport
{
    private void SendDatagram(NodeAddress to, ReadOnlySpan<byte> packet)
    {
        // A socket bound to IPv4 cannot reach IPv6 peers (and the reverse, unless bound to [::]).
        if (_sendAddresses.Destination(to) is not { } destination)
        {
            _counters.SendError();
            return;
        }

        try
        {
            // Synchronous on a non-blocking socket: the span is consumed before the call returns.
            _udp.SendTo(packet, SocketFlags.None, destination);
        }
        catch (SocketException)
        {
            _counters.SendError();
        }
        catch (ObjectDisposedException)
        {
            // Shutting down.
        }
    }

    /// <summary>
    /// Receives on a thread of its own (not the thread pool): the datagrams are the failure
    /// detector's probes and acks, and a pool queue flooded by an API burst (a thousand requests
    /// at once) would otherwise hold an ack for seconds before the loop saw it, and a healthy node
    /// would be suspected. The socket is non-blocking (sends on the loop never wait), so the thread
    /// waits in <see cref="Socket.Poll(int, SelectMode)"/> without a timeout: it wakes only for a
    /// datagram, or when <see cref="DisposeAsync"/> shuts the socket down (<see cref="WakeReceiver"/>).
    /// Nothing here allocates per datagram once warm: the source lands in one reused
    /// <see cref="SocketAddress"/> and is resolved through <see cref="PeerAddresses"/>, the copy goes
    /// into a pooled buffer, and the loop takes it as a struct.
    /// </summary>
    private void ReceiveDatagrams()
    {
        CancellationToken cancellationToken = _shutdown.Token;
        byte[] buffer = new byte[WireLimits.DatagramMaxBytes + 1];
        PeerAddresses addresses = new(_udp.AddressFamily, IsDualMode(_udp));
        SocketAddress remote = addresses.CreateReceiveBuffer();
        int remoteSizeMax = remote.Size;
        while (!cancellationToken.IsCancellationRequested)
        {
            int length;
            try
            {
                if (!_udp.Poll(Timeout.Infinite, SelectMode.SelectRead))
                {
                    continue;
                }

                // The receive sets Size to the source's length and requires room for the largest.
                remote.Size = remoteSizeMax;
                length = _udp.ReceiveFrom(buffer, SocketFlags.None, remote);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                // Readable turned out empty (a datagram with a bad checksum is discarded by the kernel late).
                continue;
            }
            catch (SocketException)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                // For example an ICMP port-unreachable reported against an earlier send: the socket
                // is still good. Pause briefly so a persistent error cannot spin a core.
                _counters.ReceiveError();
                cancellationToken.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(10));
                continue;
            }

            byte[] copy = ArrayPool<byte>.Shared.Rent(Math.Max(1, length));
            buffer.AsSpan(0, length).CopyTo(copy);
            NodeAddress from = addresses.FromReceived(remote);
            if (!PostDatagram(new ReceivedDatagram(from, copy, length)))
            {
                ArrayPool<byte>.Shared.Return(copy);
                _counters.DatagramDropped();
            }
        }
    }

    /// <summary>
    /// Wakes the receive thread out of its untimed poll before the socket is closed: closing a
    /// descriptor does not wake a thread polling it on Linux, but a shutdown does (even on an
    /// unconnected UDP socket, which reports it as not connected and wakes the pollers anyway).
    /// </summary>
    private void WakeReceiver()
    {
        try
        {
            _udp.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Not connected (UDP): the pollers are woken all the same.
        }
    }

    private static bool IsDualMode(Socket socket) => socket.AddressFamily == AddressFamily.InterNetworkV6 && socket.DualMode;
}
