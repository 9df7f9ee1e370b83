using Rumor.Core.Membership;
using Rumor.Core.Tests.Security;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests;

/// <summary>
/// A member restarted (a newer generation) and died or left before its alive reached us: the
/// departure of the newer generation replaces whatever we hold about the older one (VOPR seed 730,
/// where such a leave was ignored and three nodes kept the member dead forever).
/// </summary>
public class NewerGenerationDepartureTests
{
    private const ulong Older = 1_700_000_000_000;
    private const ulong Newer = 1_700_000_005_000;
    private static readonly NodeAddress Peer = NodeAddress.Parse("10.0.0.5:7946");
    private static readonly NodeAddress Witness = NodeAddress.Parse("10.0.0.6:7946");

    /// <summary>A node that holds member "a" at the older generation in <paramref name="state"/>, and an alive witness "b".</summary>
    private static (GossipNode Node, Recorder Host) HoldingOlder(MemberState state)
    {
        Recorder host = new();
        GossipNode node = NodeSecurityTests.NewNode(host, keyring: null);
        node.Start(TimeSpan.Zero);
        TimeSpan now = TimeSpan.FromSeconds(1);
        node.OnPacket(Peer, PacketBuilder.EncodeSingle(new AliveMessage("a", Peer, 3, Older, ProtocolVersions.Current, [])), now);
        node.OnPacket(Witness, PacketBuilder.EncodeSingle(new AliveMessage("b", Witness, 1, Older, ProtocolVersions.Current, [])), now);
        object? news = state switch
        {
            MemberState.Suspect => new SuspectMessage("a", 3, Older, "b"),
            MemberState.Dead => new DeadMessage("a", 3, Older, "b"),
            MemberState.Left => new DeadMessage("a", 3, Older, "a"),
            _ => null,
        };
        if (news is SuspectMessage suspect)
        {
            node.OnPacket(Witness, PacketBuilder.EncodeSingle(suspect), now);
        }
        else if (news is DeadMessage dead)
        {
            node.OnPacket(Witness, PacketBuilder.EncodeSingle(dead), now);
        }

        Member a = node.FindMember("a")!;
        Assert.Equal((state, Older, 3u), (a.State, a.Generation, a.Incarnation));
        host.Events.Clear();
        return (node, host);
    }

    [Theory]
    [InlineData(MemberState.Alive, true)]
    [InlineData(MemberState.Suspect, true)]
    [InlineData(MemberState.Dead, true)]
    [InlineData(MemberState.Left, true)]
    [InlineData(MemberState.Alive, false)]
    [InlineData(MemberState.Suspect, false)]
    [InlineData(MemberState.Dead, false)]
    [InlineData(MemberState.Left, false)]
    public void A_departure_of_a_newer_generation_wins_from_every_state(MemberState held, bool leave)
    {
        (GossipNode node, Recorder host) = HoldingOlder(held);
        DeadMessage departure = new("a", 1, Newer, leave ? "a" : "b");
        TimeSpan at = TimeSpan.FromSeconds(2);
        node.OnPacket(Witness, PacketBuilder.EncodeSingle(departure), at);

        Member a = node.FindMember("a")!;
        MemberState expected = leave ? MemberState.Left : MemberState.Dead;
        Assert.Equal((expected, Newer, 1u), (a.State, a.Generation, a.Incarnation));
        MemberChanged change = Assert.Single(host.Events.OfType<MemberChanged>());
        Assert.Equal(leave ? MemberChangeKind.Left : MemberChangeKind.Failed, change.Kind);
        Assert.Equal(held, change.Previous);
        Assert.Equal(Newer, change.Member.Generation);

        // Heard again (from another gossiper, or back from one we told): nothing changes, no echo.
        node.OnPacket(Witness, PacketBuilder.EncodeSingle(departure), at + TimeSpan.FromSeconds(1));
        Assert.Single(host.Events.OfType<MemberChanged>());

        // The older generation's news cannot bring the older process back.
        node.OnPacket(Witness, PacketBuilder.EncodeSingle(new AliveMessage("a", Peer, 9, Older, ProtocolVersions.Current, [])), at + TimeSpan.FromSeconds(2));
        Assert.Equal((expected, Newer), (node.FindMember("a")!.State, node.FindMember("a")!.Generation));
    }

    [Fact]
    public void A_leave_of_a_newer_generation_arrives_by_push_pull_too()
    {
        (GossipNode node, _) = HoldingOlder(MemberState.Dead);

        // The merge of a push-pull turns a remote "left" into a leave (MergeRemoteState).
        node.OnPacket(Witness, PacketBuilder.EncodeSingle(new DeadMessage("a", 0, Newer, "a")), TimeSpan.FromSeconds(2));
        Assert.Equal((MemberState.Left, Newer), (node.FindMember("a")!.State, node.FindMember("a")!.Generation));
    }

    [Fact]
    public void Beyond_the_generation_horizon_or_the_incarnation_jump_a_departure_is_refused()
    {
        (GossipNode node, _) = HoldingOlder(MemberState.Dead);
        long refused = node.Counters.OutOfBoundsRefused;
        node.OnPacket(Witness, PacketBuilder.EncodeSingle(new DeadMessage("a", 0, ulong.MaxValue / 2, "a")), TimeSpan.FromSeconds(2));
        node.OnPacket(Witness, PacketBuilder.EncodeSingle(new DeadMessage("a", 2_000_000, Newer, "a")), TimeSpan.FromSeconds(2));
        Assert.Equal(refused + 2, node.Counters.OutOfBoundsRefused);
        Assert.Equal((MemberState.Dead, Older), (node.FindMember("a")!.State, node.FindMember("a")!.Generation));
    }

    [Fact]
    public void A_departure_in_our_own_name_at_a_newer_generation_changes_nothing()
    {
        (GossipNode node, Recorder host) = HoldingOlder(MemberState.Alive);
        Member self = node.FindMember("self")!;
        (MemberState State, ulong Generation, uint Incarnation) before = (self.State, self.Generation, self.Incarnation);
        node.OnPacket(Witness, PacketBuilder.EncodeSingle(new DeadMessage("self", 0, self.Generation + 1, "self")), TimeSpan.FromSeconds(2));
        node.OnPacket(Witness, PacketBuilder.EncodeSingle(new DeadMessage("self", 0, self.Generation + 1, "b")), TimeSpan.FromSeconds(2));
        Assert.Equal(before, (self.State, self.Generation, self.Incarnation));
        Assert.Empty(host.Events.OfType<MemberChanged>());
    }
}
