using Rumor.Core.Membership;
using Rumor.Core.Tests.Security;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests;

/// <summary>
/// A member's leave can reach us before its alive (VOPR seed 1905: a member restarted, joined
/// through one seed and left at once; its leave went to members that had not heard of the restart).
/// Such a leave is remembered and passed on, and the alive that follows adds the member as left;
/// dropped, as memberlist drops a departure of an unknown member, the alive added it as alive and
/// the silent member was declared dead.
/// </summary>
public class UnknownMemberLeaveTests
{
    private const ulong Older = 1_700_000_000_000;
    private const ulong Newer = 1_700_000_000_400;
    private static readonly NodeAddress Peer = NodeAddress.Parse("10.0.0.5:7946");
    private static readonly NodeAddress Witness = NodeAddress.Parse("10.0.0.6:7946");
    private static readonly TimeSpan At = TimeSpan.FromSeconds(1);

    /// <summary>A started node that knows one alive witness "b" and has never heard of "a".</summary>
    private static (GossipNode Node, Recorder Host) WithWitness()
    {
        Recorder host = new();
        GossipNode node = NodeSecurityTests.NewNode(host, keyring: null);
        node.Start(TimeSpan.Zero);
        node.OnPacket(Witness, PacketBuilder.EncodeSingle(new AliveMessage("b", Witness, 1, Older, ProtocolVersions.Current, [])), At);
        Assert.Null(node.FindMember("a"));
        host.Events.Clear();
        return (node, host);
    }

    [Theory]
    [InlineData(Newer, 0u)] // the alive the seed gossips after the member's join: same generation and incarnation as the leave
    [InlineData(Older, 7u)] // an older process's alive, from a node that still holds it
    public void A_leave_heard_before_the_alive_makes_the_member_left_when_the_alive_comes(ulong aliveGeneration, uint aliveIncarnation)
    {
        (GossipNode node, Recorder host) = WithWitness();
        int queued = node.PendingBroadcasts;
        node.OnPacket(Witness, PacketBuilder.EncodeSingle(new DeadMessage("a", 0, Newer, "a")), At);
        Assert.Null(node.FindMember("a"));
        Assert.Equal(queued + 1, node.PendingBroadcasts); // passed on: those we gossip to may know "a"
        Assert.Empty(host.Events.OfType<MemberChanged>());

        node.OnPacket(Witness, PacketBuilder.EncodeSingle(new AliveMessage("a", Peer, aliveIncarnation, aliveGeneration, ProtocolVersions.Current, [])), At + TimeSpan.FromMilliseconds(200));
        Member a = node.FindMember("a")!;
        Assert.Equal((MemberState.Left, Newer, 0u, Peer), (a.State, a.Generation, a.Incarnation, a.Address));
        MemberChanged change = Assert.Single(host.Events.OfType<MemberChanged>());
        Assert.Equal((MemberChangeKind.Left, (MemberState?)null), (change.Kind, change.Previous));
        Assert.Equal(2, node.ActiveMemberCount); // ourselves and "b": "a" is not active

        // The leave is news no more: heard again, nothing changes.
        node.OnPacket(Witness, PacketBuilder.EncodeSingle(new DeadMessage("a", 0, Newer, "a")), At + TimeSpan.FromSeconds(1));
        Assert.Single(host.Events.OfType<MemberChanged>());
    }

    [Fact]
    public void An_alive_newer_than_the_remembered_leave_adds_the_member_alive()
    {
        (GossipNode node, Recorder host) = WithWitness();
        node.OnPacket(Witness, PacketBuilder.EncodeSingle(new DeadMessage("a", 0, Older, "a")), At);
        node.OnPacket(Witness, PacketBuilder.EncodeSingle(new AliveMessage("a", Peer, 0, Newer, ProtocolVersions.Current, [])), At + TimeSpan.FromMilliseconds(200));
        Member a = node.FindMember("a")!;
        Assert.Equal((MemberState.Alive, Newer), (a.State, a.Generation));
        Assert.Equal(MemberChangeKind.Joined, Assert.Single(host.Events.OfType<MemberChanged>()).Kind);
    }

    [Fact]
    public void A_dead_verdict_of_an_unknown_member_is_still_dropped()
    {
        // Only the member itself can say it left; a failure is found again by whoever knows it.
        (GossipNode node, _) = WithWitness();
        int queued = node.PendingBroadcasts;
        node.OnPacket(Witness, PacketBuilder.EncodeSingle(new DeadMessage("a", 0, Newer, "b")), At);
        Assert.Equal(queued, node.PendingBroadcasts);
        node.OnPacket(Witness, PacketBuilder.EncodeSingle(new AliveMessage("a", Peer, 0, Newer, ProtocolVersions.Current, [])), At + TimeSpan.FromMilliseconds(200));
        Assert.Equal(MemberState.Alive, node.FindMember("a")!.State);
    }
}
