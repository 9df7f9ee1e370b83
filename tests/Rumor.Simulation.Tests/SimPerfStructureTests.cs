using Rumor.Core;
using Rumor.Core.Randomness;

namespace Rumor.Simulation.Tests;

/// <summary>
/// The simulator's allocation-saving structures against simple models: the datagram buffer pool
/// (never hands out a buffer still in use, reuses returned ones, sizes right) and the trace's ring
/// of recent records (the same text, oldest first, as a queue of formatted strings).
/// </summary>
public sealed class SimPerfStructureTests
{
    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    [InlineData(4UL)]
    public void The_packet_buffer_pool_matches_a_model_of_free_lists(ulong seed)
    {
        Xoshiro256StarStar random = new(seed);
        PacketBufferPool pool = new();
        HashSet<byte[]> outstanding = new(ReferenceEqualityComparer.Instance);
        List<byte[]> outstandingList = [];
        Dictionary<int, int> modelFree = []; // buffer length -> free buffers the model expects
        long modelAllocated = 0;
        for (int step = 0; step < 20_000; step++)
        {
            if (outstandingList.Count > 0 && random.NextDouble() < 0.5)
            {
                int i = random.NextInt(outstandingList.Count);
                byte[] back = outstandingList[i];
                outstandingList[i] = outstandingList[^1];
                outstandingList.RemoveAt(outstandingList.Count - 1);
                outstanding.Remove(back);
                pool.Return(back);
                if (back.Length <= 1 << 16)
                {
                    modelFree[back.Length] = Math.Min(PacketBufferPool.MaxFreePerSize, modelFree.GetValueOrDefault(back.Length) + 1);
                }

                continue;
            }

            int length = random.NextDouble() < 0.02 ? 65_536 + random.NextInt(1000) : random.NextInt(3000);
            byte[] buffer = pool.Rent(length);
            int expected = length > 1 << 16 ? length : Math.Max(64, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, length)));
            Assert.Equal(expected, buffer.Length);
            Assert.True(outstanding.Add(buffer), $"step {step}: a buffer still in use was handed out again");
            outstandingList.Add(buffer);
            if (modelFree.GetValueOrDefault(buffer.Length) > 0)
            {
                modelFree[buffer.Length]--;
            }
            else
            {
                modelAllocated++;
            }

            Assert.Equal(modelAllocated, pool.Allocated);
        }
    }

    [Theory]
    [InlineData(1UL, 1)]
    [InlineData(2UL, 7)]
    [InlineData(3UL, 200)]
    public void The_trace_keeps_the_same_recent_text_as_a_queue_of_strings(ulong seed, int keep)
    {
        Xoshiro256StarStar random = new(seed);
        SimTrace trace = new(keep);
        Queue<string> model = new();
        for (int step = 0; step < 1000; step++)
        {
            TimeSpan at = TimeSpan.FromTicks(random.NextInt(1_000_000_000));
            int from = random.NextInt(500);
            string text;
            if (random.NextDouble() < 0.3)
            {
                string what = $"event {random.NextInt(100)}";
                trace.RecordEvent(at, from, what);
                text = $"{at.TotalSeconds,10:0.000000}s {TraceKind.Event,-11} node {from}: {what}";
            }
            else
            {
                TraceKind kind = (TraceKind)(1 + random.NextInt(3));
                NodeAddress to = new(0x7F000000u + (uint)random.NextInt(1000), 7946);
                byte[] bytes = new byte[random.NextInt(100)];
                for (int b = 0; b < bytes.Length; b++)
                {
                    bytes[b] = (byte)random.NextInt(256);
                }

                trace.Record(kind, at, from, to, bytes);
                text = $"{at.TotalSeconds,10:0.000000}s {kind,-11} {from}->{to} {bytes.Length}B crc={Rumor.Core.Wire.Crc32C.Compute(bytes):x8}";
            }

            if (model.Count == keep)
            {
                model.Dequeue();
            }

            model.Enqueue(text);
            Assert.Equal(model, trace.Recent);
        }
    }
}
