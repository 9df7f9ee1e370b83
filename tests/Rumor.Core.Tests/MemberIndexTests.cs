using Rumor.Core.Membership;
using Rumor.Core.Randomness;

namespace Rumor.Core.Tests;

/// <summary>
/// The node's name index (open addressing over list positions) against a dictionary oracle, through
/// the list operations the node performs: add, swap, remove by swapping with the last, shuffle.
/// </summary>
public sealed class MemberIndexTests
{
    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void Lookups_match_a_dictionary_through_adds_swaps_removals_and_shuffles(ulong seed)
    {
        Xoshiro256StarStar random = new(seed);
        List<Member> list = [];
        MemberIndex index = new(list);
        Dictionary<string, Member> oracle = new(StringComparer.Ordinal);
        int nextName = 0;

        void Swap(int i, int j)
        {
            if (i == j)
            {
                return;
            }

            (list[i], list[j]) = (list[j], list[i]);
            index.Swapped(list[i], i, list[j], j);
        }

        for (int step = 0; step < 20_000; step++)
        {
            int op = random.NextInt(100);
            if (op < 45 || list.Count == 0)
            {
                // Names built at runtime: equal strings that are not the same instance must still be found.
                Member member = new(string.Concat("node-", (nextName++).ToString(System.Globalization.CultureInfo.InvariantCulture)), new NodeAddress(0x0A000001, 7946), isLocal: false);
                list.Add(member);
                index.Add(list.Count - 1);
                oracle.Add(member.Name, member);
                Swap(list.Count - 1, random.NextInt(list.Count)); // a random place in the probe order, as the node does
            }
            else if (op < 80)
            {
                Member member = list[random.NextInt(list.Count)];
                int last = list.Count - 1;
                Swap(index.PositionOf(member.Name), last);
                index.Remove(member, last);
                list.RemoveAt(last);
                oracle.Remove(member.Name);
            }
            else if (op < 98)
            {
                Swap(random.NextInt(list.Count), random.NextInt(list.Count));
            }
            else
            {
                random.Shuffle(list);
                index.Rebuild();
            }

            Assert.Equal(oracle.Count, index.Count);
            if (step % 97 == 0)
            {
                foreach ((string name, Member member) in oracle)
                {
                    Assert.Same(member, index.Find(new string(name.AsSpan())));
                    Assert.Same(member, list[index.PositionOf(name)]);
                }

                for (int i = 0; i < 20; i++)
                {
                    Assert.Null(index.Find("absent-" + i));
                }
            }
        }

        Assert.True(nextName > 5000, "the run added too few members to grow the table several times");
    }
}
