using Rumor.Core.Wire;

namespace Rumor.Core;

// Cluster aggregates: built by the aggregates part of issue 5. These hooks exist so the dispatch
// and timer switch in GossipNode.cs need no further edits.
public sealed partial class GossipNode
{
    private void StartAggregates(TimeSpan now) => _ = now;

    private void OnAggregateTimer(TimerEntry entry, TimeSpan now) => _ = (entry, now);

    private DecodeError DispatchAggregate(NodeAddress from, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        _ = (from, payload.Length, now);
        return DecodeError.Malformed;
    }
}
