using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using Rumor.Core.Security;
using Rumor.Core.Tests.Support;

namespace Rumor.Core.Tests.Security;

/// <summary>
/// The hand-written AES-GCM (<see cref="IntrinsicAesGcm"/>) byte for byte against NIST's GCM test
/// vectors and against the platform's <see cref="AesGcm"/>, and its refusal of anything tampered.
/// Skipped in effect (each test returns early) only on a CPU without AES-NI and PCLMULQDQ, where
/// the node uses the platform's cipher anyway.
/// </summary>
public class IntrinsicAesGcmTests
{
    // McGrew and Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 1–4, 7–8, 12–16
    // (the 96-bit-IV ones): key, IV, plaintext, AAD, ciphertext, tag.
    public static TheoryData<string, string, string, string, string, string> NistVectors => new()
    {
        { "00000000000000000000000000000000", "000000000000000000000000", "", "", "", "58e2fccefa7e3061367f1d57a4e7455a" },
        { "00000000000000000000000000000000", "000000000000000000000000", "00000000000000000000000000000000", "", "0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf" },
        {
            "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255", "",
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
            "4d5c2af327cd64a62cf35abd2ba6fab4"
        },
        {
            "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
            "5bc94fbc3221a5db94fae95ae7121a47"
        },
        { "000000000000000000000000000000000000000000000000", "000000000000000000000000", "", "", "", "cd33b28ac773f74ba00ed1f312572435" },
        { "000000000000000000000000000000000000000000000000", "000000000000000000000000", "00000000000000000000000000000000", "", "98e7247c07f0fe411c267e4384b0f600", "2ff58d80033927ab8ef4d4587514f0fb" },
        {
            "feffe9928665731c6d6a8f9467308308feffe9928665731c", "cafebabefacedbaddecaf888",
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710",
            "2519498e80f1478f37ba55bd6d27618c"
        },
        { "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b" },
        { "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "00000000000000000000000000000000", "", "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919" },
        {
            "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            "76fc6ece0f4e1768cddf8853bb2d551b"
        },
    };

    [Theory]
    [MemberData(nameof(NistVectors))]
    public void Nist_test_vectors_encrypt_and_decrypt(string key, string iv, string plaintext, string aad, string ciphertext, string tag)
    {
        if (!IntrinsicAesGcm.IsSupported)
        {
            return;
        }

        byte[] k = Convert.FromHexString(key);
        byte[] n = Convert.FromHexString(iv);
        byte[] p = Convert.FromHexString(plaintext);
        byte[] a = Convert.FromHexString(aad);
        IntrinsicAesGcm gcm = new(k);
        byte[] c = new byte[p.Length];
        byte[] t = new byte[16];
        gcm.Encrypt(n, p, c, t, a);
        Assert.Equal(ciphertext, Convert.ToHexStringLower(c));
        Assert.Equal(tag, Convert.ToHexStringLower(t));

        byte[] opened = new byte[c.Length];
        Assert.True(gcm.TryDecrypt(n, c, t, opened, a));
        Assert.Equal(p, opened);
    }

    [Fact]
    public void Matches_the_platform_AesGcm_over_key_sizes_aad_and_plaintext_lengths()
    {
        if (!IntrinsicAesGcm.IsSupported)
        {
            return;
        }

        Gen<(int KeyBytes, int AadBytes, int PlainBytes, int Seed)> cases =
            from keyBytes in Gen.Elements(16, 24, 32)
            from aadBytes in Gen.Frequency((1, Gen.Choose(0, 40)), (1, Gen.Choose(0, 300)))
            from plainBytes in Gen.Frequency((1, Gen.Choose(0, 80)), (2, Gen.Choose(0, 1500)))
            from seed in Gen.Choose(0, int.MaxValue)
            select (keyBytes, aadBytes, plainBytes, seed);

        Properties.Check(cases, c => AssertSameAsPlatform(c.KeyBytes, c.AadBytes, c.PlainBytes, c.Seed), 500);
    }

    [Fact]
    public void Matches_the_platform_AesGcm_for_every_plaintext_length_0_to_1500()
    {
        if (!IntrinsicAesGcm.IsSupported)
        {
            return;
        }

        for (int length = 0; length <= 1500; length++)
        {
            AssertSameAsPlatform(16 + (8 * (length % 3)), length % 37, length, length);
        }
    }

    [Fact]
    public void Encrypts_in_place()
    {
        if (!IntrinsicAesGcm.IsSupported)
        {
            return;
        }

        byte[] key = RandomNumberGenerator.GetBytes(32);
        byte[] nonce = RandomNumberGenerator.GetBytes(12);
        byte[] plain = RandomNumberGenerator.GetBytes(1000);
        byte[] expected = new byte[plain.Length];
        byte[] expectedTag = new byte[16];
        using (AesGcm platform = new(key, 16))
        {
            platform.Encrypt(nonce, plain, expected, expectedTag);
        }

        IntrinsicAesGcm gcm = new(key);
        byte[] buffer = (byte[])plain.Clone();
        byte[] tag = new byte[16];
        gcm.Encrypt(nonce, buffer, buffer, tag, []);
        Assert.Equal(expected, buffer);
        Assert.Equal(expectedTag, tag);
        Assert.True(gcm.TryDecrypt(nonce, buffer, tag, buffer, []));
        Assert.Equal(plain, buffer);
        Assert.Throws<ArgumentException>(() => gcm.Encrypt(nonce, buffer.AsSpan(0, 500), buffer.AsSpan(1, 500), tag, []));
    }

    [Fact]
    public void Any_changed_byte_of_nonce_ciphertext_tag_or_aad_or_another_key_is_refused_and_the_output_cleared()
    {
        if (!IntrinsicAesGcm.IsSupported)
        {
            return;
        }

        byte[] key = RandomNumberGenerator.GetBytes(24);
        byte[] nonce = RandomNumberGenerator.GetBytes(12);
        byte[] aad = RandomNumberGenerator.GetBytes(21);
        byte[] plain = RandomNumberGenerator.GetBytes(77);
        IntrinsicAesGcm gcm = new(key);
        byte[] cipher = new byte[plain.Length];
        byte[] tag = new byte[16];
        gcm.Encrypt(nonce, plain, cipher, tag, aad);
        byte[] opened = new byte[plain.Length];

        void Refused(byte[] n, byte[] c, byte[] t, byte[] a, IntrinsicAesGcm cipherUsed, string what)
        {
            opened.AsSpan().Fill(0xEE);
            Assert.False(cipherUsed.TryDecrypt(n, c, t, opened, a), what);
            Assert.True(opened.All(b => b == 0), $"{what}: the output was not cleared");
        }

        foreach ((byte[] buffer, string name) in new[] { (nonce, "nonce"), (cipher, "ciphertext"), (tag, "tag"), (aad, "aad") })
        {
            for (int i = 0; i < buffer.Length; i++)
            {
                for (int bit = 0; bit < 8; bit += 7)
                {
                    buffer[i] ^= (byte)(1 << bit);
                    Refused(nonce, cipher, tag, aad, gcm, $"{name} byte {i} bit {bit}");
                    buffer[i] ^= (byte)(1 << bit);
                }
            }
        }

        Refused(nonce, cipher, tag, aad[..^1], gcm, "aad shortened");
        Refused(nonce, cipher, tag, aad, new IntrinsicAesGcm(RandomNumberGenerator.GetBytes(24)), "another key");
        Assert.True(gcm.TryDecrypt(nonce, cipher, tag, opened, aad));
        Assert.Equal(plain, opened);
    }

    [Fact]
    public void GcmCipher_picks_the_intrinsic_path_where_supported_and_both_paths_interoperate()
    {
        byte[] key = RandomNumberGenerator.GetBytes(32);
        using GcmCipher preferred = new(key);
        using GcmCipher platform = new(key, preferIntrinsic: false);
        Assert.Equal(IntrinsicAesGcm.IsSupported, preferred.IsIntrinsic);
        Assert.False(platform.IsIntrinsic);

        byte[] nonce = RandomNumberGenerator.GetBytes(12);
        byte[] plain = RandomNumberGenerator.GetBytes(1400);
        byte[] cipher = new byte[plain.Length];
        byte[] tag = new byte[16];
        preferred.Encrypt(nonce, plain, cipher, tag, [1, 0, 2]);
        byte[] opened = new byte[plain.Length];
        Assert.True(platform.TryDecrypt(nonce, cipher, tag, opened, [1, 0, 2]));
        Assert.Equal(plain, opened);
        tag[0] ^= 1;
        Assert.False(platform.TryDecrypt(nonce, cipher, tag, opened, [1, 0, 2]));
        Assert.False(preferred.TryDecrypt(nonce, cipher, tag, opened, [1, 0, 2]));
    }

    private static void AssertSameAsPlatform(int keyBytes, int aadBytes, int plainBytes, int seed)
    {
        Random random = new(seed);
        byte[] key = new byte[keyBytes];
        byte[] nonce = new byte[12];
        byte[] aad = new byte[aadBytes];
        byte[] plain = new byte[plainBytes];
        random.NextBytes(key);
        random.NextBytes(nonce);
        random.NextBytes(aad);
        random.NextBytes(plain);

        byte[] expected = new byte[plainBytes];
        byte[] expectedTag = new byte[16];
        using (AesGcm platform = new(key, 16))
        {
            platform.Encrypt(nonce, plain, expected, expectedTag, aad);
        }

        IntrinsicAesGcm gcm = new(key);
        byte[] cipher = new byte[plainBytes];
        byte[] tag = new byte[16];
        gcm.Encrypt(nonce, plain, cipher, tag, aad);
        Assert.Equal(expected, cipher);
        Assert.Equal(expectedTag, tag);

        byte[] opened = new byte[plainBytes];
        Assert.True(gcm.TryDecrypt(nonce, cipher, tag, opened, aad));
        Assert.Equal(plain, opened);
    }
}
