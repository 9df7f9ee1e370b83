using System.Buffers.Binary;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Membership;

/// <summary>
/// A checksum of a node's membership view, for the checksum-first periodic push-pull
/// (<see cref="GossipOptions.PushPullChecksumFirst"/>, docs/PROTOCOL.md §6.6): two views that hold
/// the same members at the same (generation, incarnation, state, address), and the same keyring
/// version, give the same checksum. It is order-independent (the sum of a mixed hash per member), so
/// it needs no sort, and process-independent (FNV-1a over the name's characters, not the runtime's
/// randomized string hash). Carried as push-pull state section kind 2:
/// <code>
/// data = checksum u64 LE
/// </code>
/// </summary>
internal static class MembershipChecksum
{
    /// <summary>The section's kind id (append-only, like message types; kind 1 is the keyring).</summary>
    public const ushort Kind = 2;

    /// <summary>
    /// The checksum of <paramref name="members"/> (only the active ones, alive or suspect, with
    /// <paramref name="activeOnly"/>: the form acks carry) and <paramref name="keyringVersion"/> (0 without encryption).
    /// </summary>
    public static ulong Of(IReadOnlyList<Member> members, ulong keyringVersion, bool activeOnly = false)
    {
        ArgumentNullException.ThrowIfNull(members);
        ulong sum = 0;
        for (int i = 0; i < members.Count; i++)
        {
            if (!activeOnly || members[i].IsActive)
            {
                sum += Hash(members[i]);
            }
        }

        return WithKeyring(sum, keyringVersion);
    }

    /// <summary>
    /// The checksum from <paramref name="memberSum"/>, the sum of <see cref="Hash"/> over the members
    /// (which a node keeps as it goes, so that reading its checksum costs nothing), and the keyring version.
    /// </summary>
    public static ulong WithKeyring(ulong memberSum, ulong keyringVersion) => StableHash.Mix(keyringVersion ^ 0x9E3779B97F4A7C15UL) + memberSum;

    /// <summary>One member's part of the checksum: its name, generation, incarnation, state and address.</summary>
    public static ulong Hash(Member m)
    {
        ArgumentNullException.ThrowIfNull(m);
        ulong h = StableHash.Fnv1a(m.Name);
        // SplitMix64's finalizer after each field: every input bit reaches every output bit, so a
        // sum of member hashes does not cancel out for members that differ in one field.
        h = StableHash.Mix(h ^ m.Generation);
        h = StableHash.Mix(h ^ (((ulong)m.Incarnation << 8) | (byte)m.State));
        return StableHash.Mix(h ^ AddressBits(m.Address));
    }

    /// <summary>The checksum as a push-pull section.</summary>
    public static StateSection Encode(ulong checksum)
    {
        byte[] data = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(data, checksum);
        return new StateSection(Kind, data);
    }

    /// <summary>The checksum carried in <paramref name="sections"/>, if one is there and well formed.</summary>
    public static bool TryFind(IReadOnlyList<StateSection> sections, out ulong checksum)
    {
        ArgumentNullException.ThrowIfNull(sections);
        foreach (StateSection section in sections)
        {
            if (section.Kind == Kind && section.Data.Length == 8)
            {
                checksum = BinaryPrimitives.ReadUInt64LittleEndian(section.Data);
                return true;
            }
        }

        checksum = 0;
        return false;
    }

    private static ulong AddressBits(NodeAddress address)
    {
        if (address.TryGetIPv4(out uint ipv4))
        {
            return ((ulong)ipv4 << 16) | address.Port;
        }

        return StableHash.Fnv1a(address.ToString());
    }

}
