using System.Net;
using System.Net.Sockets;
using System.Text;
using Rumor.Core;
using Rumor.Transport.Tests.Support;

namespace Rumor.Transport.Tests;

/// <summary>Bad input from the network and bad addresses: counted or reported clearly, never a crash.</summary>
public sealed class FaultToleranceTests
{
    [Fact]
    public async Task A_malformed_datagram_is_counted_and_dropped_and_the_node_keeps_working()
    {
        await using LocalCluster cluster = await LocalCluster.StartJoinedAsync(2);
        GossipTransport target = cluster[0];

        using (Socket sender = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            await sender.SendToAsync(Encoding.UTF8.GetBytes("this is not a gossip packet"), SocketFlags.None, target.Address.ToIPEndPoint());
            await sender.SendToAsync(new byte[] { 1 }, SocketFlags.None, target.Address.ToIPEndPoint());
            await sender.SendToAsync(new byte[] { 1, 2, 0, 0, 0, 0, 0, 0, 0, 0 }, SocketFlags.None, target.Address.ToIPEndPoint());
        }

        long failures = 0;
        for (int i = 0; i < 200 && failures < 3; i++)
        {
            await Task.Delay(25);
            failures = await target.InvokeAsync(node => node.Counters.DecodeFailures);
        }

        Assert.True(failures >= 3, $"expected 3 decode failures, the node counted {failures}");

        // Still working: a third node joins through it and everyone converges.
        await using GossipTransport late = await GossipTransport.StartAsync(LocalCluster.FastOptions("late"));
        JoinResult join = await late.JoinAsync([target.Address]);
        Assert.True(join.Joined);
        await LocalCluster.WaitUntilAsync([cluster[0], cluster[1], late], view => LocalCluster.AllAlive(view, 3), TimeSpan.FromSeconds(20), "every node seeing 3 alive members");
        Assert.Equal(0, target.Counters.LoopFaults);
    }

    [Fact]
    public async Task A_malformed_stream_is_dropped_without_a_reply()
    {
        await using GossipTransport node = await GossipTransport.StartAsync(LocalCluster.FastOptions("n"));
        using Socket client = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(node.Address.ToIPEndPoint());
        byte[] garbage = Encoding.UTF8.GetBytes("garbage");
        byte[] frame = new byte[4 + garbage.Length];
        BitConverter.TryWriteBytes(frame, garbage.Length);
        garbage.CopyTo(frame, 4);
        await client.SendAsync(frame, SocketFlags.None);

        byte[] buffer = new byte[16];
        using CancellationTokenSource timeout = new(TimeSpan.FromSeconds(5));
        int read = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);

        Assert.Equal(0, read); // Closed without a reply.
        Assert.True(await node.InvokeAsync(n => n.Counters.DecodeFailures) >= 1);
    }

    [Fact]
    public async Task An_oversized_stream_frame_is_refused_before_reading_it()
    {
        await using GossipTransport node = await GossipTransport.StartAsync(LocalCluster.FastOptions("n"));
        using Socket client = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(node.Address.ToIPEndPoint());
        await client.SendAsync(BitConverter.GetBytes(uint.MaxValue), SocketFlags.None);

        byte[] buffer = new byte[16];
        using CancellationTokenSource timeout = new(TimeSpan.FromSeconds(5));
        int read = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);

        Assert.Equal(0, read);
        await LocalCluster.WaitUntilAsync([node], _ => node.Counters.StreamErrors == 1, TimeSpan.FromSeconds(5), "the stream error counted");
    }

    [Fact]
    public async Task Binding_an_address_in_use_names_the_address()
    {
        await using GossipTransport first = await GossipTransport.StartAsync(LocalCluster.FastOptions("first"));

        TransportBindException error = await Assert.ThrowsAsync<TransportBindException>(
            () => GossipTransport.StartAsync(LocalCluster.FastOptions("second") with { AdvertiseAddress = first.Address }));

        Assert.True(error.IsAddressInUse);
        Assert.Contains($"{first.Address} is already in use", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Binding_a_port_whose_udp_side_is_taken_names_the_address()
    {
        using Socket udp = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        NodeAddress taken = NodeAddress.From((IPEndPoint)udp.LocalEndPoint!);

        TransportBindException error = await Assert.ThrowsAsync<TransportBindException>(
            () => GossipTransport.StartAsync(LocalCluster.FastOptions("n") with { AdvertiseAddress = taken }));

        Assert.Contains($"{taken} is already in use", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Port_zero_binds_a_free_port_and_advertises_it()
    {
        await using GossipTransport node = await GossipTransport.StartAsync(LocalCluster.FastOptions("n"));

        Assert.NotEqual(0, node.Address.Port);
        Assert.Equal(node.LocalEndPoint.Port, node.Address.Port);
        Assert.Equal(node.Address, Assert.Single(node.Members).Address);
        Assert.NotEqual(0UL, node.Options.Generation);
    }

    [Fact]
    public async Task Binding_every_interface_advertises_the_given_address_with_the_bound_port()
    {
        GossipTransportSettings everywhere = new() { BindAddress = NodeAddress.Parse("0.0.0.0:0") };
        await using GossipTransport node = await GossipTransport.StartAsync(LocalCluster.FastOptions("wide"), everywhere);
        // A long stream deadline: the first join of a process pays for JIT, and a loaded 2-core
        // machine once turned that into a 1 s timeout; the test is about addresses, not speed.
        await using GossipTransport peer = await GossipTransport.StartAsync(LocalCluster.FastOptions("peer") with { StreamTimeout = TimeSpan.FromSeconds(15) });

        Assert.Equal(NodeAddress.From(IPAddress.Loopback, node.LocalEndPoint.Port), node.Address);
        Assert.Equal(IPAddress.Any, node.LocalEndPoint.Address);
        JoinResult joined = await peer.JoinAsync([node.Address]);
        Assert.True(joined.Joined, $"join failed: {string.Join("; ", joined.Failed.Select(f => f.Reason))}");
    }

    [Fact]
    public async Task Binding_every_interface_without_an_advertise_address_is_refused_clearly()
    {
        GossipTransportSettings everywhere = new() { BindAddress = NodeAddress.Parse("0.0.0.0:0") };

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(
            () => GossipTransport.StartAsync(LocalCluster.FastOptions("n") with { AdvertiseAddress = default }, everywhere));

        Assert.Contains("which other members cannot reach", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_options_are_reported_before_binding()
    {
        GossipOptions bad = LocalCluster.FastOptions("n") with { ProbeTimeout = TimeSpan.FromSeconds(5) };

        GossipOptionsException error = await Assert.ThrowsAsync<GossipOptionsException>(() => GossipTransport.StartAsync(bad));

        Assert.Contains("ProbeTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Joining_through_a_closed_port_fails_with_the_reason()
    {
        int closedPort;
        using (Socket probe = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            closedPort = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        // Loopback refuses at once; the long deadline only keeps a loaded machine from turning the
        // refusal into a timeout before the connect task reports it.
        GossipOptions options = LocalCluster.FastOptions("n") with { StreamTimeout = TimeSpan.FromSeconds(10) };
        await using GossipTransport node = await GossipTransport.StartAsync(options);
        NodeAddress seed = NodeAddress.From(IPAddress.Loopback, closedPort);

        JoinResult result = await node.JoinAsync([seed, seed, node.Address]);

        Assert.False(result.Joined);
        JoinFailed failed = Assert.Single(result.Failed);
        Assert.Equal(seed, failed.Seed);
        Assert.Equal("connection refused", failed.Reason);
    }

    [Fact]
    public async Task Two_nodes_converge_over_ipv6_loopback()
    {
        if (!Socket.OSSupportsIPv6)
        {
            return;
        }

        await using GossipTransport first = await GossipTransport.StartAsync(LocalCluster.FastOptions("v6-first") with { AdvertiseAddress = NodeAddress.Parse("[::1]:0") });
        await using GossipTransport second = await GossipTransport.StartAsync(LocalCluster.FastOptions("v6-second") with { AdvertiseAddress = NodeAddress.Parse("[::1]:0") });

        Assert.True((await second.JoinAsync([first.Address])).Joined);
        await LocalCluster.WaitUntilAsync([first, second], view => LocalCluster.AllAlive(view, 2), TimeSpan.FromSeconds(20), "both seeing 2 alive");
    }

    [Fact]
    public async Task After_dispose_calls_fail_clearly_and_dispose_is_idempotent()
    {
        GossipTransport node = await GossipTransport.StartAsync(LocalCluster.FastOptions("n"));
        await node.DisposeAsync();
        await node.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => node.GetMembersAsync());
        Assert.False(await node.Events.WaitToReadAsync()); // Completed (the channel may still hold events).
    }
}
