using System.Net;
using System.Net.Sockets;
using Rumor.Core;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;
using Rumor.Transport.Tests.Support;
using Xunit.Abstractions;

namespace Rumor.Transport.Tests;

/// <summary>
/// The datagram hot path allocates nothing per packet once warm (issue 16): a peer on loopback pings
/// a running transport 10,000 times and reads each ack, so every packet goes through the receive
/// thread, the loop's inbox, the node and the send path, and the bytes the whole process allocated
/// meanwhile (<see cref="GC.GetTotalAllocatedBytes(bool)"/>, exact) stay under a bound far below one
/// small object per packet. Allocation counts, unlike times, do not depend on the machine's load; the
/// bound leaves room for what the timers and the test runner allocate in the background (tests in this
/// assembly run one at a time).
/// </summary>
public sealed class HotPathAllocationTests(ITestOutputHelper output)
{
    private const int Packets = 10_000;

    /// <summary>
    /// Bytes allowed over <see cref="Packets"/> round trips: under 40 bytes a packet. The code before
    /// the hot-path work allocated 357 B a packet (fails by 9x); one pooled work item, an endpoint or
    /// a boxed address per packet would be 24 to 100+. What the process allocates in the background
    /// meanwhile (timers, tiered JIT, the test host) was 0.6 B a packet on a quiet run and 5 B a packet
    /// in a fresh-clone CI run, so a bound of 2 B was too tight to mean anything but the machine's mood.
    /// </summary>
    private const long AllocatedBytesMax = 40 * Packets;

    private const int Batch = 16;

    /// <summary>Measured windows at most (the least counts; see the test).</summary>
    private const int Windows = 3;

    [Fact]
    public async Task Steady_state_pings_and_acks_allocate_nothing_per_packet()
    {
        await using GossipTransport node = await GossipTransport.StartAsync(LocalCluster.FastOptions("hot"));
        using Socket peer = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        peer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        peer.ReceiveTimeout = 10_000;
        byte[] ping = PacketBuilder.EncodeSingle(new PingMessage(1, "hot", "peer", NodeAddress.From((IPEndPoint)peer.LocalEndPoint!)));
        SocketAddress to = node.LocalEndPoint.Serialize();
        SocketAddress from = new(AddressFamily.InterNetwork);
        byte[] buffer = new byte[WireLimits.DatagramMaxBytes];

        RoundTrips(peer, ping, to, from, buffer, 2_000); // warm-up: JIT tiers, pools, address caches

        // Up to three windows of Packets round trips, the least allocation counting: a per-packet
        // object shows in every window, while the test host's own work (reporting earlier tests,
        // timers) lands in one now and then. A fresh-clone CI run, with another process busy on the
        // second core, once measured 754 KB in a window (75 B a packet) where the same build's
        // windows are otherwise under 1 KB.
        List<long> windows = [];
        long allocated = long.MaxValue;
        for (int window = 0; window < Windows && allocated >= AllocatedBytesMax; window++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            RoundTrips(peer, ping, to, from, buffer, Packets);
            windows.Add(GC.GetTotalAllocatedBytes(precise: true) - before);
            allocated = windows.Min();
        }

        output.WriteLine($"{allocated} bytes allocated by the process over {Packets} pings and acks ({(double)allocated / Packets:0.00} B per packet; windows: {string.Join(", ", windows)})");
        Assert.True(allocated < AllocatedBytesMax, $"{allocated} bytes allocated over {Packets} pings and acks in the least of {windows.Count} windows ({string.Join(", ", windows)}; {(double)allocated / Packets:0.00} B per packet; at most {AllocatedBytesMax} allowed): the datagram path allocates per packet");
        Assert.Equal(0, node.Counters.DatagramsDropped);
    }

    [Fact]
    public async Task A_dual_mode_socket_answers_an_IPv4_peer()
    {
        // Bound to [::] (dual mode): an IPv4 peer arrives as an IPv4-mapped IPv6 source (a 28-byte
        // address through the receive cache), and the ack goes back through the cached destination.
        // Linux also accepts a plain IPv4 destination on a dual-mode socket, so this guards the path
        // end to end rather than the mapped form the cache builds (which other platforms require).
        await using GossipTransport node = await GossipTransport.StartAsync(
            LocalCluster.FastOptions("dual") with { AdvertiseAddress = NodeAddress.Parse("127.0.0.1:0") },
            new GossipTransportSettings { BindAddress = NodeAddress.Parse("[::]:0") });
        using Socket peer = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        peer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        peer.ReceiveTimeout = 10_000;
        byte[] ping = PacketBuilder.EncodeSingle(new PingMessage(1, "dual", "peer", NodeAddress.From((IPEndPoint)peer.LocalEndPoint!)));
        SocketAddress to = new IPEndPoint(IPAddress.Loopback, node.LocalEndPoint.Port).Serialize();
        SocketAddress from = new(AddressFamily.InterNetwork);
        byte[] buffer = new byte[WireLimits.DatagramMaxBytes];

        RoundTrips(peer, ping, to, from, buffer, Batch);

        Assert.Equal(0, node.Counters.SendErrors);
    }

    /// <summary>Sends pings in batches and reads one ack for each (a lost one fails the test by the receive timeout, never by a time bound).</summary>
    private static void RoundTrips(Socket peer, byte[] ping, SocketAddress to, SocketAddress from, byte[] buffer, int count)
    {
        for (int done = 0; done < count; done += Batch)
        {
            int batch = Math.Min(Batch, count - done);
            for (int i = 0; i < batch; i++)
            {
                peer.SendTo(ping, SocketFlags.None, to);
            }

            for (int i = 0; i < batch; i++)
            {
                peer.ReceiveFrom(buffer, SocketFlags.None, from);
            }
        }
    }
}
