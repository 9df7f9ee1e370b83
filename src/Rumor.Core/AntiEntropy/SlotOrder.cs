namespace Rumor.Core.AntiEntropy;

/// <summary>
/// A growable list of slot numbers (the owner rows of a <see cref="ReplicatedState"/> in name
/// order), 2 bytes an element while every slot number stored is below 65,535 and 4 from the first
/// larger one on: every node of a simulated cluster of N holds N owners, so at N = 1,000 the
/// 4-byte form was 4 KB a node (4 bytes a member record); the first larger slot widens the list
/// for good. Grows as the per-member arrays do (<see cref="ArrayGrowth"/>).
/// <para>
/// Hand-written for the same reason as <see cref="Membership.NameSlotIndex"/>'s 2-byte buckets: no
/// collection chooses its element width by the values it holds.
/// </para>
/// </summary>
internal sealed class SlotOrder
{
    private ushort[] _narrow = new ushort[4];
    private int[]? _wide;

    /// <summary>Elements held.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes an element takes now (2, or 4 once a slot number reached 65,535; for tests).</summary>
    public int ElementBytes => _wide is null ? 2 : 4;

    /// <summary>The slot number at <paramref name="index"/> (below <see cref="Count"/>).</summary>
    public int this[int index]
    {
        get => _wide is null ? _narrow[index] : _wide[index];
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            Widen(value);
            if (_wide is null)
            {
                _narrow[index] = (ushort)value;
            }
            else
            {
                _wide[index] = value;
            }
        }
    }

    /// <summary>Inserts <paramref name="slot"/> at <paramref name="index"/> (0 to <see cref="Count"/>), moving the later ones up.</summary>
    public void Insert(int index, int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)index, (uint)Count, nameof(index));
        Widen(slot);
        if (_wide is null)
        {
            Insert(ref _narrow, index, (ushort)slot);
        }
        else
        {
            Insert(ref _wide, index, slot);
        }

        Count++;
    }

    /// <summary>Removes the element at <paramref name="index"/>, moving the later ones down.</summary>
    public void RemoveAt(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
        if (_wide is null)
        {
            Array.Copy(_narrow, index + 1, _narrow, index, Count - index - 1);
        }
        else
        {
            Array.Copy(_wide, index + 1, _wide, index, Count - index - 1);
        }

        Count--;
    }

    private void Insert<T>(ref T[] items, int index, T value)
    {
        if (Count == items.Length)
        {
            Array.Resize(ref items, ArrayGrowth.Next(items.Length));
        }

        Array.Copy(items, index, items, index + 1, Count - index);
        items[index] = value;
    }

    private void Widen(int value)
    {
        if (value < ushort.MaxValue || _wide is not null)
        {
            return;
        }

        _wide = new int[Math.Max(_narrow.Length, 4)];
        for (int i = 0; i < Count; i++)
        {
            _wide[i] = _narrow[i];
        }

        _narrow = [];
    }
}
