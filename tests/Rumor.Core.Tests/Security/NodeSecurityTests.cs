using Rumor.Core.Events;
using Rumor.Core.Membership;
using Rumor.Core.Randomness;
using Rumor.Core.Security;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Security;

/// <summary>One node fed forged packets by hand: what encryption drops, and the bounds that hold even for a keyed member.</summary>
public class NodeSecurityTests
{
    internal static readonly byte[] Key = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
    private static readonly byte[] WrongKey = [.. Enumerable.Range(50, 32).Select(i => (byte)i)];
    private static readonly NodeAddress SelfAddress = NodeAddress.Parse("10.0.0.1:7946");
    private static readonly NodeAddress PeerAddress = NodeAddress.Parse("10.0.0.2:7946");
    private static readonly NodeAddress Victim = NodeAddress.Parse("10.9.9.9:9999");
    private const ulong SelfGeneration = 1_700_000_000_000; // Unix ms, as the transport sets it
    private const ulong PeerGeneration = 1_700_000_000_500;
    private static readonly TimeSpan T1 = TimeSpan.FromSeconds(1);

    internal static GossipNode NewNode(IGossipHost host, GossipKeyring? keyring, bool verifyIncoming = true) =>
        new(GossipOptions.Lan with
        {
            Name = "self",
            Generation = SelfGeneration,
            AdvertiseAddress = SelfAddress,
            Keyring = keyring,
            VerifyIncoming = verifyIncoming,
        }, host, new Xoshiro256StarStar(1));

    private static (GossipNode Node, Recorder Host, GossipKeyring Keyring) StartWithPeer(bool encrypted = true, bool verifyIncoming = true)
    {
        Recorder host = new();
        GossipKeyring keyring = new([Key]);
        GossipNode node = NewNode(host, encrypted ? keyring : null, verifyIncoming);
        node.Start(TimeSpan.Zero);
        byte[] alive = PacketBuilder.EncodeSingle(new AliveMessage("peer", PeerAddress, 1, PeerGeneration, ProtocolVersions.Current, []));
        node.OnPacket(PeerAddress, encrypted ? Seal(keyring, alive, 1) : alive, TimeSpan.FromMilliseconds(1));
        Assert.Equal(MemberState.Alive, node.FindMember("peer")?.State);
        host.Sent.Clear();
        host.SentTo.Clear();
        return (node, host, keyring);
    }

    internal static byte[] Seal(GossipKeyring keyring, byte[] packet, ulong counter, uint prefix = 0xFEED)
    {
        byte[] envelope = new byte[packet.Length + PacketEnvelope.OverheadBytes];
        PacketEnvelope.Seal(keyring, prefix, counter, packet, envelope);
        return envelope;
    }

    private static byte[] ForgedDead() => PacketBuilder.EncodeSingle(new DeadMessage("peer", 1, PeerGeneration, "peer"));

    [Fact]
    public void A_plaintext_forged_dead_is_dropped_and_counted()
    {
        (GossipNode node, _, _) = StartWithPeer();
        node.OnPacket(PeerAddress, ForgedDead(), T1);
        Assert.Equal(MemberState.Alive, node.FindMember("peer")!.State);
        Assert.Equal(1, node.Counters.PlaintextRefused);
        Assert.Equal(0, node.Counters.DecodeFailures);
    }

    [Fact]
    public void A_wrongly_keyed_forged_dead_is_dropped_and_counted()
    {
        (GossipNode node, _, _) = StartWithPeer();
        using GossipKeyring wrong = new([WrongKey]);
        node.OnPacket(PeerAddress, Seal(wrong, ForgedDead(), 2), T1);
        Assert.Equal(MemberState.Alive, node.FindMember("peer")!.State);
        Assert.Equal(1, node.Counters.PacketsUnauthenticated);
    }

    [Fact]
    public void A_replayed_envelope_is_refused()
    {
        (GossipNode node, _, GossipKeyring keyring) = StartWithPeer();
        byte[] suspect = Seal(keyring, PacketBuilder.EncodeSingle(new SuspectMessage("peer", 1, PeerGeneration, "x")), 2);
        node.OnPacket(PeerAddress, suspect, T1);
        Assert.Equal(MemberState.Suspect, node.FindMember("peer")!.State);
        node.OnPacket(PeerAddress, Seal(keyring, PacketBuilder.EncodeSingle(new AliveMessage("peer", PeerAddress, 2, PeerGeneration, ProtocolVersions.Current, [])), 3), T1);
        Assert.Equal(MemberState.Alive, node.FindMember("peer")!.State);
        node.OnPacket(PeerAddress, suspect, T1);
        Assert.Equal(1, node.Counters.ReplaysRefused);
    }

    [Fact]
    public void Migration_mode_accepts_plaintext_until_verification_is_switched_on_at_run_time()
    {
        (GossipNode node, Recorder host, _) = StartWithPeer(verifyIncoming: false);
        node.OnPacket(PeerAddress, PacketBuilder.EncodeSingle(new SuspectMessage("peer", 1, PeerGeneration, "x")), T1);
        Assert.Equal(MemberState.Suspect, node.FindMember("peer")!.State);
        Assert.Equal(1, node.Counters.PlaintextAccepted);

        node.OnTick(TimeSpan.FromSeconds(2));
        Assert.All(host.Sent, p => Assert.True(PacketEnvelope.IsEnvelope(p))); // still sends sealed

        node.VerifyIncoming = true;
        node.OnPacket(PeerAddress, ForgedDead(), TimeSpan.FromSeconds(2));
        Assert.Equal(MemberState.Suspect, node.FindMember("peer")!.State);
        Assert.Equal(1, node.Counters.PlaintextRefused);
    }

    [Fact]
    public void Sealed_datagrams_stay_within_the_packet_budget()
    {
        (GossipNode node, Recorder host, _) = StartWithPeer();
        for (int i = 0; i < 50; i++)
        {
            node.SendEvent("e" + i, new byte[400], TimeSpan.FromMilliseconds(1000 + i));
        }

        for (int i = 2; i < 40; i++)
        {
            node.OnTick(TimeSpan.FromMilliseconds(100 * i + 1000));
        }

        Assert.NotEmpty(host.Sent);
        Assert.All(host.Sent, p => Assert.InRange(p.Length, 1, node.Options.PacketBudgetBytes));
    }

    [Fact]
    public void A_node_never_reuses_a_nonce()
    {
        (GossipNode node, Recorder host, _) = StartWithPeer();
        for (int i = 1; i <= 300; i++)
        {
            node.OnTick(TimeSpan.FromMilliseconds(100 * i));
        }

        List<string> nonces = [.. host.Sent.Select(p => Convert.ToHexString(p.AsSpan(3, 12)))];
        Assert.True(nonces.Count > 10, $"only {nonces.Count} packets");
        Assert.Equal(nonces.Count, nonces.Distinct().Count());
        Assert.All(host.Sent, p => Assert.Equal(0x02, p[2]));
    }

    // ---- Nothing outranks forever, even from a keyed member ----

    private static void Deliver(GossipNode node, GossipKeyring keyring, byte[] packet, ref ulong counter) =>
        node.OnPacket(PeerAddress, Seal(keyring, packet, ++counter), T1);

    [Fact]
    public void A_generation_from_the_future_is_refused()
    {
        (GossipNode node, _, GossipKeyring keyring) = StartWithPeer();
        ulong counter = 10;
        Deliver(node, keyring, PacketBuilder.EncodeSingle(new AliveMessage("peer", Victim, 0, ulong.MaxValue, ProtocolVersions.Current, [])), ref counter);
        Deliver(node, keyring, PacketBuilder.EncodeSingle(new AliveMessage("ghost", Victim, 0, SelfGeneration + (ulong)TimeSpan.FromHours(2).TotalMilliseconds, ProtocolVersions.Current, [])), ref counter);
        Assert.Equal(PeerAddress, node.FindMember("peer")!.Address);
        Assert.Equal(PeerGeneration, node.FindMember("peer")!.Generation);
        Assert.Null(node.FindMember("ghost"));
        Assert.Equal(2, node.Counters.OutOfBoundsRefused);

        // Within the skew bound a restart is news as before.
        Deliver(node, keyring, PacketBuilder.EncodeSingle(new AliveMessage("peer", PeerAddress, 0, SelfGeneration + 60_000, ProtocolVersions.Current, [])), ref counter);
        Assert.Equal(SelfGeneration + 60_000, node.FindMember("peer")!.Generation);
    }

    [Fact]
    public void An_incarnation_jump_beyond_the_bound_is_refused_and_refutation_never_wraps()
    {
        (GossipNode node, _, GossipKeyring keyring) = StartWithPeer();
        ulong counter = 10;
        uint jump = node.Options.IncarnationJumpMax;
        Deliver(node, keyring, PacketBuilder.EncodeSingle(new DeadMessage("peer", 1 + jump + 1, PeerGeneration, "x")), ref counter);
        Deliver(node, keyring, PacketBuilder.EncodeSingle(new SuspectMessage("self", uint.MaxValue, SelfGeneration, "x")), ref counter);
        Assert.Equal(MemberState.Alive, node.FindMember("peer")!.State);
        Assert.Equal(0u, node.Self.Incarnation);
        Assert.Equal(2, node.Counters.OutOfBoundsRefused);

        Deliver(node, keyring, PacketBuilder.EncodeSingle(new SuspectMessage("peer", 1 + jump, PeerGeneration, "x")), ref counter);
        Assert.Equal(MemberState.Suspect, node.FindMember("peer")!.State); // at the bound: accepted
    }

    [Fact]
    public void A_lamport_time_near_the_top_is_refused_and_the_clock_never_wraps()
    {
        (GossipNode node, Recorder host, GossipKeyring keyring) = StartWithPeer();
        ulong counter = 10;
        Deliver(node, keyring, PacketBuilder.EncodeSingle(new UserEventMessage("peer", PeerGeneration, 1, ulong.MaxValue, 0, "boom", [])), ref counter);
        Assert.Empty(host.Events.OfType<UserEventReceived>());
        Assert.Equal(1, node.Counters.OutOfBoundsRefused);
        Deliver(node, keyring, PacketBuilder.EncodeSingle(new UserEventMessage("peer", PeerGeneration, 2, LamportClock.TimeMax, 0, "edge", [])), ref counter);
        Assert.Equal(LamportClock.TimeMax + 1, node.LamportTime);
        Assert.True(node.SendEvent("next", [], T1).LamportTime > LamportClock.TimeMax);

        LamportClock clock = new();
        clock.Witness(ulong.MaxValue);
        Assert.Equal(ulong.MaxValue, clock.Tick());
    }

    [Fact]
    public void A_state_version_jump_beyond_the_bound_is_refused_per_owner()
    {
        (GossipNode node, _, GossipKeyring keyring) = StartWithPeer();
        ulong counter = 10;
        StateEntry entry = new("k", 1, false, 0, [1]);
        Deliver(node, keyring, PacketBuilder.EncodeSingle(new StateDeltaMessage(false, [new OwnerDelta("peer", PeerGeneration, false, 0, 1, [entry])])), ref counter);
        Assert.NotNull(node.GetValue("peer", "k"));

        StateEntry forged = new("k", 1_000_000_000_000, false, 0, [6, 6, 6]);
        Deliver(node, keyring, PacketBuilder.EncodeSingle(new StateDeltaMessage(false, [new OwnerDelta("peer", PeerGeneration, false, 1, 1_000_000_000_000, [forged])])), ref counter);
        Assert.Equal([1], node.GetValue("peer", "k")!.Value);
        Assert.Equal(1, node.Counters.OutOfBoundsRefused);

        StateEntry next = new("k", 2, false, 0, [2]);
        Deliver(node, keyring, PacketBuilder.EncodeSingle(new StateDeltaMessage(false, [new OwnerDelta("peer", PeerGeneration, false, 1, 2, [next])])), ref counter);
        Assert.Equal([2], node.GetValue("peer", "k")!.Value); // the owner is not frozen
    }

    [Fact]
    public void A_query_naming_an_address_that_is_not_the_askers_gets_no_answer()
    {
        (GossipNode node, Recorder host, GossipKeyring keyring) = StartWithPeer();
        node.QueryResponder = _ => [42];
        ulong counter = 10;
        Deliver(node, keyring, PacketBuilder.EncodeSingle(new QueryMessage("peer", PeerGeneration, 1, 3, Victim, 5000, "q", [], [])), ref counter);
        Deliver(node, keyring, PacketBuilder.EncodeSingle(new QueryMessage("stranger", 1, 1, 3, Victim, 5000, "q", [], [])), ref counter);
        node.OnTick(TimeSpan.FromSeconds(3));
        Assert.DoesNotContain(host.SentTo, d => d == Victim);
        Assert.Equal(2, node.Counters.ReflectionsRefused);

        Assert.Equal(0, node.Counters.QueryResponsesSent);
        Deliver(node, keyring, PacketBuilder.EncodeSingle(new QueryMessage("peer", PeerGeneration, 2, 3, PeerAddress, 5000, "q", [], [])), ref counter);
        Assert.Equal(1, node.Counters.QueryResponsesSent); // the asker's own address: answered
    }

    [Fact]
    public void An_indirect_ping_to_an_address_that_is_no_members_is_refused()
    {
        (GossipNode node, Recorder host, GossipKeyring keyring) = StartWithPeer();
        ulong counter = 10;
        Deliver(node, keyring, PacketBuilder.EncodeSingle(new IndirectPingMessage(9, "anyone", Victim, true)), ref counter);
        Deliver(node, keyring, PacketBuilder.EncodeSingle(new IndirectPingMessage(9, "peer", Victim, true)), ref counter);
        Assert.DoesNotContain(host.SentTo, d => d == Victim);
        Assert.Equal(2, node.Counters.ReflectionsRefused);
    }

    [Fact]
    public void Bounds_hold_without_encryption_too()
    {
        (GossipNode node, _, _) = StartWithPeer(encrypted: false);
        node.OnPacket(PeerAddress, PacketBuilder.EncodeSingle(new AliveMessage("peer", Victim, 0, ulong.MaxValue, ProtocolVersions.Current, [])), T1);
        Assert.Equal(PeerAddress, node.FindMember("peer")!.Address);
        Assert.Equal(1, node.Counters.OutOfBoundsRefused);
    }
}

/// <summary>A host that records what the node sends.</summary>
internal sealed class Recorder : IGossipHost
{
    public List<GossipEvent> Events { get; } = [];

    public List<byte[]> Sent { get; } = [];

    public List<NodeAddress> SentTo { get; } = [];

    public void SendPacket(NodeAddress to, ReadOnlySpan<byte> packet)
    {
        Sent.Add(packet.ToArray());
        SentTo.Add(to);
    }

    public void OpenStream(long streamId, NodeAddress to, ReadOnlySpan<byte> request)
    {
    }

    public void ReplyStream(long streamId, ReadOnlySpan<byte> response)
    {
    }

    public void OnEvent(GossipEvent gossipEvent) => Events.Add(gossipEvent);
}

/// <summary>The core half of `rumor force-leave`.</summary>
public class ForceLeaveTests
{
    [Fact]
    public void A_failed_member_is_forced_left_and_the_leave_spreads_but_an_alive_one_is_untouched()
    {
        Recorder host = new();
        GossipNode node = NodeSecurityTests.NewNode(host, keyring: null);
        node.Start(TimeSpan.Zero);
        NodeAddress a = NodeAddress.Parse("10.0.0.5:7946");
        NodeAddress b = NodeAddress.Parse("10.0.0.6:7946");
        node.OnPacket(a, PacketBuilder.EncodeSingle(new AliveMessage("a", a, 1, 5, ProtocolVersions.Current, [])), TimeSpan.FromSeconds(1));
        node.OnPacket(b, PacketBuilder.EncodeSingle(new AliveMessage("b", b, 1, 5, ProtocolVersions.Current, [])), TimeSpan.FromSeconds(1));
        node.OnPacket(b, PacketBuilder.EncodeSingle(new DeadMessage("a", 1, 5, "b")), TimeSpan.FromSeconds(1));
        Assert.Equal(MemberState.Dead, node.FindMember("a")!.State);

        Assert.True(node.ForceLeave("a", TimeSpan.FromSeconds(2)));
        Assert.Equal(MemberState.Left, node.FindMember("a")!.State);
        Assert.False(node.ForceLeave("b", TimeSpan.FromSeconds(2)));
        Assert.Equal(MemberState.Alive, node.FindMember("b")!.State);
        Assert.False(node.ForceLeave("nobody", TimeSpan.FromSeconds(2)));
        Assert.False(node.ForceLeave("self", TimeSpan.FromSeconds(2)));
    }
}
