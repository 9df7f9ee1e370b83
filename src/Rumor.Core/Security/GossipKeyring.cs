using System.Security.Cryptography;
using System.Text;

namespace Rumor.Core.Security;

/// <summary>
/// The AES-GCM keys a node gossips with (Serf's keyring): the primary key encrypts everything this
/// node sends; every installed key is tried when opening what arrives, so a cluster rotates keys by
/// installing the new key everywhere, then making it primary everywhere, then removing the old one.
/// Keys are 16, 24 or 32 bytes (AES-128/192/256), as Serf accepts, usually written in base64.
/// <para>
/// The keyring also carries the cluster label, authenticated as associated data with every packet:
/// two clusters that share a key by accident but not a label cannot read or inject into each other.
/// The core owns the keyring from the loop thread only (it is not thread-safe); a shell that changes
/// keys at run time does so through its loop.
/// </para>
/// </summary>
public sealed class GossipKeyring : IDisposable
{
    /// <summary>Most keys installed at once (each failed open tries them all).</summary>
    public const int KeysMax = 16;

    /// <summary>Longest cluster label, in UTF-8 bytes.</summary>
    public const int LabelMaxBytes = 255;

    private readonly List<Entry> _keys = [];
    private readonly byte[] _associatedData;

    /// <summary>Creates a keyring whose first key is primary.</summary>
    /// <param name="keys">One or more keys of 16, 24 or 32 bytes; the first encrypts.</param>
    /// <param name="clusterLabel">Authenticated with every packet; empty for none.</param>
    /// <param name="version">The ring's version (<see cref="Version"/>): 0 for a ring from configuration, the stored value for a persisted one.</param>
    public GossipKeyring(IEnumerable<byte[]> keys, string clusterLabel = "", ulong version = 0)
    {
        Version = version;
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(clusterLabel);
        byte[] label = Encoding.UTF8.GetBytes(clusterLabel);
        if (label.Length > LabelMaxBytes)
        {
            throw new ArgumentException($"The cluster label is {label.Length} bytes of UTF-8; at most {LabelMaxBytes}.", nameof(clusterLabel));
        }

        ClusterLabel = clusterLabel;
        _associatedData = new byte[PacketEnvelope.HeaderBytes + label.Length];
        PacketEnvelope.WriteHeader(_associatedData);
        label.CopyTo(_associatedData, PacketEnvelope.HeaderBytes);
        foreach (byte[] key in keys)
        {
            Install(key);
        }

        if (_keys.Count == 0)
        {
            throw new ArgumentException("A keyring needs at least one key.", nameof(keys));
        }
    }

    /// <summary>The cluster label authenticated with every packet.</summary>
    public string ClusterLabel { get; }

    /// <summary>
    /// The ring's version: raised by every cluster-wide key operation (<c>rumor keys</c>) and carried
    /// with the ring in encrypted push-pulls, so that a member that missed a rotation adopts the ring
    /// of a higher version (docs/SECURITY.md, "Rotating keys"). 0 for a ring from configuration.
    /// </summary>
    public ulong Version { get; internal set; }

    /// <summary>The installed keys, primary first.</summary>
    public IReadOnlyList<byte[]> Keys => _keys.ConvertAll(e => (byte[])e.Key.Clone());

    /// <summary>The key that encrypts.</summary>
    public byte[] PrimaryKey => (byte[])_keys[0].Key.Clone();

    /// <summary>Header + label: the associated data of every packet.</summary>
    internal ReadOnlySpan<byte> AssociatedData => _associatedData;

    internal int Count => _keys.Count;

    internal GcmCipher CipherAt(int index) => _keys[index].Cipher;

    /// <summary>The key at <paramref name="index"/> itself (not a copy): for finding it again by value.</summary>
    internal byte[] KeyAt(int index) => _keys[index].Key;

    /// <summary>True when <paramref name="key"/> is installed.</summary>
    public bool Contains(byte[] key) => key is not null && IndexOf(key) >= 0;

    /// <summary>A copy with the same keys, label and version: each node owns its keyring, so a rotation on one never touches another's.</summary>
    public GossipKeyring Clone() => new(_keys.ConvertAll(e => e.Key), ClusterLabel, Version);

    /// <summary>
    /// Replaces the keys with <paramref name="keys"/> (primary first) at <paramref name="version"/>:
    /// how a member adopts a newer ring learnt from the cluster. Ciphers of kept keys are reused,
    /// those of dropped keys disposed.
    /// </summary>
    internal void Adopt(IReadOnlyList<byte[]> keys, ulong version)
    {
        if (keys.Count == 0 || keys.Count > KeysMax)
        {
            throw new ArgumentException($"A ring holds 1 to {KeysMax} keys; this one {keys.Count}.", nameof(keys));
        }

        List<Entry> next = new(keys.Count);
        foreach (byte[] key in keys)
        {
            CheckKey(key);
            if (next.Exists(e => CryptographicOperations.FixedTimeEquals(e.Key, key)))
            {
                continue;
            }

            int index = IndexOf(key);
            next.Add(index >= 0 ? _keys[index] : new Entry((byte[])key.Clone(), new GcmCipher(key)));
        }

        foreach (Entry old in _keys)
        {
            if (!next.Contains(old))
            {
                old.Cipher.Dispose();
            }
        }

        _keys.Clear();
        _keys.AddRange(next);
        Version = version;
    }

    /// <summary>Parses a base64 key and checks its length (16, 24 or 32 bytes).</summary>
    public static byte[] ParseKey(string base64)
    {
        ArgumentNullException.ThrowIfNull(base64);
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64.Trim());
        }
        catch (FormatException)
        {
            throw new FormatException("An encryption key is base64 of 16, 24 or 32 bytes (`rumor keygen` prints one); this is not base64.");
        }

        CheckKey(key);
        return key;
    }

    /// <summary>A new random 32-byte key as base64 (what <c>rumor keygen</c> prints). Draws from the OS generator.</summary>
    public static string GenerateKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>Installs a key for decryption (no-op if present).</summary>
    public void Install(byte[] key)
    {
        CheckKey(key);
        if (IndexOf(key) >= 0)
        {
            return;
        }

        if (_keys.Count >= KeysMax)
        {
            throw new InvalidOperationException($"A keyring holds at most {KeysMax} keys; remove one first.");
        }

        _keys.Add(new Entry((byte[])key.Clone(), new GcmCipher(key)));
    }

    /// <summary>Makes an installed key primary.</summary>
    public void Use(byte[] key)
    {
        int index = IndexOf(key);
        if (index < 0)
        {
            throw new InvalidOperationException("Install a key before making it primary.");
        }

        Entry entry = _keys[index];
        _keys.RemoveAt(index);
        _keys.Insert(0, entry);
    }

    /// <summary>Removes a key that is not primary.</summary>
    public void Remove(byte[] key)
    {
        int index = IndexOf(key);
        if (index == 0)
        {
            throw new InvalidOperationException("The primary key cannot be removed; make another key primary first.");
        }

        if (index > 0)
        {
            _keys[index].Cipher.Dispose();
            _keys.RemoveAt(index);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (Entry entry in _keys)
        {
            entry.Cipher.Dispose();
        }
    }

    internal int IndexOf(byte[] key)
    {
        for (int i = 0; i < _keys.Count; i++)
        {
            if (CryptographicOperations.FixedTimeEquals(_keys[i].Key, key))
            {
                return i;
            }
        }

        return -1;
    }

    private static void CheckKey(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length is not (16 or 24 or 32))
        {
            throw new ArgumentException($"An encryption key is 16, 24 or 32 bytes (AES-128/192/256); this one is {key.Length}.", nameof(key));
        }
    }

    private readonly record struct Entry(byte[] Key, GcmCipher Cipher);
}
