using Rumor.Core.AntiEntropy;
using Rumor.Core.Randomness;

namespace Rumor.Core.Tests.AntiEntropy;

/// <summary>
/// The replicated state's name order (<see cref="SlotOrder"/>): 2-byte elements until a slot number
/// reaches 65,535, 4 after; every element is checked against a plain list after every operation.
/// </summary>
public sealed class SlotOrderTests
{
    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void Inserts_removals_and_writes_match_a_list_on_both_sides_of_65535(ulong seed)
    {
        Xoshiro256StarStar random = new(seed);
        SlotOrder order = new();
        List<int> model = [];
        bool everWide = false;
        for (int step = 0; step < 4000; step++)
        {
            // Small slot numbers at first; from step 2,000 on, a few at and beyond 65,534 widen the list.
            int slot = step >= 2000 && random.NextInt(8) == 0 ? 65534 + random.NextInt(3) : random.NextInt(1000);
            int op = model.Count == 0 ? 0 : random.NextInt(4);
            everWide |= op != 2 && slot >= 65535;
            if (op <= 1)
            {
                int at = random.NextInt(model.Count + 1);
                order.Insert(at, slot);
                model.Insert(at, slot);
            }
            else if (op == 2)
            {
                int at = random.NextInt(model.Count);
                order.RemoveAt(at);
                model.RemoveAt(at);
            }
            else
            {
                int at = random.NextInt(model.Count);
                order[at] = slot;
                model[at] = slot;
            }

            Assert.Equal(model.Count, order.Count);
            for (int i = 0; i < model.Count; i++)
            {
                Assert.True(model[i] == order[i], $"seed {seed}, step {step}: element {i} is {order[i]}, the list has {model[i]}");
            }

            Assert.Equal(everWide ? 4 : 2, order.ElementBytes);
        }

        Assert.Equal(4, order.ElementBytes);
    }

    [Fact]
    public void Stays_at_two_bytes_below_65535_and_rejects_bad_arguments()
    {
        SlotOrder order = new();
        order.Insert(0, 65534);
        order.Insert(0, 0);
        Assert.Equal(2, order.ElementBytes);
        Assert.Equal([0, 65534], new[] { order[0], order[1] });
        Assert.Throws<ArgumentOutOfRangeException>(() => order.Insert(3, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => order.Insert(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => order.RemoveAt(2));
        order[1] = 65535;
        Assert.Equal(4, order.ElementBytes);
        Assert.Equal([0, 65535], new[] { order[0], order[1] });
    }
}
