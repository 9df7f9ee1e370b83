using Rumor.Core.Security;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core;

/// <summary>
/// Live key rotation, the kernel's part (docs/SECURITY.md, "Rotating keys"): the node's own
/// keyring changes at run time (install, use, remove, each raising the ring's version), travels
/// with its version in every sealed push-pull, and a newer ring learnt from an authentic push-pull
/// is adopted. A join that is not answered with the primary key is retried with each older key of
/// the ring, so a member that was offline during a rotation still reaches a member that holds one
/// of its keys, which replies in that key and hands it the current ring.
/// </summary>
public sealed partial class GossipNode
{
    /// <summary>This node's own keyring (a copy of <see cref="GossipOptions.Keyring"/>, changed at run time); null without encryption. Read it on the node's loop only.</summary>
    public GossipKeyring? Keyring => _security.Keyring;

    /// <summary>
    /// Installs, makes primary or removes <paramref name="key"/> in this node's keyring and raises
    /// its version to at least <paramref name="ringVersion"/>. Returns null on success (also when
    /// nothing had to change), else why it was refused: no encryption, an uninstalled key made
    /// primary, the primary removed, a full ring. Reports <see cref="KeyringChanged"/> on a change.
    /// </summary>
    public string? ApplyKeyOperation(KeyOperation operation, byte[] key, ulong ringVersion)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_security.Keyring is not { } ring)
        {
            return "gossip encryption is off on this member (no keyring)";
        }

        if (key.Length is not (16 or 24 or 32))
        {
            return $"a key is 16, 24 or 32 bytes; this one is {key.Length}";
        }

        bool changed;
        switch (operation)
        {
            case KeyOperation.Install:
                if (ring.Contains(key))
                {
                    changed = false;
                    break;
                }

                if (ring.Count >= GossipKeyring.KeysMax)
                {
                    return $"the keyring already holds {GossipKeyring.KeysMax} keys; remove one first";
                }

                ring.Install(key);
                changed = true;
                break;
            case KeyOperation.Use:
                if (!ring.Contains(key))
                {
                    return "the key is not installed on this member; install it first";
                }

                changed = ring.IndexOf(key) != 0;
                ring.Use(key);
                break;
            case KeyOperation.Remove:
                if (ring.IndexOf(key) == 0)
                {
                    return "the key is this member's primary key; make another key primary first";
                }

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

        if (changed)
        {
            Emit(new KeyringChanged(_now, ring.Version, ring.Count, operation.ToString().ToLowerInvariant()));
        }

        return null;
    }

    /// <summary>The sections of our push-pulls: the ring, only when what we send is sealed (never in plaintext).</summary>
    private IReadOnlyList<StateSection> PushPullSections() =>
        _security.Encrypted && _security.Keyring is { } ring ? [KeyringSection.Encode(ring)] : _noSections;

    /// <summary>Adopts a newer ring carried by an authentic push-pull from <paramref name="source"/>.</summary>
    private void MergeRing(in PushPullMessage message, NodeAddress source)
    {
        if (_security.Keyring is not { } ring || !_security.LastStreamAuthenticated)
        {
            return;
        }

        foreach (StateSection section in message.Sections)
        {
            if (section.Kind != KeyringSection.Kind)
            {
                continue;
            }

            if (!KeyringSection.TryDecode(section.Data, out ulong version, out IReadOnlyList<byte[]> keys))
            {
                Counters.CountDecodeError(Wire.DecodeError.Malformed);
                return;
            }

            if (version > ring.Version)
            {
                ring.Adopt(keys, version);
                Emit(new KeyringChanged(_now, version, ring.Count, "learnt from " + source));
            }

            return;
        }
    }

    /// <summary>A join stream failed: retries it sealed with our next key when there is one (true), so a rotation we missed does not lock us out.</summary>
    private bool RetryJoinWithNextKey(PendingStream pending, TimeSpan now)
    {
        if (!pending.Join || _security.Keyring is not { } ring || !_security.Encrypted || pending.KeyIndex + 1 >= ring.Count)
        {
            return false;
        }

        OpenPushPull(pending.To, join: true, now, pending.KeyIndex + 1);
        return true;
    }

    /// <summary>Adds to a failed join's reason what a keyed node should know: every one of our keys was tried.</summary>
    private string JoinFailureReason(string reason) =>
        _security.Keyring is { } ring && _security.Encrypted
            ? $"{reason}; tried with each of our {ring.Count} key(s): if the seed is up, it holds none of them (a member offline while the cluster rotated away from all its keys needs a current key: rumor keys list on a member, then --encrypt or --keyring-file here)"
            : reason;
}

/// <summary>A change to a node's keyring (<c>rumor keys</c>).</summary>
public enum KeyOperation
{
    /// <summary>Install a key for decryption.</summary>
    Install,

    /// <summary>Make an installed key primary (it encrypts).</summary>
    Use,

    /// <summary>Remove a key that is not primary.</summary>
    Remove,
}

/// <summary>This node's keyring changed: a key operation, or a newer ring adopted from a push-pull (<paramref name="Cause"/>). Persist it (the transport writes keyring.json in the data directory).</summary>
public sealed record KeyringChanged(TimeSpan At, ulong Version, int KeyCount, string Cause) : GossipEvent(At);
