using Rumor.Core.Wire.Messages;

namespace Rumor.Core;

/// <summary>
/// Live key rotation, the kernel's part (docs/SECURITY.md; the logic is in Security/PacketSecurity,
/// the public operations in Security/GossipNodeKeys): the ring travels in sealed push-pulls, a newer
/// one is adopted, and an unanswered join is retried sealed with each further key of our ring.
/// </summary>
public sealed partial class GossipNode
{
    private IReadOnlyList<StateSection> PushPullSections() => _security.RingSections() ?? _noSections;

    private void MergeRing(in PushPullMessage message, NodeAddress source)
    {
        if (_security.TryAdoptRing(message.Sections, out bool malformed))
        {
            Emit(new KeyringChanged(_now, _security.Keyring!.Version, _security.Keyring.Count, "learnt from " + source));
        }
        else if (malformed)
        {
            Counters.CountDecodeError(Wire.DecodeError.Malformed);
        }
    }

    private bool RetryJoinWithNextKey(PendingStream pending, TimeSpan now)
    {
        if (!pending.Join || !_security.HasKeyAfter(pending.KeyIndex))
        {
            return false;
        }

        OpenPushPull(pending.To, join: true, now, pending.KeyIndex + 1);
        return true;
    }
}
