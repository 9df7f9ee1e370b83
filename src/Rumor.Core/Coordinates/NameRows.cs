using Rumor.Core.Membership;

namespace Rumor.Core.Coordinates;

/// <summary>
/// Fixed-width rows of values (doubles for coordinates, ints for latency samples in ticks, the state
/// module's peer checksums) keyed by member name, in chunked arrays per table: no object per
/// row. The coordinates module keeps one coordinate per member it has measured with the Vivaldi
/// client's latency window for that peer at the row's end (a client on its own keeps its windows in
/// a table of their own); a simulated cluster of N nodes holds up to N² of each, so a
/// row costs its values plus one name-table entry instead of a coordinate object, its vector, a
/// list and its array (about 290 bytes per probed member before, measured by the bench's scale
/// experiment). A removed row's slot is reused by the next added one. Rows sit in chunks of
/// <see cref="ChunkRows"/> (<see cref="ChunkedRows{T}"/>): a table grows as its node probes members
/// through the whole of a long run, and one flat array grown by a quarter copied every row about
/// five times on the way.
/// </summary>
internal sealed class NameRows<T>
    where T : unmanaged
{
    // The name index is a NameSlotIndex over slot numbers (2 bytes a bucket at a load of at most
    // two thirds), plus the name's reference in _names: about 12 bytes a row against ~46 for a
    // Dictionary<string, int> entry, bucket and slack (measured: the two tables' dictionaries were
    // 93 bytes per member record at N = 1,000 once every member had been probed).
    // Rows in chunks of 16 (a coordinate row is 13 doubles: 1.7 KB a chunk), names in chunks of 64
    // (512 bytes), each first chunk growing as an array would. Measured at N = 1,000 (scale, keys 1):
    // with both in chunks of 16, 6 bytes a member record more than the flat arrays after 3,000
    // virtual s (an array header per chunk: a name chunk of 128 bytes carried 24); with both in
    // chunks of 64, a node that had probed a few dozen members held up to a chunk of empty rows.
    private const int ChunkShift = 4;
    private const int NameChunkShift = 6;

    private readonly List<int> _free = [];
    private readonly NameSlotIndex _index = new();
    private readonly ChunkedRows<string?> _names = new(NameChunkShift); // by slot; null: free
    private readonly ChunkedRows<T> _data;
    private int _used;

    /// <summary>A table of rows <paramref name="width"/> values wide.</summary>
    public NameRows(int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        Width = width;
        _data = new ChunkedRows<T>(ChunkShift, width);
    }

    /// <summary>Rows a chunk holds: once the table holds this many, no row moves as rows are added.</summary>
    public const int ChunkRows = 1 << ChunkShift;

    /// <summary>Values per row.</summary>
    public int Width { get; }

    /// <summary>Rows held.</summary>
    public int Count => _index.Count;

    /// <summary>The names that have rows, in no particular order.</summary>
    public IEnumerable<string> Names
    {
        get
        {
            for (int slot = 0; slot < _used; slot++)
            {
                if (_names[slot] is { } name)
                {
                    yield return name;
                }
            }
        }
    }

    /// <summary>The row of <paramref name="name"/>, if it has one.</summary>
    public bool TryGet(string name, out int slot)
    {
        slot = _index.Find(name, new SlotNames(_names));
        return slot >= 0;
    }

    /// <summary>The row at <paramref name="slot"/> (valid until the next add or remove).</summary>
    public Span<T> Row(int slot) => _data.Row(slot);

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
            _data.EnsureCapacity(_used);
            _names.EnsureCapacity(_used);
        }

        Row(slot).Clear();
        _names[slot] = name;
        _index.Add(slot, new SlotNames(_names));
        return slot;
    }

    /// <summary>Drops the row of <paramref name="name"/>; its slot is reused.</summary>
    public void Remove(string name)
    {
        int slot = _index.Remove(name, new SlotNames(_names));
        if (slot < 0)
        {
            return;
        }

        _names[slot] = null;
        _free.Add(slot);
    }

    private readonly struct SlotNames(ChunkedRows<string?> names) : ISlotNames
    {
        public string NameAt(int slot) => names[slot]!;
    }
}
