namespace Rumor.Core.Coordinates;

/// <summary>
/// Fixed-width rows of doubles keyed by member name, all in one flat array per table: no object per
/// row. The coordinates module keeps one coordinate per member it has measured, and the Vivaldi
/// client one latency window per peer; a simulated cluster of N nodes holds up to N² of each, so a
/// row costs its doubles plus one name-table entry instead of a coordinate object, its vector, a
/// list and its array (about 290 bytes per probed member before, measured by the bench's scale
/// experiment). A removed row's slot is reused by the next added one.
/// </summary>
internal sealed class DoubleRows
{
    private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal);
    private readonly List<int> _free = [];
    private double[] _data;
    private int _used;

    /// <summary>A table of rows <paramref name="width"/> doubles wide.</summary>
    public DoubleRows(int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        Width = width;
        _data = new double[width * 4];
    }

    /// <summary>Doubles per row.</summary>
    public int Width { get; }

    /// <summary>Rows held.</summary>
    public int Count => _slots.Count;

    /// <summary>The names that have rows, in no particular order.</summary>
    public IEnumerable<string> Names => _slots.Keys;

    /// <summary>The row of <paramref name="name"/>, if it has one.</summary>
    public bool TryGet(string name, out int slot) => _slots.TryGetValue(name, out slot);

    /// <summary>The row at <paramref name="slot"/> (valid until the next add or remove).</summary>
    public Span<double> Row(int slot) => _data.AsSpan(slot * Width, Width);

    /// <summary>The row of <paramref name="name"/>, added zeroed when it had none.</summary>
    public int GetOrAdd(string name)
    {
        if (_slots.TryGetValue(name, out int slot))
        {
            return slot;
        }

        if (_free.Count > 0)
        {
            slot = _free[^1];
            _free.RemoveAt(_free.Count - 1);
        }
        else
        {
            slot = _used++;
            if (_used * Width > _data.Length)
            {
                Array.Resize(ref _data, _data.Length * 2);
            }
        }

        Row(slot).Clear();
        _slots.Add(name, slot);
        return slot;
    }

    /// <summary>Drops the row of <paramref name="name"/>; its slot is reused.</summary>
    public void Remove(string name)
    {
        if (_slots.Remove(name, out int slot))
        {
            _free.Add(slot);
        }
    }
}
