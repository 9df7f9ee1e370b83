using System.Buffers.Binary;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Security;

/// <summary>
/// The keyring as a push-pull state section (kind 1, docs/PROTOCOL.md §6.6): it travels only inside
/// sealed push-pulls, so a member that missed a rotation learns the current ring from any member it
/// can still talk to (serf#579, where it could not rejoin at all). A receiver adopts a ring whose
/// version is higher than its own, and only from a stream that arrived in an authentic envelope.
/// <code>
/// data = version u64 LE | count u8 (1..16) | count × (length u8 (16, 24 or 32) | key bytes)   primary first
/// </code>
/// </summary>
public static class KeyringSection
{
    /// <summary>The section's kind id (append-only, like message types).</summary>
    public const ushort Kind = 1;

    /// <summary>Encodes <paramref name="keyring"/> as a section.</summary>
    public static StateSection Encode(GossipKeyring keyring)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        int length = 8 + 1;
        for (int i = 0; i < keyring.Count; i++)
        {
            length += 1 + keyring.KeyAt(i).Length;
        }

        byte[] data = new byte[length];
        BinaryPrimitives.WriteUInt64LittleEndian(data, keyring.Version);
        data[8] = (byte)keyring.Count;
        int at = 9;
        for (int i = 0; i < keyring.Count; i++)
        {
            byte[] key = keyring.KeyAt(i);
            data[at++] = (byte)key.Length;
            key.CopyTo(data, at);
            at += key.Length;
        }

        return new StateSection(Kind, data);
    }

    /// <summary>Decodes a section's data; false when it is not a well-formed ring (any length, count or key size out of range).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> data, out ulong version, out IReadOnlyList<byte[]> keys)
    {
        version = 0;
        keys = [];
        if (data.Length < 9)
        {
            return false;
        }

        version = BinaryPrimitives.ReadUInt64LittleEndian(data);
        int count = data[8];
        if (count is 0 or > GossipKeyring.KeysMax)
        {
            return false;
        }

        List<byte[]> list = new(count);
        int at = 9;
        for (int i = 0; i < count; i++)
        {
            if (at >= data.Length)
            {
                return false;
            }

            int length = data[at++];
            if (length is not (16 or 24 or 32) || at + length > data.Length)
            {
                return false;
            }

            list.Add(data.Slice(at, length).ToArray());
            at += length;
        }

        if (at != data.Length)
        {
            return false;
        }

        keys = list;
        return true;
    }
}
