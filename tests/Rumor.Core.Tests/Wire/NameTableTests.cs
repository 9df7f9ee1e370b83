using System.Text;
using Rumor.Core.Membership;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Wire;

public class NameTableTests
{
    [Fact]
    public void Same_bytes_give_the_same_instance()
    {
        NameTable table = new();
        string first = table.Intern("nœud-1"u8);
        string second = table.Intern(Encoding.UTF8.GetBytes("nœud-1"));
        Assert.Equal("nœud-1", first);
        Assert.Same(first, second);
        Assert.Same(first, table.Intern(new string("nœud-1".AsSpan())));
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void String_interned_first_is_returned_for_its_bytes()
    {
        NameTable table = new();
        string name = new("member".AsSpan());
        Assert.Same(name, table.Intern(name));
        Assert.Same(name, table.Intern("member"u8));
    }

    [Fact]
    public void Different_names_are_different_entries()
    {
        NameTable table = new();
        Assert.Equal("a", table.Intern("a"u8));
        Assert.Equal("b", table.Intern("b"u8));
        Assert.Equal("A", table.Intern("A"u8));
        Assert.Equal(3, table.Count);
    }

    [Fact]
    public void State_keys_and_small_values_are_shared_only_when_the_table_interns_state_entries()
    {
        NameTable shared = new(internStateEntries: true);
        Assert.Same(shared.InternKey("service/endpoint"u8), shared.InternKey(Encoding.UTF8.GetBytes("service/endpoint")));
        byte[] first = shared.InternValue("http://a:8080/"u8);
        Assert.Same(first, shared.InternValue(Encoding.UTF8.GetBytes("http://a:8080/")));
        Assert.NotSame(first, shared.InternValue("http://b:8080/"u8));
        byte[] big = new byte[NameTable.ValueInternMaxBytes + 1];
        Assert.NotSame(shared.InternValue(big), shared.InternValue(big));
        Assert.Empty(shared.InternValue([]));

        NameTable own = new();
        Assert.False(own.InternsStateEntries);
        Assert.NotSame(own.InternKey("k"u8), own.InternKey("k"u8));
        byte[] copy = own.InternValue("v"u8);
        Assert.Equal("v"u8.ToArray(), copy);
        Assert.NotSame(copy, own.InternValue("v"u8));
        Assert.Equal(0, own.Count);
    }

    [Fact]
    public void Capacity_overflow_is_counted_and_the_name_still_decoded()
    {
        NameTable table = new(capacity: 2);
        table.Intern("a"u8);
        table.Intern("b"u8);
        string c1 = table.Intern("c"u8);
        string c2 = table.Intern("c"u8);
        Assert.Equal("c", c1);
        Assert.Equal("c", c2);
        Assert.NotSame(c1, c2);
        Assert.Equal(2, table.Count);
        Assert.Equal(2, table.Overflows);
        table.Intern("d");
        Assert.Equal(3, table.Overflows);
        Assert.Same(table.Intern("a"u8), table.Intern("a"));
        Assert.Equal(3, table.Overflows);
    }

    [Fact]
    public void Longest_name_of_four_byte_code_points_fits()
    {
        // 255 bytes: 63 four-byte code points (126 UTF-16 chars) and 3 ASCII bytes.
        string name = string.Concat(Enumerable.Repeat("😀", 63)) + "abc";
        byte[] utf8 = Encoding.UTF8.GetBytes(name);
        Assert.Equal(255, utf8.Length);
        NameTable table = new();
        Assert.Equal(name, table.Intern(utf8));

        string ascii = new('x', 255);
        Assert.Equal(ascii, table.Intern(Encoding.UTF8.GetBytes(ascii)));
    }

    [Fact]
    public void Interning_a_known_name_allocates_nothing()
    {
        NameTable table = new();
        byte[] utf8 = "steady-state-member"u8.ToArray();
        table.Intern(utf8);
        table.Intern(utf8);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            table.Intern(utf8);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1000, $"allocated {allocated} bytes over 1000 lookups");
    }

    [Fact]
    public void Membership_news_encodes_to_one_shared_array_only_in_a_table_that_interns_and_never_differs_from_a_fresh_encoding()
    {
        AliveMessage alive = new("node-17", NodeAddress.Parse("10.0.0.17:7946"), 3, 99, ProtocolVersions.Current, []);
        SuspectMessage suspect = new("node-17", 3, 99, "node-2");
        NameTable shared = new(internStateEntries: true);
        Assert.True(shared.InternsMessages);
        byte[] first = PacketBuilder.EncodeMessage(alive, shared);
        Assert.Equal(PacketBuilder.EncodeMessage(alive), first);
        Assert.Same(first, PacketBuilder.EncodeMessage(alive with { Name = new string("node-17".AsSpan()) }, shared));
        Assert.NotSame(first, PacketBuilder.EncodeMessage(alive with { Incarnation = 4 }, shared));
        Assert.Equal(PacketBuilder.EncodeMessage(suspect), PacketBuilder.EncodeMessage(suspect, shared));
        Assert.Equal(3, shared.MessageCount);

        // A message held already costs no allocation (the encoding is written on the stack).
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            _ = PacketBuilder.EncodeMessage(alive, shared);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1000, $"allocated {allocated} bytes over 1000 encodings of a held message");

        // Longer than the bound: a fresh copy each time, with the same bytes.
        AliveMessage big = alive with { Meta = new byte[NameTable.MessageInternMaxBytes] };
        Assert.NotSame(PacketBuilder.EncodeMessage(big, shared), PacketBuilder.EncodeMessage(big, shared));
        Assert.Equal(PacketBuilder.EncodeMessage(big), PacketBuilder.EncodeMessage(big, shared));

        // A node's own table shares nothing.
        NameTable own = new();
        Assert.False(own.InternsMessages);
        Assert.NotSame(PacketBuilder.EncodeMessage(alive, own), PacketBuilder.EncodeMessage(alive, own));
        Assert.Equal(0, own.MessageCount);
    }

    [Fact]
    public void The_message_table_starts_again_when_full_and_what_it_handed_out_stays_intact()
    {
        NameTable table = new(capacity: 2, internStateEntries: true);
        byte[] a = table.InternMessage("a-message"u8);
        byte[] b = table.InternMessage("b-message"u8);
        Assert.Same(a, table.InternMessage("a-message"u8));
        byte[] c = table.InternMessage("c-message"u8);
        Assert.Equal(1, table.MessageClears);
        Assert.Equal(1, table.MessageCount);
        Assert.Same(c, table.InternMessage("c-message"u8));
        Assert.Equal("a-message"u8.ToArray(), a);
        Assert.Equal("b-message"u8.ToArray(), b);
        Assert.NotSame(a, table.InternMessage("a-message"u8));
    }

    [Fact]
    public void Member_identities_and_owner_keys_are_shared_only_when_the_table_interns_state_entries()
    {
        NodeAddress v4 = NodeAddress.Parse("10.0.0.1:7946");
        NodeAddress v6 = NodeAddress.Parse("[fe80::1]:7946");
        NameTable shared = new(internStateEntries: true);
        MemberIdentity a = shared.InternMember("a", 1, v4);
        Assert.Same(a, shared.InternMember(new string("a".AsSpan()), 1, v4));
        Assert.Equal(("a", 1UL, v4), (a.Name, a.Generation, a.Address));
        Assert.NotSame(a, shared.InternMember("a", 2, v4));
        Assert.NotSame(a, shared.InternMember("a", 1, NodeAddress.Parse("10.0.0.1:7947")));
        Assert.NotSame(a, shared.InternMember("b", 1, v4));
        MemberIdentity six = shared.InternMember("a", 1, v6);
        Assert.Equal(v6, six.Address);
        Assert.Same(six, shared.InternMember("a", 1, v6));
        Rumor.Core.AntiEntropy.OwnerKey owner = shared.InternOwner("a", 1);
        Assert.Same(owner, shared.InternOwner(new string("a".AsSpan()), 1));
        Assert.NotSame(owner, shared.InternOwner("a", 2));
        Assert.Equal(("a", 2UL), (shared.InternOwner("a", 2).Name, shared.InternOwner("a", 2).Generation));
        Assert.Equal(7, shared.IdentityCount);

        // A node's own table shares nothing.
        NameTable own = new();
        Assert.NotSame(own.InternMember("a", 1, v4), own.InternMember("a", 1, v4));
        Assert.Equal(v6, own.InternMember("a", 1, v6).Address);
        Assert.NotSame(own.InternOwner("a", 1), own.InternOwner("a", 1));
        Assert.Equal(0, own.IdentityCount);
    }

    [Fact]
    public void A_shared_table_hands_out_the_last_snapshot_of_a_member_again_only_while_every_field_is_equal()
    {
        NodeAddress address = NodeAddress.Parse("10.0.0.1:7946");
        NameTable shared = new(internStateEntries: true);

        // Two nodes' records of one member (a simulation's nodes share the identity, not the record).
        MemberIdentity identity = shared.InternMember("a", 1, address);
        Member mine = new(identity, isLocal: false) { Incarnation = 3, State = MemberState.Alive };
        Member theirs = new(identity, isLocal: false) { Incarnation = 3, State = MemberState.Alive };
        MemberSnapshot first = shared.SnapshotOf(mine);
        Assert.Equal(mine.ToSnapshot(), first);
        Assert.Same(first, shared.SnapshotOf(theirs));

        // Metadata equal in content (each node decodes its own array): still the same snapshot.
        mine.Metadata = [1, 2];
        theirs.Metadata = [1, 2];
        MemberSnapshot tagged = shared.SnapshotOf(mine);
        Assert.NotSame(first, tagged);
        Assert.Same(tagged, shared.SnapshotOf(theirs));

        // Any one field that differs from the last snapshot makes a new one, equal to the member's own copy.
        void Differs(Action change, Action back)
        {
            MemberSnapshot before = shared.SnapshotOf(theirs);
            change();
            MemberSnapshot after = shared.SnapshotOf(theirs);
            Assert.NotSame(before, after);
            Assert.Equal(theirs.ToSnapshot(), after);
            back();
        }

        Differs(() => theirs.Metadata = [1, 3], () => theirs.Metadata = [1, 2]);
        Differs(() => theirs.Incarnation = 4, () => theirs.Incarnation = 3);
        Differs(() => theirs.State = MemberState.Suspect, () => theirs.State = MemberState.Alive);
        Differs(() => theirs.Address = NodeAddress.Parse("10.0.0.1:7947"), () => theirs.Address = address);
        Differs(() => theirs.Versions = theirs.Versions with { ProtocolCurrent = 9 }, () => theirs.Versions = mine.Versions);
        Assert.Same(shared.SnapshotOf(mine), shared.SnapshotOf(theirs));

        // A node's own table copies every time.
        NameTable own = new();
        Assert.NotSame(own.SnapshotOf(mine), own.SnapshotOf(mine));
        Assert.Equal(mine.ToSnapshot(), own.SnapshotOf(mine));
    }

    [Fact]
    public void The_identity_tables_start_again_when_full_and_what_they_handed_out_stays_intact()
    {
        NodeAddress address = NodeAddress.Parse("10.0.0.1:7946");
        NameTable table = new(capacity: 2, internStateEntries: true);
        MemberIdentity a = table.InternMember("a", 1, address);
        MemberIdentity b = table.InternMember("b", 1, address);
        MemberIdentity c = table.InternMember("c", 1, address);
        Assert.Equal(1, table.IdentityClears);
        Assert.Same(c, table.InternMember("c", 1, address));
        Assert.Equal(("a", "b"), (a.Name, b.Name));
        Assert.NotSame(a, table.InternMember("a", 1, address));
    }

    [Fact]
    public void Capacity_must_be_positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new NameTable(0));
    }
}
