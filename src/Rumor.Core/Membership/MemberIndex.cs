namespace Rumor.Core.Membership;

/// <summary>
/// The node's index from member name to member: a <see cref="NameSlotIndex"/> of positions in the
/// node's member list (4 bytes a bucket at a load of at most one half), instead of a
/// <c>Dictionary&lt;string, Member&gt;</c>. Every node of a simulated cluster holds one for N
/// members, so at N = 1,000 this is about 8 bytes per member record against about 38.
/// <para>
/// The table holds list positions, so the node tells it when members move in the list
/// (<see cref="Swapped"/>, <see cref="Rebuild"/>).
/// </para>
/// </summary>
internal sealed class MemberIndex
{
    private readonly List<Member> _list;
    private readonly NameSlotIndex _index = new();

    /// <summary>An index over <paramref name="list"/>.</summary>
    public MemberIndex(List<Member> list) => _list = list;

    /// <summary>Members indexed.</summary>
    public int Count => _index.Count;

    /// <summary>The member named <paramref name="name"/>, or null.</summary>
    public Member? Find(string name)
    {
        int position = _index.Find(name, new ListNames(_list));
        return position < 0 ? null : _list[position];
    }

    /// <summary>The list position of the member named <paramref name="name"/>, or -1.</summary>
    public int PositionOf(string name) => _index.Find(name, new ListNames(_list));

    /// <summary>Indexes the member at <paramref name="position"/> in the list; its name must be new.</summary>
    public void Add(int position) => _index.Add(position, new ListNames(_list));

    /// <summary>Unindexes <paramref name="member"/>, still in the list at <paramref name="position"/> (remove it from the list after).</summary>
    public void Remove(Member member, int position) => _index.Remove(member.Name, position, new ListNames(_list));

    /// <summary>
    /// After the list swapped positions <paramref name="i"/> and <paramref name="j"/> (members' list
    /// indices already updated): <paramref name="atI"/> is now at i, <paramref name="atJ"/> at j.
    /// </summary>
    public void Swapped(Member atI, int i, Member atJ, int j) => _index.Swapped(atI.Name, i, atJ.Name, j);

    /// <summary>Reindexes every member after the list was reordered as a whole.</summary>
    public void Rebuild() => _index.Rebuild(_list.Count, new ListNames(_list));

    private readonly struct ListNames(List<Member> list) : ISlotNames
    {
        public string NameAt(int slot) => list[slot].Name;
    }
}
