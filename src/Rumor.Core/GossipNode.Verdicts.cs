using Rumor.Core.FailureDetection;
using Rumor.Core.Membership;

namespace Rumor.Core;

/// <summary>
/// Explained verdicts: every suspect and dead transition in our view leaves a
/// <see cref="VerdictRecord"/> saying who accused, when, who confirmed, how healthy this node was,
/// and what our own last probes of the member showed (a per-member chain of ProbeHistoryMax
/// records in one pool per node, filled as probes settle, given back when the member is reaped). The records go into a ring of VerdictsMax; overwrites are
/// counted. Invariant: one record per transition, written at the transition, never changed.
/// </summary>
public sealed partial class GossipNode
{
    private readonly VerdictLog _verdicts;
    private readonly ProbeHistoryStore _probeHistories;

    /// <summary>The latest suspect and dead verdicts this node reached, oldest first (bounded by VerdictsMax; see <see cref="VerdictLog.Overwritten"/>).</summary>
    public VerdictLog Verdicts => _verdicts;

    /// <summary>This node's recent probes of <paramref name="name"/>, oldest first (empty when unknown or never probed).</summary>
    public IReadOnlyList<ProbeRecord> ProbeHistoryOf(string name) =>
        _byName.Find(name) is { } member ? _probeHistories.ToArray(member.Probes) : [];

    private void RecordVerdict(VerdictKind kind, VerdictSource source, Member member, string accuser, Suspicion? suspicion, TimeSpan now)
    {
        _verdicts.Add(new VerdictRecord(
            now,
            kind,
            source,
            member.Name,
            member.Generation,
            member.Incarnation,
            accuser,
            suspicion is null ? [accuser] : suspicion.Accusers.ToArray(),
            suspicion?.Confirmations ?? 0,
            suspicion?.StartedAt,
            suspicion?.Deadline,
            _health.Score,
            StallGuardActive(now),
            _probeHistories.ToArray(member.Probes)));
    }

    private void RecordProbe(Member target, TimeSpan startedAt, ProbeOutcome outcome, TimeSpan? roundTrip, int indirectSent, int nacks)
    {
        // A member already reaped (its probe outlived it) keeps no history: its chain was given back.
        if (_options.ProbeHistoryMax == 0 || !ReferenceEquals(_byName.Find(target.Name), target))
        {
            return;
        }

        _probeHistories.Add(ref target.Probes, new ProbeRecord(startedAt, outcome, roundTrip, (byte)Math.Min(indirectSent, byte.MaxValue), (byte)Math.Min(nacks, byte.MaxValue)));
    }
}
