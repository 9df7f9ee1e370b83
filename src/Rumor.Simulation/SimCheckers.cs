using Rumor.Core;

namespace Rumor.Simulation;

/// <summary>
/// Invariants checked on every step of a run, recorded as violations rather than thrown so a test
/// can report them all with the seed:
/// <list type="bullet">
/// <item>no datagram exceeds its sender's byte budget;</item>
/// <item>no member's (generation, incarnation) goes back in any observer's view;</item>
/// <item>a node never reports a change about itself.</item>
/// </list>
/// The convergence checks (agreement after faults heal) are queries: <see cref="SimCluster.MembershipAgrees(out string)"/>.
/// </summary>
public sealed class SimCheckers
{
    private readonly List<string> _violations = [];
    private readonly Dictionary<(int Observer, string Member), (ulong Generation, uint Incarnation)> _lastSeen = [];

    /// <summary>Whether to track per-observer incarnations (memory grows as nodes × members).</summary>
    public bool TrackIncarnations { get; set; } = true;

    /// <summary>Violations found so far (at most 100 kept).</summary>
    public IReadOnlyList<string> Violations => _violations;

    /// <summary>All violations ever found, including those not kept.</summary>
    public long ViolationCount { get; private set; }

    internal void OnPacketSent(SimNode from, int length, int budget, TimeSpan now)
    {
        if (length > budget)
        {
            Violate(now, $"{from.Name} sent a {length}-byte datagram over its {budget}-byte budget");
        }
    }

    internal void OnMemberChanged(SimNode observer, MemberChanged change)
    {
        MemberSnapshot member = change.Member;
        if (member.Name == observer.Name)
        {
            Violate(change.At, $"{observer.Name} reported a change about itself: {change.Kind}");
        }

        if (!TrackIncarnations)
        {
            return;
        }

        (int, string) key = (observer.Index, member.Name);
        if (change.Kind == MemberChangeKind.Reaped)
        {
            _lastSeen.Remove(key);
            return;
        }

        if (_lastSeen.TryGetValue(key, out (ulong Generation, uint Incarnation) last))
        {
            bool older = member.Generation < last.Generation || (member.Generation == last.Generation && member.Incarnation < last.Incarnation);
            if (older)
            {
                Violate(change.At, $"{observer.Name} moved {member.Name} back from gen {last.Generation} inc {last.Incarnation} to gen {member.Generation} inc {member.Incarnation} ({change.Kind})");
            }
        }

        _lastSeen[key] = (member.Generation, member.Incarnation);
    }

    internal void OnRestart(SimNode node)
    {
        // A restarted observer starts from an empty view: forget what it had seen.
        if (TrackIncarnations)
        {
            foreach ((int Observer, string Member) key in _lastSeen.Keys.Where(k => k.Observer == node.Index).ToList())
            {
                _lastSeen.Remove(key);
            }
        }
    }

    private void Violate(TimeSpan at, string text)
    {
        ViolationCount++;
        if (_violations.Count < 100)
        {
            _violations.Add($"at {at.TotalSeconds:0.000}s: {text}");
        }
    }
}
