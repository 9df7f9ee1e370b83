namespace Rumor.Core.Membership;

/// <summary>
/// The node's index from member name to member: an open-addressing hash table (linear probing,
/// backward-shift deletion) of positions in the node's member list, 4 bytes a slot at a load of at
/// most one half, instead of a <c>Dictionary&lt;string, Member&gt;</c> (a 24-byte entry and a
/// 4-byte bucket per slot, with prime capacities up to twice the count). Every node of a simulated
/// cluster holds one for N members, so at N = 1,000 this is about 8 bytes per member record
/// against about 38.
/// <para>
/// The table holds list positions, so the node tells it when members move in the list
/// (<see cref="Swapped"/>, <see cref="Rebuild"/>). Only lookups go through the hash (never an
/// iteration), so the per-process string hash seed changes no protocol decision.
/// </para>
/// </summary>
internal sealed class MemberIndex
{
    private readonly List<Member> _list;
    private int[] _slots = new int[8]; // list position + 1; 0 is an empty slot
    private int _count;

    /// <summary>An index over <paramref name="list"/> (each member's <see cref="Member.ListIndex"/> is its position).</summary>
    public MemberIndex(List<Member> list) => _list = list;

    /// <summary>Members indexed.</summary>
    public int Count => _count;

    /// <summary>The member named <paramref name="name"/>, or null.</summary>
    public Member? Find(string name)
    {
        int mask = _slots.Length - 1;
        for (int i = Home(name, mask); ; i = (i + 1) & mask)
        {
            int slot = _slots[i];
            if (slot == 0)
            {
                return null;
            }

            Member member = _list[slot - 1];
            if (string.Equals(member.Name, name, StringComparison.Ordinal))
            {
                return member;
            }
        }
    }

    /// <summary>Indexes <paramref name="member"/>, already in the list at its <see cref="Member.ListIndex"/>; its name must be new.</summary>
    public void Add(Member member)
    {
        if ((_count + 1) * 2 > _slots.Length)
        {
            Resize(_slots.Length * 2);
        }

        Place(member.Name, member.ListIndex + 1);
        _count++;
    }

    /// <summary>Unindexes <paramref name="member"/>, still in the list at its <see cref="Member.ListIndex"/> (remove it from the list after).</summary>
    public void Remove(Member member)
    {
        int mask = _slots.Length - 1;
        int hole = SlotOf(member.Name, member.ListIndex + 1);
        for (int j = (hole + 1) & mask; _slots[j] != 0; j = (j + 1) & mask)
        {
            // An entry may fill the hole if its home is not cyclically in (hole, j].
            int home = Home(_list[_slots[j] - 1].Name, mask);
            bool homeBetween = hole <= j ? home > hole && home <= j : home > hole || home <= j;
            if (!homeBetween)
            {
                _slots[hole] = _slots[j];
                hole = j;
            }
        }

        _slots[hole] = 0;
        _count--;
    }

    /// <summary>
    /// After the list swapped positions <paramref name="i"/> and <paramref name="j"/> (members' list
    /// indices already updated): <paramref name="atI"/> is now at i, <paramref name="atJ"/> at j.
    /// </summary>
    public void Swapped(Member atI, int i, Member atJ, int j)
    {
        int slotOfI = SlotOf(atI.Name, j + 1); // atI was at j
        int slotOfJ = SlotOf(atJ.Name, i + 1);
        _slots[slotOfI] = i + 1;
        _slots[slotOfJ] = j + 1;
    }

    /// <summary>Reindexes every member after the list was reordered as a whole.</summary>
    public void Rebuild()
    {
        Array.Clear(_slots);
        for (int i = 0; i < _list.Count; i++)
        {
            Place(_list[i].Name, i + 1);
        }
    }

    private static int Home(string name, int mask) => StringComparer.Ordinal.GetHashCode(name) & mask;

    /// <summary>The slot that holds <paramref name="value"/> (a list position + 1) on <paramref name="name"/>'s probe chain.</summary>
    private int SlotOf(string name, int value)
    {
        int mask = _slots.Length - 1;
        for (int i = Home(name, mask); ; i = (i + 1) & mask)
        {
            int slot = _slots[i];
            if (slot == value)
            {
                return i;
            }

            if (slot == 0)
            {
                throw new InvalidOperationException($"The member index lost '{name}' (list position {value - 1}).");
            }
        }
    }

    private void Place(string name, int value)
    {
        int mask = _slots.Length - 1;
        int i = Home(name, mask);
        while (_slots[i] != 0)
        {
            i = (i + 1) & mask;
        }

        _slots[i] = value;
    }

    private void Resize(int length)
    {
        int[] old = _slots;
        _slots = new int[length];
        foreach (int slot in old)
        {
            if (slot != 0)
            {
                Place(_list[slot - 1].Name, slot);
            }
        }
    }
}
