using Rumor.Core.FailureDetection;

namespace Rumor.Core.Tests.FailureDetection;

/// <summary>The per-node probe pool keeps each member's last records, oldest first, exactly, and reuses released slots.</summary>
public sealed class ProbeHistoryTests
{
    private static ProbeRecord Record(int i) => new(
        TimeSpan.FromMilliseconds(1000 * i + 1),
        (ProbeOutcome)(i % 4),
        i % 3 == 0 ? null : TimeSpan.FromTicks(1234 + i),
        (byte)(i % 5),
        (byte)(i % 2));

    [Theory]
    [InlineData(1, 5)]
    [InlineData(3, 2)]
    [InlineData(3, 3)]
    [InlineData(3, 10)]
    [InlineData(8, 4)]
    [InlineData(8, 8)]
    [InlineData(8, 21)]
    public void Keeps_the_last_records_in_order(int capacity, int added)
    {
        ProbeHistoryStore store = new(capacity);
        ProbeChain chain = default;
        for (int i = 0; i < added; i++)
        {
            store.Add(ref chain, Record(i));
        }

        ProbeRecord[] expected = [.. Enumerable.Range(Math.Max(0, added - capacity), Math.Min(added, capacity)).Select(Record)];
        Assert.Equal(expected, store.ToArray(chain));
        Assert.Equal(expected.Length, store.InUse);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(8, 42)]
    public void Interleaved_chains_stay_apart_and_released_slots_are_reused(int capacity, int seed)
    {
        // A model (one list per chain) against the pool, under random adds and releases.
        Random random = new(seed);
        ProbeHistoryStore store = new(capacity);
        ProbeChain[] chains = new ProbeChain[5];
        List<ProbeRecord>[] model = [.. Enumerable.Range(0, chains.Length).Select(_ => new List<ProbeRecord>())];
        int maxInUse = 0;
        for (int step = 0; step < 2000; step++)
        {
            int c = random.Next(chains.Length);
            if (random.Next(10) == 0)
            {
                store.Release(ref chains[c]);
                model[c].Clear();
            }
            else
            {
                ProbeRecord record = Record(step);
                store.Add(ref chains[c], record);
                model[c].Add(record);
                if (model[c].Count > capacity)
                {
                    model[c].RemoveAt(0);
                }
            }

            for (int i = 0; i < chains.Length; i++)
            {
                Assert.True(model[i].SequenceEqual(store.ToArray(chains[i])), $"seed {seed}, step {step}, chain {i}");
            }

            Assert.Equal(model.Sum(m => m.Count), store.InUse);
            maxInUse = Math.Max(maxInUse, store.InUse);
        }

        // Never more slots taken than were in use at once: released ones went back to the pool.
        Assert.Equal(maxInUse, store.HighWater);
        Assert.True(maxInUse <= chains.Length * capacity, $"seed {seed}: {maxInUse} slots in use");
    }
}
