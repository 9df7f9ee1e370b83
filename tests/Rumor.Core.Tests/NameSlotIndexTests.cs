using Rumor.Core.Membership;
using Rumor.Core.Randomness;

namespace Rumor.Core.Tests;

/// <summary>
/// The shared name index (<see cref="NameSlotIndex"/>, behind <see cref="MemberIndex"/> and the
/// coordinate rows) in small tables, where probe chains collide often: every lookup is checked
/// after every operation, against the owner's own array.
/// </summary>
public sealed class NameSlotIndexTests
{
    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    [InlineData(4UL)]
    public void Every_name_is_found_at_its_slot_after_every_add_swap_remove_by_slot_or_name_and_rebuild_in_small_tables(ulong seed)
    {
        Xoshiro256StarStar random = new(seed);
        List<string> owner = [];
        NameSlotIndex index = new();
        int nextName = 0;

        for (int step = 0; step < 20_000; step++)
        {
            int op = random.NextInt(100);
            if (owner.Count < 2 || (op < 40 && owner.Count < 7))
            {
                owner.Add(string.Concat("n", (nextName++).ToString(System.Globalization.CultureInfo.InvariantCulture)));
                index.Add(owner.Count - 1, new Names(owner));
            }
            else if (op < 60)
            {
                // Remove by swapping with the last, as the node's member list does.
                int victim = random.NextInt(owner.Count);
                int last = owner.Count - 1;
                Swap(owner, index, victim, last);
                if (op < 50)
                {
                    index.Remove(owner[last], last, new Names(owner));
                }
                else
                {
                    // By name alone, as the coordinate rows remove: the slot comes back.
                    Assert.Equal(last, index.Remove(new string(owner[last].AsSpan()), new Names(owner)));
                }

                owner.RemoveAt(last);
            }
            else if (op < 97)
            {
                Swap(owner, index, random.NextInt(owner.Count), random.NextInt(owner.Count));
            }
            else
            {
                random.Shuffle(owner);
                index.Rebuild(owner.Count, new Names(owner));
            }

            Assert.Equal(owner.Count, index.Count);
            for (int slot = 0; slot < owner.Count; slot++)
            {
                Assert.True(index.Find(new string(owner[slot].AsSpan()), new Names(owner)) == slot, $"seed {seed}, step {step}: '{owner[slot]}' not found at slot {slot}");
            }

            Assert.Equal(-1, index.Find("absent", new Names(owner)));
            Assert.Equal(-1, index.Remove("absent", new Names(owner)));
        }
    }

    private static void Swap(List<string> owner, NameSlotIndex index, int i, int j)
    {
        if (i == j)
        {
            return;
        }

        (owner[i], owner[j]) = (owner[j], owner[i]);
        index.Swapped(owner[i], i, owner[j], j);
    }

    private readonly struct Names(List<string> owner) : ISlotNames
    {
        public string NameAt(int slot) => owner[slot];
    }
}
