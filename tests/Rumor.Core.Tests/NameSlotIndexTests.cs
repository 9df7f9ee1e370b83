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

    [Theory]
    [InlineData(5UL)]
    [InlineData(6UL)]
    public void Buckets_are_two_bytes_until_a_slot_number_reaches_65535_and_every_name_is_found_on_both_sides(ulong seed)
    {
        // A sparse owner (slots as a table with free rows has them): names at random slot numbers
        // on both sides of the 2-byte bound, added and removed at random, every lookup checked
        // against the model after every step.
        Xoshiro256StarStar random = new(seed);
        Dictionary<int, string> owner = [];
        NameSlotIndex index = new();
        for (int slot = 0; slot < 200; slot++)
        {
            owner[slot] = $"low{slot}";
            index.Add(slot, new Sparse(owner));
        }

        owner[ushort.MaxValue - 1] = "edge";
        index.Add(ushort.MaxValue - 1, new Sparse(owner)); // slot + 1 = 65,535: still fits 2 bytes
        Assert.Equal(2, index.BucketBytes);
        Assert.Equal(ushort.MaxValue - 1, index.Find("edge", new Sparse(owner)));

        for (int step = 0; step < 3_000; step++)
        {
            if (owner.Count > 20 && random.NextInt(3) == 0)
            {
                int victim = owner.Keys.ElementAt(random.NextInt(owner.Count));
                index.Remove(owner[victim], victim, new Sparse(owner));
                owner.Remove(victim);
            }
            else
            {
                int slot = step < 1_000 ? random.NextInt(ushort.MaxValue - 1) : random.NextInt(70_000);
                if (!owner.ContainsKey(slot))
                {
                    owner[slot] = $"s{slot}";
                    index.Add(slot, new Sparse(owner));
                }
            }

            bool wide = owner.Keys.Any(slot => slot >= ushort.MaxValue) || index.BucketBytes == 4;
            Assert.Equal(wide ? 4 : 2, index.BucketBytes);
            Assert.Equal(owner.Count, index.Count);
            if (step % 50 == 0 || step > 2_950)
            {
                foreach ((int slot, string name) in owner)
                {
                    Assert.True(index.Find(new string(name.AsSpan()), new Sparse(owner)) == slot, $"seed {seed}, step {step}: '{name}' not found at slot {slot}");
                }
            }
        }

        Assert.Equal(4, index.BucketBytes); // 2,000 draws below 70,000 reached past 65,534
        index.Clear();
        Assert.Equal(2, index.BucketBytes);

        // A rebuild of 70,000 slots widens at once.
        List<string> many = [.. Enumerable.Range(0, 70_000).Select(i => $"m{i}")];
        index.Rebuild(many.Count, new Names(many));
        Assert.Equal(4, index.BucketBytes);
        Assert.Equal(69_999, index.Find("m69999", new Names(many)));
        Assert.Equal(12_345, index.Find("m12345", new Names(many)));
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

    private readonly struct Sparse(Dictionary<int, string> owner) : ISlotNames
    {
        public string NameAt(int slot) => owner[slot];
    }
}
