using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Rumor.Serf.Wire;

/// <summary>
/// memberlist's AES-GCM keyring (serf-wire.md 3.7): keys of 16, 24 or 32 bytes (AES-128/192/256);
/// the first (primary) encrypts, every key is tried to decrypt. Ciphertext layout
/// <c>[vsn][12-byte nonce][ciphertext][16-byte tag]</c>; version 1 is plain GCM (what Serf sends),
/// version 0 pads the plaintext PKCS#7 to 16 bytes first (accepted on receive). Packets use no
/// additional data; streams are <c>[10][u32 BE length][encrypted]</c> with the 5-byte header as
/// additional data. The ring changes at run time as Serf's key queries ask (install, use, remove),
/// with memberlist's rules and messages. Thread-safe: the key list is replaced under a lock and read
/// as a snapshot; each call creates its own <see cref="AesGcm"/>.
/// </summary>
public sealed class SerfKeyring
{
    /// <summary>Bytes added to a packet: version, nonce and tag.</summary>
    public const int Overhead = 1 + NonceBytes + TagBytes;

    /// <summary>Largest encrypted stream accepted (memberlist's limit).</summary>
    public const int MaxStreamBytes = 20 << 20;

    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private readonly Lock _lock = new();
    private byte[][] _keys;

    /// <summary>A keyring whose first key is the primary; throws for a key that is not 16, 24 or 32 bytes.</summary>
    public SerfKeyring(IEnumerable<byte[]> keys)
    {
        _keys = [.. keys.Select(k => k is { Length: 16 or 24 or 32 } ? (byte[])k.Clone() : throw new ArgumentException("a key must be 16, 24 or 32 bytes", nameof(keys)))];
        if (_keys.Length == 0)
        {
            throw new ArgumentException("a keyring needs at least one key", nameof(keys));
        }
    }

    /// <summary>A keyring of one key given in base64 (Serf's <c>-encrypt</c>, <c>serf keygen</c>).</summary>
    public static SerfKeyring FromBase64(string key)
    {
        try
        {
            return new SerfKeyring([Convert.FromBase64String(key)]);
        }
        catch (FormatException e)
        {
            throw new ArgumentException("the key is not base64", nameof(key), e);
        }
    }

    /// <summary>The keys, primary first (copies).</summary>
    public IReadOnlyList<byte[]> Keys
    {
        get
        {
            lock (_lock)
            {
                return [.. _keys.Select(k => (byte[])k.Clone())];
            }
        }
    }

    /// <summary>
    /// Installs a key for decryption (memberlist's <c>AddKey</c>): a key already present is left as it
    /// is. Throws <see cref="ArgumentException"/> for a key that is not 16, 24 or 32 bytes.
    /// </summary>
    public void AddKey(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length is not (16 or 24 or 32))
        {
            throw new ArgumentException("key size must be 16, 24 or 32 bytes", nameof(key));
        }

        lock (_lock)
        {
            if (!_keys.Any(k => k.AsSpan().SequenceEqual(key)))
            {
                _keys = [.. _keys, (byte[])key.Clone()];
            }
        }
    }

    /// <summary>Makes an installed key the primary (memberlist's <c>UseKey</c>); throws <see cref="InvalidOperationException"/> when it is not installed.</summary>
    public void UseKey(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            byte[] found = _keys.FirstOrDefault(k => k.AsSpan().SequenceEqual(key)) ?? throw new InvalidOperationException("Requested key is not in the keyring");
            _keys = [found, .. _keys.Where(k => k != found)];
        }
    }

    /// <summary>Removes a key (memberlist's <c>RemoveKey</c>: a key not installed is no error); throws <see cref="InvalidOperationException"/> for the primary key.</summary>
    public void RemoveKey(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            if (_keys[0].AsSpan().SequenceEqual(key))
            {
                throw new InvalidOperationException("Removing the primary key is not allowed");
            }

            _keys = [.. _keys.Where(k => !k.AsSpan().SequenceEqual(key))];
        }
    }

    private byte[][] Snapshot()
    {
        lock (_lock)
        {
            return _keys;
        }
    }

    /// <summary>Encrypts with the primary key and a random nonce (version 1).</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> additionalData) =>
        Encrypt(plaintext, additionalData, RandomNumberGenerator.GetBytes(NonceBytes));

    /// <summary>Encrypts with a given nonce (test vectors only; real nonces must never repeat).</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> additionalData, ReadOnlySpan<byte> nonce)
    {
        byte[] output = new byte[Overhead + plaintext.Length];
        output[0] = 1;
        nonce.CopyTo(output.AsSpan(1, NonceBytes));
        using AesGcm aes = new(Snapshot()[0], TagBytes);
        aes.Encrypt(nonce, plaintext, output.AsSpan(1 + NonceBytes, plaintext.Length), output.AsSpan(1 + NonceBytes + plaintext.Length), additionalData);
        return output;
    }

    /// <summary>Decrypts with whichever key fits; false when none does or the layout is wrong. Never throws.</summary>
    public bool TryDecrypt(ReadOnlySpan<byte> message, ReadOnlySpan<byte> additionalData, out byte[] plaintext)
    {
        plaintext = [];
        if (message.Length < Overhead || message[0] > 1)
        {
            return false;
        }

        ReadOnlySpan<byte> nonce = message.Slice(1, NonceBytes);
        ReadOnlySpan<byte> cipher = message[(1 + NonceBytes)..^TagBytes];
        ReadOnlySpan<byte> tag = message[^TagBytes..];
        byte[] output = new byte[cipher.Length];
        foreach (byte[] key in Snapshot())
        {
            try
            {
                using AesGcm aes = new(key, TagBytes);
                aes.Decrypt(nonce, cipher, tag, output, additionalData);
            }
            catch (AuthenticationTagMismatchException)
            {
                continue;
            }

            if (message[0] == 0)
            {
                // Version 0: PKCS#7 padding to the block size.
                int pad = output.Length > 0 ? output[^1] : 0;
                if (pad is < 1 or > 16 || pad > output.Length)
                {
                    return false;
                }

                output = output[..^pad];
            }

            plaintext = output;
            return true;
        }

        return false;
    }

    /// <summary>A stream message encrypted: <c>[10][u32 BE length][vsn][nonce][ciphertext][tag]</c>.</summary>
    public byte[] EncryptStream(ReadOnlySpan<byte> message)
    {
        byte[] header = new byte[5];
        header[0] = (byte)MemberlistType.Encrypt;
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(1), (uint)(Overhead + message.Length));
        return [.. header, .. Encrypt(message, header)];
    }
}
