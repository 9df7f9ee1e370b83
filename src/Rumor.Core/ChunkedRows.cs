namespace Rumor.Core;

/// <summary>
/// Fixed-width rows in chunks of 2^shift rows. The first chunk grows as a flat array does (by a
/// quarter, <see cref="ArrayGrowth"/>) until it is full size, so a small table costs what an array
/// would; after that a row never moves, and growing allocates one chunk and copies nothing but the
/// chunk references. For the tables a node fills member by member long after its join (a coordinate
/// row and probe records per member it has probed): grown as one array by a quarter at a time, every
/// row was copied about five times over a table's growth — at N = 1,000, 78 % of what a steady
/// cluster allocated was the coordinate tables' copies, and a node's table of 1,000 rows (104 KB)
/// sat on the large-object heap. The waste is at most one chunk's unused rows plus an array header
/// per chunk (per table, not per member).
/// </summary>
/// <typeparam name="T">The row's element type.</typeparam>
internal sealed class ChunkedRows<T>
{
    private readonly int _shift;
    private readonly int _mask;
    private T[][] _chunks = [];
    private int _chunkCount;
    private int _firstRows; // rows the first chunk holds: below 2^shift only while it still grows

    /// <summary>Rows of <paramref name="width"/> elements, 2^<paramref name="chunkShift"/> rows a chunk.</summary>
    public ChunkedRows(int chunkShift, int width = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chunkShift);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkShift, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        _shift = chunkShift;
        _mask = (1 << chunkShift) - 1;
        Width = width;
    }

    /// <summary>Elements per row.</summary>
    public int Width { get; }

    /// <summary>Rows the allocated chunks hold.</summary>
    public int Capacity => _chunkCount == 0 ? 0 : _firstRows + ((_chunkCount - 1) << _shift);

    /// <summary>Element 0 of row <paramref name="row"/> (for rows one element wide).</summary>
    public ref T this[int row] => ref _chunks[row >> _shift][(row & _mask) * Width];

    /// <summary>Row <paramref name="row"/>, below <see cref="Capacity"/>; once the first chunk is full size the span stays valid as rows are added.</summary>
    public Span<T> Row(int row) => _chunks[row >> _shift].AsSpan((row & _mask) * Width, Width);

    /// <summary>Allocates chunks until <paramref name="rows"/> rows fit.</summary>
    public void EnsureCapacity(int rows)
    {
        int chunkRows = 1 << _shift;
        while (Capacity < rows)
        {
            if (_chunkCount == 1 && _firstRows < chunkRows)
            {
                // The first chunk still grows as an array would (a small table stays small).
                _firstRows = Math.Min(chunkRows, Math.Max(rows, ArrayGrowth.Next(_firstRows)));
                Array.Resize(ref _chunks[0], _firstRows * Width);
                continue;
            }

            if (_chunkCount == _chunks.Length)
            {
                Array.Resize(ref _chunks, Math.Max(4, _chunks.Length * 2));
            }

            if (_chunkCount == 0)
            {
                _firstRows = Math.Min(chunkRows, Math.Max(rows, 4));
                _chunks[_chunkCount++] = new T[_firstRows * Width];
            }
            else
            {
                _chunks[_chunkCount++] = new T[chunkRows * Width];
            }
        }
    }
}
