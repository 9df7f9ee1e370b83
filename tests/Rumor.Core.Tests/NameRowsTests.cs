using Rumor.Core.Coordinates;

namespace Rumor.Core.Tests;

/// <summary>The flat row table behind coordinates and latency windows keeps each name's row through growth, reuse and removal.</summary>
public sealed class NameRowsTests
{
    [Fact]
    public void Rows_keep_their_values_through_growth_and_reuse_and_start_zeroed()
    {
        NameRows<double> rows = new(3);
        Dictionary<string, double> model = [];
        Random random = new(7);
        for (int step = 0; step < 20000; step++)
        {
            string name = $"m{random.Next(step < 10000 ? 300 : 40)}"; // grow past several rehashes, then shrink to few
            if (random.Next(4) == 0)
            {
                rows.Remove(name);
                model.Remove(name);
            }
            else
            {
                bool had = rows.TryGet(name, out _);
                Span<double> row = rows.Row(rows.GetOrAdd(name));
                Assert.Equal(model.TryGetValue(name, out double v) ? [v, v + 1, v + 2] : [0.0, 0.0, 0.0], row.ToArray());
                Assert.Equal(had, model.ContainsKey(name));
                double value = step;
                row[0] = value;
                row[1] = value + 1;
                row[2] = value + 2;
                model[name] = value;
            }

            Assert.Equal(model.Count, rows.Count);
            Assert.Equal(model.Keys.Order(), rows.Names.Order());
        }

        foreach ((string name, double v) in model)
        {
            Assert.True(rows.TryGet(name, out int slot));
            Assert.Equal([v, v + 1, v + 2], rows.Row(slot).ToArray());
        }
    }

    [Fact]
    public void Rows_of_ints_keep_their_values()
    {
        NameRows<int> ints = new(4);
        for (int i = 0; i < 1000; i++)
        {
            Span<int> row = ints.Row(ints.GetOrAdd($"m{i}"));
            row[0] = i;
            row[3] = -i;
        }

        for (int i = 0; i < 1000; i++)
        {
            Assert.True(ints.TryGet($"m{i}", out int slot));
            Assert.Equal([i, 0, 0, -i], ints.Row(slot).ToArray());
        }

        Assert.Equal(1000, ints.Count);
    }

    [Fact]
    public void A_row_stays_where_it_is_as_the_table_grows()
    {
        // Rows sit in chunks, so once the first chunk is full size growing copies nothing: a row taken
        // before hundreds of adds is still the row the table reads (a flat array grown by copying left
        // it behind).
        NameRows<double> rows = new(13);
        for (int i = 0; i < NameRows<double>.ChunkRows; i++)
        {
            rows.Row(rows.GetOrAdd($"early{i}"))[12] = i;
        }

        Assert.True(rows.TryGet("early0", out int early));
        Span<double> inFirstChunk = rows.Row(early);
        Span<double> later = rows.Row(rows.GetOrAdd("later"));
        for (int i = 0; i < 500; i++)
        {
            rows.Row(rows.GetOrAdd($"m{i}"))[12] = i;
        }

        inFirstChunk[0] = 41;
        later[0] = 42;
        Assert.Equal(41, rows.Row(early)[0]);
        Assert.True(rows.TryGet("later", out int slot));
        Assert.Equal(42, rows.Row(slot)[0]);
        Assert.Equal(NameRows<double>.ChunkRows + 501, rows.Count);
    }

    [Fact]
    public void Chunked_rows_grow_the_first_chunk_as_an_array_then_add_one_chunk_at_a_time_keeping_every_value()
    {
        ChunkedRows<long> rows = new(chunkShift: 3, width: 2);
        Assert.Equal(0, rows.Capacity);
        for (int row = 0; row < 100; row++)
        {
            rows.EnsureCapacity(row + 1);
            Assert.Equal(row < 4 ? 4 : ((row / 8) + 1) * 8, rows.Capacity); // 4, then 8 (a quarter more, at least 4), then chunks of 8
            rows.Row(row)[0] = row;
            rows.Row(row)[1] = -row;
        }

        for (int row = 0; row < 100; row++)
        {
            Assert.Equal([row, -row], rows.Row(row).ToArray());
            Assert.Equal(row, rows[row]);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => new ChunkedRows<int>(chunkShift: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ChunkedRows<int>(chunkShift: 3, width: 0));
    }
}
