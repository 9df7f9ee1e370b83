using Rumor.Core.Membership;
using Rumor.Core.Modules;
using Rumor.Core.Tests.Security;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests;

/// <summary>
/// The kernel's member sampler (gossip targets, indirect probe helpers, push-pull peers, the
/// modules' picks): random draws, then a count of the members left when the draws run out short.
/// A member that passes the filter is never left out while fewer than asked are chosen, and each
/// pick is uniform among those left.
/// </summary>
public class MemberSamplingTests
{
    private const ulong Generation = 1_700_000_000_000;

    /// <summary>A started node that knows <paramref name="alive"/> alive members and <paramref name="dead"/> dead ones.</summary>
    private static GossipNode NodeWith(int alive, int dead)
    {
        GossipNode node = NodeSecurityTests.NewNode(new Recorder(), keyring: null);
        node.Start(TimeSpan.Zero);
        TimeSpan now = TimeSpan.FromSeconds(1);
        for (int i = 0; i < alive + dead; i++)
        {
            string name = (i < alive ? "alive-" : "dead-") + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            NodeAddress address = NodeAddress.Parse($"10.0.{i / 200}.{(i % 200) + 2}:7946");
            node.OnPacket(address, PacketBuilder.EncodeSingle(new AliveMessage(name, address, 1, Generation, ProtocolVersions.Current, [])), now);
            if (i >= alive)
            {
                node.OnPacket(address, PacketBuilder.EncodeSingle(new DeadMessage(name, 1, Generation, "alive-0")), now);
            }
        }

        Assert.Equal(alive, node.Members.Count(m => !m.IsLocal && m.State == MemberState.Alive));
        Assert.Equal(dead, node.Members.Count(m => m.State == MemberState.Dead));
        return node;
    }

    private static Dictionary<string, int> Sample(GossipNode node, int count, Func<Member, bool> filter, int calls, int expected)
    {
        IModuleContext context = node;
        Dictionary<string, int> picks = new(StringComparer.Ordinal);
        Span<int> chosen = stackalloc int[count];
        for (int call = 0; call < calls; call++)
        {
            int found = context.SampleMembers(chosen, count, filter);
            Assert.True(found == expected, $"call {call}: {found} members sampled, {expected} pass the filter");
            Assert.Equal(found, chosen[..found].ToArray().Distinct().Count());
            foreach (int index in chosen[..found])
            {
                Member member = node.Members[index];
                Assert.False(member.IsLocal);
                Assert.True(filter(member));
                picks[member.Name] = picks.GetValueOrDefault(member.Name) + 1;
            }
        }

        return picks;
    }

    [Fact]
    public void With_fewer_members_passing_than_asked_every_one_of_them_is_chosen()
    {
        // Three members, one of them dead but still a gossip target: a gossip round of fanout 3 must
        // reach both others (before, 9 draws left the live one out in 2.6 % of the rounds, and a
        // broadcast's 2 transmissions could both go to the dead member).
        GossipNode node = NodeWith(alive: 1, dead: 1);
        Dictionary<string, int> picks = Sample(node, 3, m => m.State is MemberState.Alive or MemberState.Dead, calls: 2_000, expected: 2);
        Assert.Equal(2_000, picks["alive-0"]);
        Assert.Equal(2_000, picks["dead-1"]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Among_many_dead_members_the_few_alive_are_found_each_as_often(int count)
    {
        // 3 alive of 123 (3 × 123 draws find about 9 alive, so the count is needed only now and
        // then): each alive member is as likely as the others, and no dead one is picked.
        GossipNode node = NodeWith(alive: 3, dead: 120);
        const int Calls = 6_000;
        Dictionary<string, int> picks = Sample(node, count, m => m.State == MemberState.Alive, Calls, expected: count);
        Assert.Equal(3, picks.Count);
        double mean = (double)Calls * count / 3; // 2,000 or 4,000 a member
        Assert.All(picks, p => Assert.InRange(p.Value, mean * 0.94, mean * 1.06));
    }

    [Fact]
    public void In_a_large_alive_table_picks_are_uniform_and_none_passes_that_the_filter_refuses()
    {
        GossipNode node = NodeWith(alive: 40, dead: 10);
        const int Calls = 8_000;
        Dictionary<string, int> picks = Sample(node, 3, m => m.State == MemberState.Alive, Calls, expected: 3);
        Assert.Equal(40, picks.Count);
        double mean = Calls * 3 / 40.0; // 600 a member; one standard deviation ~24
        Assert.All(picks, p => Assert.InRange(p.Value, mean * 0.85, mean * 1.15));
    }
}
