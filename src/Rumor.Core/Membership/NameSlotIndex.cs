namespace Rumor.Core.Membership;

/// <summary>The names behind the slot numbers of a <see cref="NameSlotIndex"/>: its owner keeps them (a list of members, an array of names).</summary>
internal interface ISlotNames
{
    /// <summary>The name held at <paramref name="slot"/> (a slot the index holds, so never a free one).</summary>
    string NameAt(int slot);
}

/// <summary>
/// An index from name to slot number (a position in its owner's list or table): an open-addressing
/// hash table with linear probing and backward-shift deletion, 2 bytes a bucket (4 once a slot number
/// reaches 65,535) at a load of at most two thirds (one half until session 29: at N = 5,000 the table of 8,192 buckets then took
/// 16,384, 13 bytes a member; a hit probes 2 buckets on average at this load, a miss 5). A <c>Dictionary&lt;string, int&gt;</c> costs a 24-byte entry and a 4-byte bucket
/// per slot with prime capacities up to twice the count, and every node of a simulated cluster
/// holds tables of N names (the member list's index, the coordinate and latency rows), so the
/// dictionary form cost about 38 bytes per member record at N = 1,000 against about 8 here with
/// 4-byte buckets, 4 with 2-byte ones (issue 17, session 32).
/// <para>
/// Hand-written because no collection in the BCL or a package keeps the names outside the table
/// (the owner has them already) and stores only 2- or 4-byte slot numbers. The names come from the
/// owner through an <see cref="ISlotNames"/> struct, so each owner's lookups compile to
/// direct reads. Only lookups go through the hash, never an iteration, so the per-process string
/// hash seed changes no protocol decision.
/// </para>
/// </summary>
internal sealed class NameSlotIndex
{
    // The buckets hold slot + 1 (0: empty) in 2 bytes while every slot number added is below
    // 65,535 (_wide null): a table of N names then costs 2–6 bytes a name, not 4–12. The first
    // larger slot widens every bucket to 4 bytes for good (until Clear).
    private ushort[] _narrow = new ushort[8];
    private int[]? _wide;

    /// <summary>Names indexed.</summary>
    public int Count { get; private set; }

    /// <summary>The slot of <paramref name="name"/>, or -1.</summary>
    public int Find<TNames>(string name, TNames names)
        where TNames : struct, ISlotNames
    {
        int bucket = BucketOfName(name, names);
        return bucket < 0 ? -1 : At(bucket) - 1;
    }

    /// <summary>Indexes <paramref name="slot"/>, whose name (already held by the owner) must not be indexed yet.</summary>
    public void Add<TNames>(int slot, TNames names)
        where TNames : struct, ISlotNames
    {
        if (slot >= ushort.MaxValue && _wide is null)
        {
            _wide = new int[_narrow.Length];
            for (int i = 0; i < _narrow.Length; i++)
            {
                _wide[i] = _narrow[i];
            }

            _narrow = [];
        }

        if ((Count + 1) * 3 > Length * 2)
        {
            int length = Length;
            ushort[] oldNarrow = _narrow;
            int[]? oldWide = _wide;
            if (oldWide is null)
            {
                _narrow = new ushort[length * 2];
            }
            else
            {
                _wide = new int[length * 2];
            }

            for (int i = 0; i < length; i++)
            {
                int entry = oldWide is null ? oldNarrow[i] : oldWide[i];
                if (entry != 0)
                {
                    Place(names.NameAt(entry - 1), entry);
                }
            }
        }

        Place(names.NameAt(slot), slot + 1);
        Count++;
    }

    /// <summary>Unindexes <paramref name="slot"/>, indexed under <paramref name="name"/> (the owner still holds every other indexed slot's name).</summary>
    public void Remove<TNames>(string name, int slot, TNames names)
        where TNames : struct, ISlotNames => ShiftOut(BucketOf(name, slot), names);

    /// <summary>
    /// Unindexes <paramref name="name"/> and returns the slot it had, or -1 when it is not indexed:
    /// one walk of its probe chain, for an owner that does not know the slot (the owner still holds
    /// every indexed slot's name, this one's included).
    /// </summary>
    public int Remove<TNames>(string name, TNames names)
        where TNames : struct, ISlotNames
    {
        int bucket = BucketOfName(name, names);
        if (bucket < 0)
        {
            return -1;
        }

        int slot = At(bucket) - 1;
        ShiftOut(bucket, names);
        return slot;
    }

    /// <summary>After the owner swapped slots <paramref name="i"/> and <paramref name="j"/>: <paramref name="nameNowAtI"/> was at j, <paramref name="nameNowAtJ"/> at i.</summary>
    public void Swapped(string nameNowAtI, int i, string nameNowAtJ, int j)
    {
        // Both buckets are found before either is written, so each name keeps its own bucket (after
        // one write two buckets would hold i + 1 for a moment).
        int bucketOfI = BucketOf(nameNowAtI, j);
        int bucketOfJ = BucketOf(nameNowAtJ, i);
        Put(bucketOfI, i + 1);
        Put(bucketOfJ, j + 1);
    }

    /// <summary>Forgets every name and gives back the table's storage (an owner that emptied after a burst).</summary>
    public void Clear()
    {
        if (Count != 0 || _wide is not null || _narrow.Length != 8)
        {
            _narrow = new ushort[8];
            _wide = null;
            Count = 0;
        }
    }

    /// <summary>Buckets in the table.</summary>
    public int Capacity => Length;

    /// <summary>Bytes a bucket takes: 2 while every slot number is below 65,535, else 4.</summary>
    public int BucketBytes => _wide is null ? sizeof(ushort) : sizeof(int);

    /// <summary>Reindexes slots 0 to <paramref name="count"/> − 1 after the owner reordered them as a whole.</summary>
    public void Rebuild<TNames>(int count, TNames names)
        where TNames : struct, ISlotNames
    {
        // Room for count names at the load bound (the owner usually reorders the names it has, so
        // the table already fits), in 4-byte buckets when a slot number needs them.
        int length = Length;
        while (count * 3 > length * 2)
        {
            length *= 2;
        }

        bool wide = _wide is not null || count > ushort.MaxValue;
        if (wide)
        {
            _narrow = [];
            if (_wide is null || _wide.Length != length)
            {
                _wide = new int[length];
            }
            else
            {
                Array.Clear(_wide);
            }
        }
        else if (_narrow.Length != length)
        {
            _narrow = new ushort[length];
        }
        else
        {
            Array.Clear(_narrow);
        }

        for (int slot = 0; slot < count; slot++)
        {
            Place(names.NameAt(slot), slot + 1);
        }

        Count = count;
    }

    /// <summary>Empties <paramref name="hole"/> and shifts back the entries after it that may fill it (backward-shift deletion).</summary>
    private void ShiftOut<TNames>(int hole, TNames names)
        where TNames : struct, ISlotNames
    {
        int mask = Length - 1;
        for (int j = (hole + 1) & mask; At(j) != 0; j = (j + 1) & mask)
        {
            // An entry may fill the hole if its home is not cyclically in (hole, j].
            int home = Home(names.NameAt(At(j) - 1), mask);
            bool homeBetween = hole <= j ? home > hole && home <= j : home > hole || home <= j;
            if (!homeBetween)
            {
                Put(hole, At(j));
                hole = j;
            }
        }

        Put(hole, 0);
        Count--;
    }

    /// <summary>The bucket that holds <paramref name="name"/>, or -1.</summary>
    private int BucketOfName<TNames>(string name, TNames names)
        where TNames : struct, ISlotNames
    {
        int mask = Length - 1;
        for (int i = Home(name, mask); ; i = (i + 1) & mask)
        {
            int entry = At(i);
            if (entry == 0)
            {
                return -1;
            }

            if (string.Equals(names.NameAt(entry - 1), name, StringComparison.Ordinal))
            {
                return i;
            }
        }
    }

    private static int Home(string name, int mask) => StringComparer.Ordinal.GetHashCode(name) & mask;

    /// <summary>The bucket that holds <paramref name="slot"/> on <paramref name="name"/>'s probe chain.</summary>
    private int BucketOf(string name, int slot)
    {
        int mask = Length - 1;
        for (int i = Home(name, mask); ; i = (i + 1) & mask)
        {
            int entry = At(i);
            if (entry == slot + 1)
            {
                return i;
            }

            if (entry == 0)
            {
                throw new InvalidOperationException($"The name index lost '{name}' (slot {slot}).");
            }
        }
    }

    private int Length => _wide?.Length ?? _narrow.Length;

    private int At(int bucket) => _wide is { } wide ? wide[bucket] : _narrow[bucket];

    private void Put(int bucket, int entry)
    {
        if (_wide is { } wide)
        {
            wide[bucket] = entry;
        }
        else
        {
            _narrow[bucket] = (ushort)entry;
        }
    }

    private void Place(string name, int entry)
    {
        int mask = Length - 1;
        int i = Home(name, mask);
        while (At(i) != 0)
        {
            i = (i + 1) & mask;
        }

        Put(i, entry);
    }
}
