using System.Threading.Channels;
using Rumor.Core;
using Rumor.Core.Events;

namespace Rumor.Transport;

/// <summary>
/// What the node reports, fanned out from the loop without ever blocking it: to the
/// <see cref="Events"/> channel (bounded, oldest dropped and counted), to the optional
/// <see cref="GossipTransportSettings.OnEvent"/> handler through a dispatcher task of its own, and
/// to the shell's own waiters (join results, leave completion, the member snapshot).
/// </summary>
public sealed partial class GossipTransport
{
    private readonly Channel<GossipEvent> _events;
    private readonly TaskCompletionSource _leaveCompleted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<JoinTracker> _joins = [];
    private Channel<GossipEvent>? _handlerQueue;
    private Task? _handlerTask;

    /// <summary>
    /// Every event the node reports, in order. Bounded by <see cref="GossipTransportSettings.EventQueueMax"/>:
    /// a reader that falls behind (or no reader at all) loses the oldest, counted in
    /// <see cref="TransportCounters.EventsDropped"/>. Completes when the transport is disposed.
    /// </summary>
    public ChannelReader<GossipEvent> Events => _events.Reader;

    private void PublishEvent(GossipEvent gossipEvent)
    {
        switch (gossipEvent)
        {
            case MemberChanged:
                _membersDirty = true;
                break;
            case JoinSucceeded succeeded:
                RecordJoinResult(succeeded.Seed, tracker => tracker.Succeeded.Add(succeeded));
                break;
            case JoinFailed failed:
                RecordJoinResult(failed.Seed, tracker => tracker.Failed.Add(failed));
                break;
            case LeaveCompleted:
                _membersDirty = true;
                _leaveCompleted.TrySetResult();
                break;
            case QueryCompleted completed:
                CompleteQueryWaiter(completed);
                break;
        }

        _events.Writer.TryWrite(gossipEvent);
        _handlerQueue?.Writer.TryWrite(gossipEvent);
    }

    private async Task DispatchEventsAsync(ChannelReader<GossipEvent> reader, Action<GossipEvent> handler)
    {
        await foreach (GossipEvent gossipEvent in reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            try
            {
                handler(gossipEvent);
            }
            catch (Exception)
            {
                // The application's handler failed: count it, keep delivering the rest.
                _counters.EventHandlerError();
            }
        }
    }

    private void RecordJoinResult(NodeAddress seed, Action<JoinTracker> record)
    {
        // Concurrent joins through the same seed: the oldest waiter takes the first answer.
        foreach (JoinTracker tracker in _joins)
        {
            if (tracker.Waiting.Remove(seed))
            {
                record(tracker);
                CompleteJoinIfDone(tracker);
                return;
            }
        }
    }

    private void CompleteJoinIfDone(JoinTracker tracker)
    {
        if (tracker.Waiting.Count == 0)
        {
            _joins.Remove(tracker);
            tracker.Complete();
        }
    }

    private JoinResult AbandonJoin(JoinTracker tracker, TimeSpan now)
    {
        foreach (NodeAddress seed in tracker.Waiting)
        {
            tracker.Failed.Add(new JoinFailed(now, seed, "the node reported no join result in time"));
        }

        tracker.Waiting.Clear();
        CompleteJoinIfDone(tracker);
        return tracker.Completion.Result;
    }

    /// <summary>One <see cref="JoinAsync(IEnumerable{NodeAddress}, CancellationToken)"/> call: the seeds still to answer, and the answers so far (loop thread only).</summary>
    private sealed class JoinTracker(IEnumerable<NodeAddress> seeds)
    {
        private readonly TaskCompletionSource<JoinResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public HashSet<NodeAddress> Waiting { get; } = [.. seeds];

        public List<JoinSucceeded> Succeeded { get; } = [];

        public List<JoinFailed> Failed { get; } = [];

        public Task<JoinResult> Completion => _completion.Task;

        public void Complete() => _completion.TrySetResult(new JoinResult(Succeeded.ToArray(), Failed.ToArray()));
    }
}
