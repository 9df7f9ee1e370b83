using Rumor.Core.Wire;

namespace Rumor.Core;

// User events and queries: built by the events issue (issue 5). These hooks exist so the dispatch
// and timer switch in GossipNode.cs need no further edits.
public sealed partial class GossipNode
{
    private void StartEvents(TimeSpan now) => _ = now;

    private void OnEventTimer(TimerEntry entry, TimeSpan now) => _ = (entry, now);

    private DecodeError DispatchEvents(NodeAddress from, MessageType type, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        _ = (from, type, payload.Length, now);
        return DecodeError.Malformed;
    }
}
