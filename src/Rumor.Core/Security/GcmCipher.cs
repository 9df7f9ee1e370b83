using System.Security.Cryptography;

namespace Rumor.Core.Security;

/// <summary>
/// One installed key's AES-GCM (12-byte nonce, 16-byte tag): <see cref="IntrinsicAesGcm"/> where
/// the CPU has AES-NI and PCLMULQDQ (about 1 µs cheaper per call than the platform's), else the
/// platform's <see cref="AesGcm"/>. Both produce the same bytes, so members using either
/// interoperate. A failed authentication is a false return, not an exception: a datagram under a
/// wrong key costs no throw per key tried.
/// </summary>
internal sealed class GcmCipher : IDisposable
{
    private readonly IntrinsicAesGcm? _intrinsic;
    private readonly AesGcm? _platform;

    /// <summary>Creates the cipher for <paramref name="key"/> (16, 24 or 32 bytes); <paramref name="preferIntrinsic"/> false forces the platform's (tests, benchmarks).</summary>
    public GcmCipher(byte[] key, bool preferIntrinsic = true)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (preferIntrinsic && IntrinsicAesGcm.IsSupported)
        {
            _intrinsic = new IntrinsicAesGcm(key);
        }
        else
        {
            _platform = new AesGcm(key, PacketEnvelope.TagBytes);
        }
    }

    /// <summary>True when this cipher runs on the CPU's AES instructions directly (not the platform's <see cref="AesGcm"/>).</summary>
    public bool IsIntrinsic => _intrinsic is not null;

    /// <summary>Encrypts and writes the tag (as <see cref="AesGcm.Encrypt(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte}, Span{byte}, ReadOnlySpan{byte})"/>).</summary>
    public void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> associatedData)
    {
        if (_intrinsic is not null)
        {
            _intrinsic.Encrypt(nonce, plaintext, ciphertext, tag, associatedData);
        }
        else
        {
            _platform!.Encrypt(nonce, plaintext, ciphertext, tag, associatedData);
        }
    }

    /// <summary>Authenticates and decrypts; false (and <paramref name="plaintext"/> cleared) when the tag does not match.</summary>
    public bool TryDecrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        if (_intrinsic is not null)
        {
            return _intrinsic.TryDecrypt(nonce, ciphertext, tag, plaintext, associatedData);
        }

        try
        {
            _platform!.Decrypt(nonce, ciphertext, tag, plaintext, associatedData);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _intrinsic?.Clear();
        _platform?.Dispose();
    }
}
