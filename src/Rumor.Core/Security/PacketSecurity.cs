using Rumor.Core.Diagnostics;
using Rumor.Core.Randomness;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Security;

/// <summary>
/// Encryption at the node's edge, owned by one object the kernel calls for every packet in and out (docs/SECURITY.md). With a keyring every datagram and stream
/// message leaves sealed in an AES-GCM envelope (<see cref="PacketEnvelope"/>), and what arrives is
/// authenticated, checked against the sender's replay window and decrypted before any other byte
/// is parsed; what fails is counted and dropped. The nonce is a per-run prefix drawn from the node's
/// random source, mixed with the generation, and a counter that only grows, so one node never reuses
/// a nonce under a key. Migration: with <see cref="VerifyIncoming"/> false the node still sends
/// sealed but also accepts plaintext (counted); with <see cref="EncryptOutgoing"/> false too it sends
/// plaintext while accepting both. A running cluster migrates as with Serf: give every node the key
/// with both off, switch EncryptOutgoing on everywhere, then VerifyIncoming, with no restart between.
/// </summary>
internal sealed class PacketSecurity
{
    private readonly GossipKeyring? _keyring;
    private readonly ReplayGuard _replays = new();
    private readonly NodeCounters _counters;
    private readonly byte[]? _sealScratch;
    private readonly byte[]? _openScratch;
    private readonly uint _noncePrefix;
    private ulong _nonceCounter;
    private byte[]? _lastStreamKey;

    /// <summary>Creates the edge for <paramref name="keyring"/> (null: plaintext); draws the nonce prefix from <paramref name="random"/> only when encrypting, so unencrypted runs keep their fixed-seed traces.</summary>
    public PacketSecurity(GossipKeyring? keyring, bool verifyIncoming, bool encryptOutgoing, IRandomSource random, ulong generation, NodeCounters counters)
    {
        _keyring = keyring;
        _counters = counters;
        VerifyIncoming = verifyIncoming;
        EncryptOutgoing = encryptOutgoing;
        if (keyring is not null)
        {
            _noncePrefix = (uint)(random.NextUInt64() ^ generation ^ (generation >> 32));
            _sealScratch = new byte[WireLimits.DatagramMaxBytes];
            _openScratch = new byte[WireLimits.DatagramMaxBytes];
        }
    }

    /// <summary>
    /// With a keyring: refuse plaintext (true, the default) or accept it while still sending
    /// encrypted (false, for migrating a running cluster). Changeable at run time from the loop.
    /// </summary>
    public bool VerifyIncoming { get; set; } = true;

    /// <summary>
    /// With a keyring: seal what we send (true, the default) or send plaintext while already accepting
    /// both (false: the first step of migrating a running cluster). Changeable at run time from the loop.
    /// </summary>
    public bool EncryptOutgoing { get; set; } = true;

    /// <summary>This node's own keyring (null: plaintext). Changed at run time from the loop only (<c>rumor keys</c>, or a newer ring adopted from a push-pull).</summary>
    public GossipKeyring? Keyring => _keyring;

    /// <summary>True when the last stream message opened came in an authentic envelope (not plaintext accepted while migrating): only then may a ring it carries be trusted.</summary>
    public bool LastStreamAuthenticated { get; private set; }

    /// <summary>True when this node seals what it sends.</summary>
    public bool Encrypted => _keyring is not null && EncryptOutgoing;

    /// <summary>Bytes the envelope adds to every packet: its overhead with a keyring, else 0.</summary>
    public int OverheadBytes => _keyring is null ? 0 : PacketEnvelope.OverheadBytes;

    /// <summary>Seals a datagram when encrypting; returns it unchanged otherwise.</summary>
    public ReadOnlySpan<byte> SealDatagram(ReadOnlySpan<byte> packet)
    {
        if (_keyring is null || !EncryptOutgoing)
        {
            return packet;
        }

        int length = PacketEnvelope.Seal(_keyring, _noncePrefix, NextNonceCounter(), packet, _sealScratch);
        return _sealScratch.AsSpan(0, length);
    }

    /// <summary>Seals a stream message when encrypting, with the installed key at <paramref name="keyIndex"/> (0: the primary; a join retries with the others).</summary>
    public ReadOnlySpan<byte> SealStream(ReadOnlySpan<byte> message, int keyIndex = 0)
    {
        if (_keyring is null || !EncryptOutgoing)
        {
            return message;
        }

        byte[] sealedMessage = new byte[message.Length + PacketEnvelope.OverheadBytes];
        int index = keyIndex >= 0 && keyIndex < _keyring.Count ? keyIndex : 0;
        PacketEnvelope.Seal(_keyring, index, _noncePrefix, NextNonceCounter() | PacketEnvelope.StreamChannelBit, message, sealedMessage);
        return sealedMessage;
    }

    /// <summary>
    /// Seals the reply to the stream request just opened with the key that request came in (when
    /// still installed), not the primary: a member that missed a rotation and still holds an older
    /// key of the ring can read the answer, and so learn the current ring.
    /// </summary>
    public ReadOnlySpan<byte> SealReply(ReadOnlySpan<byte> message) =>
        SealStream(message, _keyring is not null && _lastStreamKey is not null ? _keyring.IndexOf(_lastStreamKey) : 0);

    private ulong NextNonceCounter()
    {
        // 2^63 packets per run: never reached, but never wrap into a reused nonce either.
        if (_nonceCounter >= ~PacketEnvelope.StreamChannelBit)
        {
            throw new InvalidOperationException("The nonce counter is exhausted; restart the node.");
        }

        return ++_nonceCounter;
    }

    /// <summary>
    /// Authenticates an incoming datagram. True with the plain packet to parse; false when it was
    /// dropped (counted): a bad envelope, a replay, or plaintext while verifying.
    /// </summary>
    public bool TryUnsealDatagram(ReadOnlySpan<byte> packet, out ReadOnlySpan<byte> plain)
    {
        plain = packet;
        if (_keyring is null)
        {
            return true;
        }

        if (!PacketEnvelope.IsEnvelope(packet))
        {
            return AcceptPlaintext();
        }

        if (!PacketEnvelope.TryOpen(_keyring, packet, _openScratch, out int length, out uint prefix, out ulong counter))
        {
            _counters.PacketsUnauthenticated++;
            return false;
        }

        if ((counter & PacketEnvelope.StreamChannelBit) != 0 || !_replays.TryAccept(prefix, counter))
        {
            _counters.ReplaysRefused++;
            return false;
        }

        plain = _openScratch.AsSpan(0, length);
        return true;
    }

    /// <summary>The stream-message counterpart of <see cref="TryUnsealDatagram"/> (allocates the plain copy).</summary>
    public bool TryUnsealStream(ReadOnlySpan<byte> message, out ReadOnlySpan<byte> plain)
    {
        plain = message;
        LastStreamAuthenticated = false;
        _lastStreamKey = null;
        if (_keyring is null)
        {
            return true;
        }

        if (!PacketEnvelope.IsEnvelope(message))
        {
            return AcceptPlaintext();
        }

        byte[] buffer = new byte[Math.Max(0, message.Length - PacketEnvelope.OverheadBytes)];
        if (!PacketEnvelope.TryOpen(_keyring, message, buffer, out int length, out uint prefix, out ulong counter, out int keyIndex))
        {
            _counters.PacketsUnauthenticated++;
            return false;
        }

        if ((counter & PacketEnvelope.StreamChannelBit) == 0 || !_replays.TryAccept(prefix, counter))
        {
            _counters.ReplaysRefused++;
            return false;
        }

        plain = buffer.AsSpan(0, length);
        LastStreamAuthenticated = true;
        _lastStreamKey = _keyring.KeyAt(keyIndex);
        return true;
    }

    private bool AcceptPlaintext()
    {
        if (VerifyIncoming)
        {
            _counters.PlaintextRefused++;
            return false;
        }

        _counters.PlaintextAccepted++;
        return true;
    }

    /// <summary>
    /// Applies a key operation to our keyring and raises its version to at least
    /// <paramref name="ringVersion"/>; null on success (also when nothing had to change), else why not.
    /// </summary>
    public string? ApplyKeyOperation(KeyOperation operation, byte[] key, ulong ringVersion, out bool changed)
    {
        ArgumentNullException.ThrowIfNull(key);
        changed = false;
        if (_keyring is not { } ring)
        {
            return "gossip encryption is off on this member (no keyring)";
        }

        if (key.Length is not (16 or 24 or 32))
        {
            return $"a key is 16, 24 or 32 bytes; this one is {key.Length}";
        }

        switch (operation)
        {
            case KeyOperation.Install when !ring.Contains(key) && ring.Count >= GossipKeyring.KeysMax:
                return $"the keyring already holds {GossipKeyring.KeysMax} keys; remove one first";
            case KeyOperation.Install:
                changed = !ring.Contains(key);
                ring.Install(key);
                break;
            case KeyOperation.Use when !ring.Contains(key):
                return "the key is not installed on this member; install it first";
            case KeyOperation.Use:
                changed = ring.IndexOf(key) != 0;
                ring.Use(key);
                break;
            case KeyOperation.Remove when ring.IndexOf(key) == 0:
                return "the key is this member's primary key; make another key primary first";
            case KeyOperation.Remove:
                changed = ring.Contains(key);
                ring.Remove(key);
                break;
            default:
                return $"unknown key operation {operation}";
        }

        if (ringVersion > ring.Version)
        {
            ring.Version = ringVersion;
            changed = true;
        }

        return null;
    }

    /// <summary>The ring as push-pull sections, only when what we send is sealed (never in plaintext); null otherwise.</summary>
    public IReadOnlyList<StateSection>? RingSections() =>
        Encrypted ? [KeyringSection.Encode(_keyring!)] : null;

    /// <summary>
    /// Adopts the ring carried by the push-pull just opened when its version is higher than ours and
    /// the stream came in an authentic envelope (true). <paramref name="malformed"/>: a ring section
    /// that does not decode.
    /// </summary>
    public bool TryAdoptRing(IReadOnlyList<StateSection> sections, out bool malformed)
    {
        malformed = false;
        if (_keyring is not { } ring || !LastStreamAuthenticated)
        {
            return false;
        }

        foreach (StateSection section in sections)
        {
            if (section.Kind != KeyringSection.Kind)
            {
                continue;
            }

            if (!KeyringSection.TryDecode(section.Data, out ulong version, out IReadOnlyList<byte[]> keys))
            {
                malformed = true;
                return false;
            }

            if (version <= ring.Version)
            {
                return false;
            }

            ring.Adopt(keys, version);
            return true;
        }

        return false;
    }

    /// <summary>True when a join sealed with the key at <paramref name="keyIndex"/> can be retried with a further key.</summary>
    public bool HasKeyAfter(int keyIndex) => Encrypted && keyIndex + 1 < _keyring!.Count;

    /// <summary>Adds to a failed join's reason what a keyed node should know: every one of our keys was tried.</summary>
    public string ExplainJoinFailure(string reason) =>
        Encrypted
            ? $"{reason}; tried with each of our {_keyring!.Count} key(s): if the seed is up, it holds none of them (a member offline while the cluster rotated away from all its keys needs a current key: rumor keys list on a member, then --encrypt or --keyring-file here)"
            : reason;
}
