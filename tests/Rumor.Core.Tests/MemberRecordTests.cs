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
    public void A_member_record_is_64_bytes()
    {
        // Every node of a simulated cluster holds one per member (N² of them): a field added to
        // Member costs N² × 8 bytes, so the size is pinned (docs/BENCHMARKS.md, issue 17).
        const int count = 10_000;
        Member[] members = new Member[count];
        NodeAddress address = NodeAddress.Parse("10.1.2.3:7946");
        members[0] = new Member("m", address, isLocal: false); // the constructor's code compiled before counting
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < count; i++)
        {
            members[i] = new Member("m", address, isLocal: false);
        }

        long perMember = (GC.GetAllocatedBytesForCurrentThread() - before) / count;
        Assert.Equal(64, perMember);
        Assert.Equal(4, System.Runtime.CompilerServices.Unsafe.SizeOf<Rumor.Core.FailureDetection.ProbeChain>());
        GC.KeepAlive(members);
    }
}
