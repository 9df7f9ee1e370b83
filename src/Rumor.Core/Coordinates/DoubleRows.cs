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
    // The name index is hand-written open addressing (linear probing, backward-shift deletion) over
    // slot numbers: 4 bytes a bucket at a load of at most one half, plus the name's reference in
    // _names, about 16 bytes a row against ~46 for a Dictionary<string, int> entry, bucket and slack
    // (measured: the two tables' dictionaries were 93 bytes per member record at N = 1,000 once
    // every member had been probed). MemberIndex does the same for the member list.
    private readonly List<int> _free = [];
    private string?[] _names = new string?[4]; // by slot; null: free
    private int[] _buckets = new int[8]; // slot + 1; 0: empty
    private double[] _data;
    private int _used;
    private int _count;

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
    public int Count => _count;

    /// <summary>The names that have rows, in no particular order.</summary>
    public IEnumerable<string> Names => _names.Take(_used).Where(n => n is not null)!;

    /// <summary>The row of <paramref name="name"/>, if it has one.</summary>
    public bool TryGet(string name, out int slot)
    {
        int bucket = Find(name);
        slot = bucket < 0 ? -1 : _buckets[bucket] - 1;
        return bucket >= 0;
    }

    /// <summary>The row at <paramref name="slot"/> (valid until the next add or remove).</summary>
    public Span<double> Row(int slot) => _data.AsSpan(slot * Width, Width);

    /// <summary>The row of <paramref name="name"/>, added zeroed when it had none.</summary>
    public int GetOrAdd(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (TryGet(name, out int slot))
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

            if (_used > _names.Length)
            {
                Array.Resize(ref _names, _names.Length * 2);
            }
        }

        Row(slot).Clear();
        _names[slot] = name;
        _count++;
        if (_count * 2 > _buckets.Length)
        {
            Rehash(_buckets.Length * 2);
        }
        else
        {
            Place(slot);
        }

        return slot;
    }

    /// <summary>Drops the row of <paramref name="name"/>; its slot is reused.</summary>
    public void Remove(string name)
    {
        int hole = Find(name);
        if (hole < 0)
        {
            return;
        }

        int slot = _buckets[hole] - 1;
        _names[slot] = null;
        _free.Add(slot);
        _count--;

        // Backward-shift deletion: move each later entry of the run whose home is not in (hole, j] into the hole.
        int mask = _buckets.Length - 1;
        _buckets[hole] = 0;
        for (int j = (hole + 1) & mask; _buckets[j] != 0; j = (j + 1) & mask)
        {
            int home = Home(_names[_buckets[j] - 1]!);
            bool homeInRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
            if (!homeInRange)
            {
                _buckets[hole] = _buckets[j];
                _buckets[j] = 0;
                hole = j;
            }
        }
    }

    private int Home(string name) => StringComparer.Ordinal.GetHashCode(name) & (_buckets.Length - 1); // randomised per process: only where a name sits, never an order anyone reads

    /// <summary>The bucket holding <paramref name="name"/>, or -1.</summary>
    private int Find(string name)
    {
        int mask = _buckets.Length - 1;
        for (int i = Home(name); ; i = (i + 1) & mask)
        {
            int entry = _buckets[i];
            if (entry == 0)
            {
                return -1;
            }

            if (string.Equals(_names[entry - 1], name, StringComparison.Ordinal))
            {
                return i;
            }
        }
    }

    private void Place(int slot)
    {
        int mask = _buckets.Length - 1;
        int i = Home(_names[slot]!);
        while (_buckets[i] != 0)
        {
            i = (i + 1) & mask;
        }

        _buckets[i] = slot + 1;
    }

    private void Rehash(int length)
    {
        _buckets = new int[length];
        for (int slot = 0; slot < _used; slot++)
        {
            if (_names[slot] is not null)
            {
                Place(slot);
            }
        }
    }
}
