namespace Rumor.Core.AntiEntropy;

/// <summary>
/// An owner of replicated state and the process generation whose writes a row holds, immutable: an
/// <see cref="OwnerState"/> row holds a reference to one (a new one when the generation changes).
/// A simulation's shared <see cref="Wire.NameTable"/> hands all its nodes the same instance
/// (<see cref="Wire.NameTable.InternOwner"/>), so the N rows of one owner across a simulated cluster
/// share one 32-byte object instead of 16 bytes in each; a real node holds one per owner.
/// </summary>
internal sealed class OwnerKey(string name, ulong generation)
{
    public string Name { get; } = name;

    public ulong Generation { get; } = generation;
}
