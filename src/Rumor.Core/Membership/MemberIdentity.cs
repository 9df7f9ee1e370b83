namespace Rumor.Core.Membership;

/// <summary>
/// Who a member is and where it is reached: its name, process generation and address, immutable.
/// A <see cref="Member"/> holds a reference to one and takes a new one when the member restarts
/// (a new generation) or moves; nothing ever changes one in place. A simulation's shared
/// <see cref="Wire.NameTable"/> hands all its nodes the same instance for the same name,
/// generation and address (<see cref="Wire.NameTable.InternMember"/>), so the N copies of one
/// member across a simulated cluster cost one 40-byte object instead of 24 bytes in each of N
/// records. A real node's table shares nothing: each member costs this object beside its record.
/// An IPv4 address is kept as its value and port; an IPv6 address (rare) in a subclass.
/// </summary>
internal class MemberIdentity
{
    private readonly uint _ipv4;
    private readonly ushort _port;

    private MemberIdentity(string name, ulong generation, uint ipv4, ushort port)
    {
        Name = name;
        Generation = generation;
        _ipv4 = ipv4;
        _port = port;
    }

    public string Name { get; }

    public ulong Generation { get; }

    public virtual NodeAddress Address => new(_ipv4, _port);

    /// <summary>A new identity (unshared).</summary>
    public static MemberIdentity Create(string name, ulong generation, NodeAddress address) =>
        address.TryGetIPv4(out uint ipv4) ? new MemberIdentity(name, generation, ipv4, address.Port) : new IPv6(name, generation, address);

    /// <summary>True when this is the identity of <paramref name="name"/> at this generation and address.</summary>
    public bool Matches(string name, ulong generation, NodeAddress address) =>
        Generation == generation && Address == address && string.Equals(Name, name, StringComparison.Ordinal);

    private sealed class IPv6(string name, ulong generation, NodeAddress address) : MemberIdentity(name, generation, 0, 0)
    {
        public override NodeAddress Address { get; } = address;
    }
}
