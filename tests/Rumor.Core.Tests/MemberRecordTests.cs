using Rumor.Core.Membership;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests;

/// <summary>The compact member record: every attribute reads back what was stored, the rare ones included.</summary>
public sealed class MemberRecordTests
{
    [Fact]
    public void Attributes_read_back_through_the_compact_layout()
    {
        NodeAddress v4 = NodeAddress.Parse("10.1.2.3:7946");
        NodeAddress v6 = NodeAddress.Parse("[fe80::1]:8000");
        Member member = new("m", v4, isLocal: false);
        Assert.Equal(v4, member.Address);
        Assert.False(member.IsLocal);
        Assert.Empty(member.Metadata);
        Assert.Equal(ProtocolVersions.Current, member.Versions);

        member.Address = v6;
        member.Metadata = [1, 2, 3];
        member.Versions = new ProtocolVersions(1, 2, 2, 0, 1, 1);
        member.Incarnation = 7;
        member.Generation = ulong.MaxValue;
        member.State = MemberState.Suspect;
        member.StateChangedAt = TimeSpan.FromTicks(123456789);
        Assert.Equal(v6, member.Address);
        Assert.Equal([1, 2, 3], member.Metadata);
        Assert.Equal(new ProtocolVersions(1, 2, 2, 0, 1, 1), member.Versions);

        member.Address = v4;
        member.Metadata = [];
        member.Versions = ProtocolVersions.Current;
        MemberSnapshot snapshot = member.ToSnapshot();
        Assert.Equal(v4, snapshot.Address);
        Assert.Empty(snapshot.Metadata);
        Assert.Equal(7u, snapshot.Incarnation);
        Assert.Equal(ulong.MaxValue, snapshot.Generation);
        Assert.Equal(MemberState.Suspect, snapshot.State);
        Assert.Equal(TimeSpan.FromTicks(123456789), member.StateChangedAt);
        Assert.True(new Member("self", v6, isLocal: true).IsLocal);
    }

    [Fact]
    public void State_time_and_local_flag_share_one_word_without_disturbing_each_other()
    {
        Member member = new(MemberIdentity.Create("m", 3, NodeAddress.Parse("10.1.2.3:7946")), isLocal: true);
        TimeSpan[] times = [TimeSpan.Zero, TimeSpan.FromTicks(1), TimeSpan.FromDays(365 * 200), TimeSpan.FromMilliseconds(1234.5678)];
        foreach (MemberState state in Enum.GetValues<MemberState>())
        {
            foreach (TimeSpan at in times)
            {
                member.State = state;
                member.StateChangedAt = at;
                Assert.Equal((state, at, true), (member.State, member.StateChangedAt, member.IsLocal));
                member.State = MemberState.Left;
                member.State = state;
                Assert.Equal((state, at, true), (member.State, member.StateChangedAt, member.IsLocal));
            }
        }

        member.StateChangedAt = TimeSpan.FromTicks(-5);
        Assert.Equal(TimeSpan.Zero, member.StateChangedAt);
        member.StateChangedAt = TimeSpan.MaxValue; // beyond 228 years: held at the largest time the word keeps
        Assert.Equal(TimeSpan.FromTicks((1L << 56) - 1), member.StateChangedAt);
        Assert.Equal(MemberState.Left, member.State);
        Assert.False(new Member("o", NodeAddress.Parse("10.1.2.4:7946"), isLocal: false).IsLocal);
    }

    [Fact]
    public void A_change_of_address_or_generation_replaces_the_identity_and_leaves_the_shared_one_alone()
    {
        MemberIdentity shared = MemberIdentity.Create("m", 1, NodeAddress.Parse("10.1.2.3:7946"));
        Member a = new(shared, isLocal: false);
        Member b = new(shared, isLocal: false);
        a.Address = NodeAddress.Parse("10.1.2.3:7947");
        a.Generation = 2;
        Assert.Equal((NodeAddress.Parse("10.1.2.3:7947"), 2UL, "m"), (a.Address, a.Generation, a.Name));
        Assert.Same(shared, b.Identity);
        Assert.Equal((NodeAddress.Parse("10.1.2.3:7946"), 1UL), (shared.Address, shared.Generation));
        MemberIdentity same = b.Identity;
        b.Generation = 1; // no change, no new object
        b.Address = NodeAddress.Parse("10.1.2.3:7946");
        Assert.Same(same, b.Identity);
    }

    [Fact]
    public void The_identity_survives_the_rare_part_coming_and_going_in_any_order()
    {
        // The identity and the rare part share one reference (the rare part holds the identity while
        // it exists): every interleaving of identity changes with rare parts set and cleared reads back.
        NodeAddress[] addresses = [NodeAddress.Parse("10.1.2.3:7946"), NodeAddress.Parse("[fe80::1]:8000"), NodeAddress.Parse("10.1.2.4:7000")];
        MemberIdentity shared = MemberIdentity.Create("m", 1, addresses[0]);
        Member member = new(shared, isLocal: false);
        Random random = new(17);
        (NodeAddress Address, ulong Generation, byte[] Metadata, bool Versions, bool Suspect) model = (addresses[0], 1, [], false, false);
        for (int step = 0; step < 2_000; step++)
        {
            switch (random.Next(6))
            {
                case 0:
                    model.Address = addresses[random.Next(addresses.Length)];
                    member.Address = model.Address;
                    break;
                case 1:
                    model.Generation = (ulong)random.Next(1, 4);
                    member.Generation = model.Generation;
                    break;
                case 2:
                    model.Metadata = random.Next(2) == 0 ? [] : [(byte)step];
                    member.Metadata = model.Metadata;
                    break;
                case 3:
                    model.Versions = random.Next(2) == 0;
                    member.Versions = model.Versions ? new ProtocolVersions(1, 2, 2, 0, 1, 1) : ProtocolVersions.Current;
                    break;
                case 4:
                    model.Suspect = random.Next(2) == 0;
                    member.Suspicion = model.Suspect ? new Rumor.Core.FailureDetection.Suspicion("accuser", 1, 1, 3, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.Zero, token: 1) : null;
                    break;
                default:
                    MemberIdentity next = MemberIdentity.Create("m", model.Generation, model.Address);
                    member.Identity = next;
                    Assert.Same(next, member.Identity);
                    break;
            }

            Assert.Equal((model.Address, model.Generation, "m"), (member.Address, member.Generation, member.Name));
            Assert.Equal(model.Metadata, member.Metadata);
            Assert.Equal(model.Versions ? new ProtocolVersions(1, 2, 2, 0, 1, 1) : ProtocolVersions.Current, member.Versions);
            Assert.Equal(model.Suspect, member.Suspicion is not null);
        }

        Assert.Equal((addresses[0], 1UL), (shared.Address, shared.Generation)); // the shared identity never changed in place
    }

    [Fact]
    public void A_member_record_is_40_bytes()
    {
        // Every node of a simulated cluster holds one per member (N² of them): a field added to
        // Member costs N² × 8 bytes, so the size is pinned (docs/BENCHMARKS.md, issue 17).
        const int count = 10_000;
        Member[] members = new Member[count];
        NodeAddress address = NodeAddress.Parse("10.1.2.3:7946");
        MemberIdentity identity = MemberIdentity.Create("m", 1, address); // what a simulation's nodes share
        members[0] = new Member(identity, isLocal: false); // the constructor's code compiled before counting
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < count; i++)
        {
            members[i] = new Member(identity, isLocal: false);
        }

        long perMember = (GC.GetAllocatedBytesForCurrentThread() - before) / count;
        Assert.Equal(40, perMember);
        Assert.Equal(4, System.Runtime.CompilerServices.Unsafe.SizeOf<Rumor.Core.FailureDetection.ProbeChain>());
        GC.KeepAlive(members);
    }
}
