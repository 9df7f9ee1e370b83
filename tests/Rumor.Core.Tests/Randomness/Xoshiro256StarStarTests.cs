using Rumor.Core.Randomness;

namespace Rumor.Core.Tests.Randomness;

public class Xoshiro256StarStarTests
{
    [Fact]
    public void First_outputs_for_seed_42_are_pinned()
    {
        // Computed once with an independent implementation of SplitMix64 seeding + xoshiro256**
        // (Blackman & Vigna's reference algorithm). Pins the generator across .NET versions: a
        // change here silently changes every simulation replay.
        Xoshiro256StarStar random = new(42);
        Assert.Equal(0x15780B2E0C2EC716UL, random.NextUInt64());
        Assert.Equal(0x6104D9866D113A7EUL, random.NextUInt64());
        Assert.Equal(0xAE17533239E499A1UL, random.NextUInt64());
    }

    [Fact]
    public void First_outputs_for_seed_0_are_pinned()
    {
        Xoshiro256StarStar random = new(0);
        Assert.Equal(0x99EC5F36CB75F2B4UL, random.NextUInt64());
        Assert.Equal(0xBF6E1F784956452AUL, random.NextUInt64());
        Assert.Equal(0x1A5F849D4933E6E0UL, random.NextUInt64());
    }

    [Fact]
    public void SplitMix64_matches_the_published_sequence_for_state_0()
    {
        ulong state = 0;
        Assert.Equal(0xE220A8397B1DCDAFUL, Xoshiro256StarStar.SplitMix64(ref state));
        Assert.Equal(0x6E789E6AA1B965F4UL, Xoshiro256StarStar.SplitMix64(ref state));
        Assert.Equal(0x06C45D188009454FUL, Xoshiro256StarStar.SplitMix64(ref state));
    }

    [Fact]
    public void Same_seed_gives_the_same_sequence_and_different_seeds_differ()
    {
        Xoshiro256StarStar a = new(123456789);
        Xoshiro256StarStar b = new(123456789);
        Xoshiro256StarStar c = new(123456790);
        int differences = 0;
        for (int i = 0; i < 1000; i++)
        {
            ulong x = a.NextUInt64();
            Assert.Equal(x, b.NextUInt64());
            if (x != c.NextUInt64())
            {
                differences++;
            }
        }

        Assert.Equal(1000, differences);
    }

    [Fact]
    public void Mixed_draws_replay_identically()
    {
        Xoshiro256StarStar a = new(9);
        Xoshiro256StarStar b = new(9);
        for (int i = 1; i < 500; i++)
        {
            Assert.Equal(a.NextInt(i), b.NextInt(i));
            Assert.Equal(a.NextDouble(), b.NextDouble());
        }

        Assert.Equal(a.Fork().NextUInt64(), b.Fork().NextUInt64());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(1000)]
    [InlineData(int.MaxValue)]
    public void NextInt_stays_in_range(int maxExclusive)
    {
        Xoshiro256StarStar random = new(1);
        for (int i = 0; i < 10_000; i++)
        {
            int value = random.NextInt(maxExclusive);
            Assert.InRange(value, 0, maxExclusive - 1);
        }
    }

    [Fact]
    public void NextInt_rejects_a_non_positive_bound()
    {
        Xoshiro256StarStar random = new(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => random.NextInt(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => random.NextInt(-5));
    }

    [Fact]
    public void NextInt_of_10_is_roughly_uniform()
    {
        // Chi-square with 9 degrees of freedom: p = 0.001 at 27.9. The bound is loose on purpose; the
        // seed is fixed, so the test is deterministic, yet a biased or broken reduction fails it.
        const int Draws = 100_000;
        const int Buckets = 10;
        int[] counts = new int[Buckets];
        Xoshiro256StarStar random = new(2024);
        for (int i = 0; i < Draws; i++)
        {
            counts[random.NextInt(Buckets)]++;
        }

        double expected = Draws / (double)Buckets;
        double chiSquare = counts.Sum(c => (c - expected) * (c - expected) / expected);
        Assert.True(chiSquare < 30, $"chi-square {chiSquare:F1}, counts {string.Join(", ", counts)}");
    }

    [Fact]
    public void NextInt_of_3_uses_all_values_evenly_even_though_2_pow_64_is_not_divisible_by_3()
    {
        int[] counts = new int[3];
        Xoshiro256StarStar random = new(77);
        for (int i = 0; i < 30_000; i++)
        {
            counts[random.NextInt(3)]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
    }

    [Fact]
    public void NextDouble_is_in_the_unit_interval_with_mean_one_half()
    {
        Xoshiro256StarStar random = new(5);
        double sum = 0;
        for (int i = 0; i < 100_000; i++)
        {
            double x = random.NextDouble();
            Assert.InRange(x, 0.0, 0.9999999999999999);
            sum += x;
        }

        Assert.InRange(sum / 100_000, 0.49, 0.51);
    }

    [Fact]
    public void Fork_gives_an_independent_stream()
    {
        Xoshiro256StarStar parent = new(11);
        Xoshiro256StarStar child = parent.Fork();
        HashSet<ulong> parentValues = [];
        for (int i = 0; i < 100; i++)
        {
            parentValues.Add(parent.NextUInt64());
        }

        for (int i = 0; i < 100; i++)
        {
            Assert.DoesNotContain(child.NextUInt64(), parentValues);
        }
    }
}
