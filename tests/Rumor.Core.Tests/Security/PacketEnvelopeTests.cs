using System.Security.Cryptography;
using System.Text;
using Rumor.Core.Security;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Security;

/// <summary>The AES-GCM envelope byte by byte (docs/PROTOCOL.md §2.4): layout, tampering, keys, rotation, nonces.</summary>
public class PacketEnvelopeTests
{
    private static readonly byte[] KeyA = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
    private static readonly byte[] KeyB = [.. Enumerable.Range(101, 16).Select(i => (byte)i)];

    private static byte[] Packet() => PacketBuilder.EncodeSingle(new AckMessage(7));

    [Fact]
    public void Layout_is_header_nonce_ciphertext_tag_with_header_and_label_as_associated_data()
    {
        using GossipKeyring keyring = new([KeyA], "prod");
        byte[] packet = Packet();
        byte[] envelope = new byte[packet.Length + PacketEnvelope.OverheadBytes];
        int length = PacketEnvelope.Seal(keyring, 0xA1B2C3D4, 5, packet, envelope);

        Assert.Equal(packet.Length + 31, length);
        byte[] expectedHeader = [0x01, 0x00, 0x02, 0xD4, 0xC3, 0xB2, 0xA1, 0x05, 0, 0, 0, 0, 0, 0, 0];
        Assert.Equal(expectedHeader, envelope[..15]);

        // The same bytes from AES-GCM called directly: aad = the 3 header bytes + the label.
        using AesGcm aes = new(KeyA, 16);
        byte[] ciphertext = new byte[packet.Length];
        byte[] tag = new byte[16];
        aes.Encrypt(envelope.AsSpan(3, 12), packet, ciphertext, tag, [0x01, 0x00, 0x02, .. Encoding.UTF8.GetBytes("prod")]);
        Assert.Equal(ciphertext, envelope[15..^16]);
        Assert.Equal(tag, envelope[^16..]);

        byte[] plain = new byte[envelope.Length];
        Assert.True(PacketEnvelope.TryOpen(keyring, envelope, plain, out int plainLength, out uint prefix, out ulong counter));
        Assert.Equal(packet, plain[..plainLength]);
        Assert.Equal(0xA1B2C3D4u, prefix);
        Assert.Equal(5ul, counter);
    }

    [Fact]
    public void Changing_any_byte_is_rejected()
    {
        using GossipKeyring keyring = new([KeyA]);
        byte[] packet = Packet();
        byte[] envelope = new byte[packet.Length + PacketEnvelope.OverheadBytes];
        PacketEnvelope.Seal(keyring, 1, 1, packet, envelope);
        byte[] plain = new byte[envelope.Length];
        for (int i = 0; i < envelope.Length; i++)
        {
            byte[] tampered = (byte[])envelope.Clone();
            tampered[i] ^= 0x01;
            Assert.False(PacketEnvelope.TryOpen(keyring, tampered, plain, out _, out _, out _), $"byte {i} changed but accepted");
        }

        Assert.False(PacketEnvelope.TryOpen(keyring, envelope.AsSpan(0, envelope.Length - 1), plain, out _, out _, out _));
        Assert.False(PacketEnvelope.TryOpen(keyring, [.. envelope, 0], plain, out _, out _, out _));
    }

    [Fact]
    public void A_wrong_key_or_label_is_rejected()
    {
        using GossipKeyring sender = new([KeyA], "prod");
        using GossipKeyring otherKey = new([KeyB], "prod");
        using GossipKeyring otherLabel = new([KeyA], "staging");
        byte[] packet = Packet();
        byte[] envelope = new byte[packet.Length + PacketEnvelope.OverheadBytes];
        PacketEnvelope.Seal(sender, 1, 1, packet, envelope);
        byte[] plain = new byte[envelope.Length];
        Assert.False(PacketEnvelope.TryOpen(otherKey, envelope, plain, out _, out _, out _));
        Assert.False(PacketEnvelope.TryOpen(otherLabel, envelope, plain, out _, out _, out _));
    }

    [Fact]
    public void Rotation_with_two_keys_installed_opens_both_and_seals_with_the_primary()
    {
        using GossipKeyring old = new([KeyA]);
        using GossipKeyring rotating = new([KeyA]);
        rotating.Install(KeyB);
        rotating.Use(KeyB);
        using GossipKeyring onlyNew = new([KeyB]);
        byte[] packet = Packet();
        byte[] fromOld = new byte[packet.Length + 31];
        byte[] fromRotating = new byte[packet.Length + 31];
        PacketEnvelope.Seal(old, 1, 1, packet, fromOld);
        PacketEnvelope.Seal(rotating, 2, 1, packet, fromRotating);
        byte[] plain = new byte[fromOld.Length];

        Assert.True(PacketEnvelope.TryOpen(rotating, fromOld, plain, out _, out _, out _)); // old key still installed
        Assert.True(PacketEnvelope.TryOpen(onlyNew, fromRotating, plain, out _, out _, out _)); // sealed with the new primary
        Assert.False(PacketEnvelope.TryOpen(old, fromRotating, plain, out _, out _, out _));
        Assert.Throws<InvalidOperationException>(() => rotating.Remove(KeyB)); // primary
        rotating.Remove(KeyA);
        Assert.False(PacketEnvelope.TryOpen(rotating, fromOld, plain, out _, out _, out _));
    }

    [Theory]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA==", 16)]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 24)]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 32)]
    public void Keys_of_16_24_and_32_bytes_parse(string base64, int bytes) => Assert.Equal(bytes, GossipKeyring.ParseKey(base64).Length);

    [Theory]
    [InlineData("AAAA")]
    [InlineData("not base64!")]
    public void Other_keys_are_refused(string base64) => Assert.ThrowsAny<Exception>(() => GossipKeyring.ParseKey(base64));

    [Fact]
    public void A_generated_key_is_32_random_bytes() =>
        Assert.Equal(32, GossipKeyring.ParseKey(GossipKeyring.GenerateKey()).Length);
}
