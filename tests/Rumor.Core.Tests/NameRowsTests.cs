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
}
