namespace Rumor.Core.Membership;

/// <summary>The names behind the slot numbers of a <see cref="NameSlotIndex"/>: its owner keeps them (a list of members, an array of names).</summary>
internal interface ISlotNames
{
    /// <summary>The name held at <paramref name="slot"/> (a slot the index holds, so never a free one).</summary>
    string NameAt(int slot);
}

/// <summary>
/// An index from name to slot number (a position in its owner's list or table): an open-addressing
/// hash table with linear probing and backward-shift deletion, 4 bytes a bucket at a load of at
/// most two thirds (one half until session 29: at N = 5,000 the table of 8,192 buckets then took
/// 16,384, 13 bytes a member; a hit probes 2 buckets on average at this load, a miss 5). A <c>Dictionary&lt;string, int&gt;</c> costs a 24-byte entry and a 4-byte bucket
/// per slot with prime capacities up to twice the count, and every node of a simulated cluster
/// holds tables of N names (the member list's index, the coordinate and latency rows), so the
/// dictionary form cost about 38 bytes per member record at N = 1,000 against about 8 here.
/// <para>
/// Hand-written because no collection in the BCL or a package keeps the names outside the table
/// (the owner has them already) and stores only 4-byte slot numbers. The names come from the
/// owner through an <see cref="ISlotNames"/> struct, so each owner's lookups compile to
/// direct reads. Only lookups go through the hash, never an iteration, so the per-process string
/// hash seed changes no protocol decision.
/// </para>
/// </summary>
internal sealed class NameSlotIndex
{
    private int[] _buckets = new int[8]; // slot + 1; 0 is an empty bucket

    /// <summary>Names indexed.</summary>
    public int Count { get; private set; }

    /// <summary>The slot of <paramref name="name"/>, or -1.</summary>
    public int Find<TNames>(string name, TNames names)
        where TNames : struct, ISlotNames
    {
        int bucket = BucketOfName(name, names);
        return bucket < 0 ? -1 : _buckets[bucket] - 1;
    }

    /// <summary>Indexes <paramref name="slot"/>, whose name (already held by the owner) must not be indexed yet.</summary>
    public void Add<TNames>(int slot, TNames names)
        where TNames : struct, ISlotNames
    {
        if ((Count + 1) * 3 > _buckets.Length * 2)
        {
            int[] old = _buckets;
            _buckets = new int[_buckets.Length * 2];
            foreach (int entry in old)
            {
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

        int slot = _buckets[bucket] - 1;
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
        _buckets[bucketOfI] = i + 1;
        _buckets[bucketOfJ] = j + 1;
    }

    /// <summary>Forgets every name and gives back the table's storage (an owner that emptied after a burst).</summary>
    public void Clear()
    {
        if (Count != 0 || _buckets.Length != 8)
        {
            _buckets = new int[8];
            Count = 0;
        }
    }

    /// <summary>Buckets in the table (4 bytes each).</summary>
    public int Capacity => _buckets.Length;

    /// <summary>Reindexes slots 0 to <paramref name="count"/> − 1 after the owner reordered them as a whole.</summary>
    public void Rebuild<TNames>(int count, TNames names)
        where TNames : struct, ISlotNames
    {
        Array.Clear(_buckets);
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
        int mask = _buckets.Length - 1;
        for (int j = (hole + 1) & mask; _buckets[j] != 0; j = (j + 1) & mask)
        {
            // An entry may fill the hole if its home is not cyclically in (hole, j].
            int home = Home(names.NameAt(_buckets[j] - 1), mask);
            bool homeBetween = hole <= j ? home > hole && home <= j : home > hole || home <= j;
            if (!homeBetween)
            {
                _buckets[hole] = _buckets[j];
                hole = j;
            }
        }

        _buckets[hole] = 0;
        Count--;
    }

    /// <summary>The bucket that holds <paramref name="name"/>, or -1.</summary>
    private int BucketOfName<TNames>(string name, TNames names)
        where TNames : struct, ISlotNames
    {
        int mask = _buckets.Length - 1;
        for (int i = Home(name, mask); ; i = (i + 1) & mask)
        {
            int entry = _buckets[i];
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
        int mask = _buckets.Length - 1;
        for (int i = Home(name, mask); ; i = (i + 1) & mask)
        {
            int entry = _buckets[i];
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

    private void Place(string name, int entry)
    {
        int mask = _buckets.Length - 1;
        int i = Home(name, mask);
        while (_buckets[i] != 0)
        {
            i = (i + 1) & mask;
        }

        _buckets[i] = entry;
    }
}
