using Rumor.Core.Membership;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core;

/// <summary>
/// The membership checksum kept as the view changes, and the sync it drives
/// (<see cref="GossipOptions.ViewChecksumInAcks"/>, docs/PROTOCOL.md §6.17).
/// <para>
/// Rumor mongering leaves a residue: each member passes a piece of news on a limited number of times
/// (RetransmitMultiplier × ceil(log10(N + 1))), so now and then a member hears none of them. Measured
/// in the simulator, 79 of 800 clusters of 60 members started 5 ms apart still disagreed after 5 s,
/// some for 29 s, until a periodic push-pull (every 30 s and more) happened to reach the member that
/// missed a joiner. Here every ack carries the checksum of the acker's active members, and a prober
/// that hears the same checksum from two members in a row, different from its own, while its own
/// active view did not change in between nor for 2 × ProbeInterval, push-pulls with the second one at
/// once. Two members that agree with each other and not with us, with no news reaching us meanwhile,
/// say that we are the one behind (or ahead); while news is still spreading the views differ from
/// member to member and change, so nothing fires.
/// </para>
/// </summary>
public sealed partial class GossipNode
{
    /// <summary>Sum of <see cref="MembershipChecksum.Hash"/> over <see cref="_members"/>, kept as members change (the push-pull's checksum).</summary>
    private ulong _viewSum;

    /// <summary>The same over the active members (alive or suspect) only: the checksum acks carry.</summary>
    private ulong _activeViewSum;

    /// <summary>Counts changes to the active view (an active member added, removed or changed, a member becoming or ceasing to be active).</summary>
    private long _viewVersion;

    /// <summary>When the active view last changed.</summary>
    private TimeSpan _viewChangedAt;

    /// <summary>The last differing ack's checksum, and our view's version and the acker's name then.</summary>
    private ViewMismatch _viewMismatch;

    /// <summary>When we last opened a push-pull because of differing acks.</summary>
    private TimeSpan? _lastViewSync;

    private bool ViewSyncOn => _options.ViewChecksumInAcks && _options.FailureDetector == FailureDetectorKind.Swim;

    /// <summary>Fewest time between two syncs of this node opened because of differing acks.</summary>
    private TimeSpan ViewSyncGap => _options.ProbeInterval * 5;

    /// <summary>
    /// How long our view must have been unchanged before differing acks open a sync: news still
    /// spreading (a crash's dead verdict, a reap that members make seconds apart) settles first.
    /// </summary>
    private TimeSpan ViewQuiet => _options.ProbeInterval * 2;

    /// <summary>
    /// True when both checksums kept as the view changed (of all members, and of the active ones) equal
    /// those computed from the member list now (tests and the simulator's invariants).
    /// </summary>
    internal bool ViewChecksumIsConsistent(out ulong kept, out ulong computed)
    {
        ulong keyring = _security.Keyring?.Version ?? 0;
        kept = MembershipChecksum.WithKeyring(_viewSum, keyring);
        computed = MembershipChecksum.Of(_members, keyring);
        ulong keptActive = OurActiveChecksum();
        ulong computedActive = MembershipChecksum.Of(_members, keyring, activeOnly: true);
        if (kept == computed && keptActive != computedActive)
        {
            (kept, computed) = (keptActive, computedActive);
        }

        return kept == computed;
    }

    /// <summary>
    /// The checksum of our active members (alive or suspect) and keyring version, as acks carry it.
    /// Dead and departed members are left out: each member forgets them on its own schedule (when its
    /// probe order wraps after DeadMemberRetention), so views differ by them for up to N probe
    /// intervals, and a member that missed a death or a leave finds out by probing anyway.
    /// </summary>
    private ulong OurActiveChecksum() => MembershipChecksum.WithKeyring(_activeViewSum, _security.Keyring?.Version ?? 0);

    /// <summary>Call before changing a member's name, generation, incarnation, state or address, or removing it.</summary>
    private void ViewLeaving(Member member)
    {
        ulong hash = MembershipChecksum.Hash(member);
        _viewSum -= hash;
        if (member.IsActive)
        {
            _activeViewSum -= hash;
            ActiveViewChanged();
        }
    }

    /// <summary>Call after adding a member or changing one of those fields.</summary>
    private void ViewEntering(Member member)
    {
        ulong hash = MembershipChecksum.Hash(member);
        _viewSum += hash;
        if (member.IsActive)
        {
            _activeViewSum += hash;
            ActiveViewChanged();
        }
    }

    private void ActiveViewChanged()
    {
        _viewVersion++;
        _viewChangedAt = _now;
    }

    private void AddViewChecksum(PacketBuilder builder, uint sequence)
    {
        if (ViewSyncOn)
        {
            _ = builder.TryAdd(new ViewChecksumMessage(sequence, OurActiveChecksum())); // left out if the budget is tiny
        }
    }

    private void HandleViewChecksum(NodeAddress from, in ViewChecksumMessage message, TimeSpan now)
    {
        // Only the checksum in the same packet as our own probe's direct ack, from the probed address:
        // a relayed ack's checksum is the relay's business, and a stray one changes nothing.
        if (!ViewSyncOn || _probe is not { } probe || probe.Sequence != message.Sequence || probe.AckedAt != now
            || probe.IndirectSent != 0 || probe.Target.Address != from)
        {
            return;
        }

        if (message.Checksum == OurActiveChecksum())
        {
            _viewMismatch = default;
            return;
        }

        Counters.ViewChecksumsDiffering++;
        ViewMismatch previous = _viewMismatch;
        _viewMismatch = new ViewMismatch(probe.Target.Name, message.Checksum, _viewVersion);
        if (previous.Peer is null || previous.Peer == probe.Target.Name || previous.Theirs != message.Checksum || previous.OurVersion != _viewVersion)
        {
            return; // one differing answer, or two that differ from each other, or news reached us in between
        }

        if (_leaving || now - _viewChangedAt < ViewQuiet || (_lastViewSync is { } last && now - last < ViewSyncGap) || PushPullPendingWith(from))
        {
            return;
        }

        _lastViewSync = now;
        _viewMismatch = default;
        Counters.ViewSyncs++;
        OpenPushPull(from, join: false, now);
    }

    private bool PushPullPendingWith(NodeAddress address)
    {
        foreach (PendingStream pending in _pendingStreams.Values)
        {
            if (pending.To == address)
            {
                return true;
            }
        }

        return false;
    }

    private readonly record struct ViewMismatch(string? Peer, ulong Theirs, long OurVersion);
}
