using System.Buffers.Binary;
using Rumor.Core.Wire;

namespace Rumor.Core.Security;

/// <summary>
/// The encrypted envelope around a packet (docs/PROTOCOL.md §2.4): AES-GCM with a 12-byte nonce and
/// a 16-byte tag; the plaintext is the whole ordinary packet (its header, body and CRC), so opening
/// an envelope yields exactly what <see cref="PacketReader"/> reads without encryption.
/// <code>
/// envelope = version u8 (1) | type u8 (0) | flags u8 (0x02) | nonce[12] | ciphertext | tag[16]
/// nonce    = sender prefix u32 LE | counter u64 LE            (counter bit 63: stream channel)
/// aad      = the 3 header bytes | cluster label (UTF-8)
/// </code>
/// The outer type is 0 so the header does not tell an observer what kind of message travels inside.
/// The nonce is never reused under a key because the counter of one sender (one prefix) only grows;
/// the prefix tells senders apart, so it also names the sender's replay window (<see cref="ReplayGuard"/>).
/// Nothing here allocates.
/// </summary>
public static class PacketEnvelope
{
    /// <summary>Header bytes (version, type, flags), as in a plain packet.</summary>
    public const int HeaderBytes = WireLimits.HeaderBytes;

    /// <summary>Nonce bytes (AES-GCM's 96-bit nonce).</summary>
    public const int NonceBytes = 12;

    /// <summary>Authentication tag bytes.</summary>
    public const int TagBytes = 16;

    /// <summary>Bytes an envelope adds to a packet: 3 + 12 + 16 = 31.</summary>
    public const int OverheadBytes = HeaderBytes + NonceBytes + TagBytes;

    /// <summary>The outer type byte: none (hidden).</summary>
    public const byte OuterType = 0;

    /// <summary>Bit 63 of the counter: set for stream messages, whose replay window is kept apart from datagrams'.</summary>
    public const ulong StreamChannelBit = 1UL << 63;

    /// <summary>True when <paramref name="packet"/> carries the encrypted flag (it may still be forged).</summary>
    public static bool IsEnvelope(ReadOnlySpan<byte> packet) =>
        packet.Length >= HeaderBytes && (packet[2] & (byte)PacketFlags.Encrypted) != 0;

    /// <summary>Writes the fixed envelope header.</summary>
    public static void WriteHeader(Span<byte> destination)
    {
        destination[0] = WireLimits.FormatVersion;
        destination[1] = OuterType;
        destination[2] = (byte)PacketFlags.Encrypted;
    }

    /// <summary>Seals <paramref name="packet"/> into <paramref name="destination"/> (at least <c>packet.Length + 31</c> bytes); returns the envelope's length.</summary>
    public static int Seal(GossipKeyring keyring, uint prefix, ulong counter, ReadOnlySpan<byte> packet, Span<byte> destination) =>
        Seal(keyring, 0, prefix, counter, packet, destination);

    /// <summary>Seals with the installed key at <paramref name="keyIndex"/> (0: the primary): a join retried with an older key, a reply in the key its request came in.</summary>
    internal static int Seal(GossipKeyring keyring, int keyIndex, uint prefix, ulong counter, ReadOnlySpan<byte> packet, Span<byte> destination)
    {
        int length = packet.Length + OverheadBytes;
        if (destination.Length < length)
        {
            throw new ArgumentException($"The envelope needs {length} bytes; the destination has {destination.Length}.", nameof(destination));
        }

        WriteHeader(destination);
        Span<byte> nonce = destination.Slice(HeaderBytes, NonceBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(nonce, prefix);
        BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..], counter);
        Span<byte> ciphertext = destination.Slice(HeaderBytes + NonceBytes, packet.Length);
        Span<byte> tag = destination.Slice(HeaderBytes + NonceBytes + packet.Length, TagBytes);
        keyring.CipherAt(keyIndex).Encrypt(nonce, packet, ciphertext, tag, keyring.AssociatedData);
        return length;
    }

    /// <summary>
    /// Authenticates and decrypts <paramref name="envelope"/> with each installed key in turn.
    /// Returns false (and writes nothing useful) for a wrong header, a short envelope, a wrong key or
    /// any changed byte. On success the packet is <c>destination[..length]</c>.
    /// </summary>
    public static bool TryOpen(GossipKeyring keyring, ReadOnlySpan<byte> envelope, Span<byte> destination, out int length, out uint prefix, out ulong counter) =>
        TryOpen(keyring, envelope, destination, out length, out prefix, out counter, out _);

    /// <summary>As the public overload; <paramref name="keyIndex"/> is the installed key that opened it.</summary>
    internal static bool TryOpen(GossipKeyring keyring, ReadOnlySpan<byte> envelope, Span<byte> destination, out int length, out uint prefix, out ulong counter, out int keyIndex)
    {
        keyIndex = -1;
        length = 0;
        prefix = 0;
        counter = 0;
        if (envelope.Length < OverheadBytes + WireLimits.OverheadBytes
            || envelope[0] != WireLimits.FormatVersion
            || envelope[1] != OuterType
            || envelope[2] != (byte)PacketFlags.Encrypted)
        {
            return false;
        }

        int plainLength = envelope.Length - OverheadBytes;
        if (destination.Length < plainLength)
        {
            return false;
        }

        ReadOnlySpan<byte> nonce = envelope.Slice(HeaderBytes, NonceBytes);
        ReadOnlySpan<byte> ciphertext = envelope.Slice(HeaderBytes + NonceBytes, plainLength);
        ReadOnlySpan<byte> tag = envelope[^TagBytes..];
        Span<byte> plain = destination[..plainLength];
        for (int i = 0; i < keyring.Count; i++)
        {
            if (!keyring.CipherAt(i).TryDecrypt(nonce, ciphertext, tag, plain, keyring.AssociatedData))
            {
                continue;
            }

            keyIndex = i;
            length = plainLength;
            prefix = BinaryPrimitives.ReadUInt32LittleEndian(nonce);
            counter = BinaryPrimitives.ReadUInt64LittleEndian(nonce[4..]);
            return true;
        }

        plain.Clear();
        return false;
    }
}
