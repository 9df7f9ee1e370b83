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

    [Fact]
    public void Records_older_than_the_window_behind_a_new_one_go_but_a_failure_keeps_the_answer_before_it()
    {
        ProbeHistoryStore store = new(8, TimeSpan.FromSeconds(10));
        ProbeChain chain = default;
        ProbeRecord At(double seconds, ProbeOutcome outcome = ProbeOutcome.AckedDirect) =>
            new(TimeSpan.FromSeconds(seconds), outcome, outcome == ProbeOutcome.Failed ? null : TimeSpan.FromMilliseconds(1), 0, 0);

        store.Add(ref chain, At(0));
        store.Add(ref chain, At(100)); // a direct ack 100 s later: it is the last answer, the old one goes
        Assert.Equal([At(100)], store.ToArray(chain));
        Assert.Equal(1, store.InUse);

        store.Add(ref chain, At(200, ProbeOutcome.Failed)); // a failure keeps the last answer before it, however old
        Assert.Equal([At(100), At(200, ProbeOutcome.Failed)], store.ToArray(chain));
        store.Add(ref chain, At(201)); // the failure is 1 s behind: kept; the answer before it is not
        Assert.Equal([At(200, ProbeOutcome.Failed), At(201)], store.ToArray(chain));

        store.Add(ref chain, At(205));
        store.Add(ref chain, At(210)); // 200 s is 10 s behind: exactly at the window, kept
        Assert.Equal([At(200, ProbeOutcome.Failed), At(201), At(205), At(210)], store.ToArray(chain));
        store.Add(ref chain, At(210.5));
        Assert.Equal([At(201), At(205), At(210), At(210.5)], store.ToArray(chain));
        Assert.Equal(4, store.InUse);

        // A failure after a long silence: the failed probe and the last answer before it.
        store.Add(ref chain, At(5000, ProbeOutcome.Failed));
        Assert.Equal([At(210.5), At(5000, ProbeOutcome.Failed)], store.ToArray(chain));
        Assert.Equal(2, store.InUse);

        // An answer only through a helper is not a clean one: it keeps the record before it too.
        store.Add(ref chain, At(9000, ProbeOutcome.AckedIndirect));
        Assert.Equal([At(5000, ProbeOutcome.Failed), At(9000, ProbeOutcome.AckedIndirect)], store.ToArray(chain));

        // A direct ack after a long silence starts the chain again.
        store.Add(ref chain, At(20_000));
        Assert.Equal([At(20_000)], store.ToArray(chain));
        Assert.Equal(1, store.InUse);
        Assert.Equal(4, store.HighWater); // dropped slots serve the new record: never more taken than held at once
    }

    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(2, 7, 0)]
    [InlineData(8, 42, 0)]
    [InlineData(8, 43, 3_000)]
    [InlineData(3, 44, 1_500)]
    [InlineData(8, 45, 20_000)]
    public void Interleaved_chains_stay_apart_and_released_slots_are_reused(int capacity, int seed, int windowMilliseconds)
    {
        // A model (one list per chain) against the pool, under random adds and releases; records one
        // second apart (Record), so a window of w ms keeps what is within w ms of a chain's newest.
        Random random = new(seed);
        TimeSpan window = TimeSpan.FromMilliseconds(windowMilliseconds);
        ProbeHistoryStore store = new(capacity, window);
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

                while (window > TimeSpan.Zero && model[c].Count > ProbeHistoryStore.KeptRegardlessOfAgeAfter(record.Outcome) && model[c][0].At < record.At - window)
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
