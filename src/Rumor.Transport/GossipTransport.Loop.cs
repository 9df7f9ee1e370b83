using Rumor.Core;

namespace Rumor.Transport;

/// <summary>
/// The event loop: one dedicated thread, the only one that changes the node (the core is not
/// thread-safe, by design; the loop holds the node lock while the node runs, so that a reader of
/// <see cref="Members"/> can copy the member list under it). It takes work items from a bounded inbox in arrival order and, between
/// them, fires the node's timers. Commands from the application (<see cref="InvokeAsync{T}(System.Func{GossipNode, TimeSpan, T}, CancellationToken)"/>:
/// every HTTP request that reaches the node) wait in a queue of their own that is served only when
/// no protocol input (datagram, stream) waits: a burst of a thousand API calls never holds a probe's
/// ack behind it, so nothing the HTTP side does delays the failure detector (commands keep their
/// order among themselves). Datagrams go before everything else, and a timer is judged only once
/// the datagrams that arrived meanwhile were read (at most <see cref="TicksDeferredMax"/> in a row):
/// after a long item (a 60 KB state delta from a stream) an ack already waiting in the inbox must
/// count before its probe's timeout fires, or a peer that answered in time is suspected. When there
/// is nothing to do it sleeps on a monitor until the next timer is due or new work is posted; a
/// gossip round with nothing to send does not wake it (<see cref="GossipNode.NextWakeDue"/>): it
/// fires with the next tick, or at once when a broadcast is queued. A flood of datagrams cannot starve the timers: the clock is
/// checked after every item.
/// </summary>
public sealed partial class GossipTransport
{
    private readonly object _inboxLock = new();
    private readonly Queue<LoopWork> _inbox = new();
    private readonly Queue<LoopWork> _commands = new();
    private readonly Queue<ReceivedDatagram> _datagrams = new();

    /// <summary>Datagrams read in a row before a due timer fires regardless, so a datagram flood cannot starve the timers.</summary>
    private const int TicksDeferredMax = 256;
    private readonly Thread _loopThread;
    private readonly TaskCompletionSource _loopStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _loopExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _nodeLock = new();
    private volatile IReadOnlyList<MemberSnapshot> _members = [];
    private volatile bool _membersStale = true;
    private volatile Exception? _lastLoopFault;
    private bool _stopRequested;
    private bool _membersDirty;
    private TimeSpan _lastStallSample;
    private TimeSpan _gcPausesSeen = GC.GetTotalPauseDuration();

    /// <summary>
    /// Every member the node knows (itself included), ordered by name, as of the loop's last
    /// finished input (the one running now not yet included). Read from any thread. The copy is made
    /// by the first read after the members changed, under the node lock (the loop waits that long),
    /// and kept until they change again, never by the loop itself: in <c>rumor cluster</c> every
    /// node of a thousand rebuilt its 1,000-member copy on every join it heard of (10^9 objects and
    /// a million sorts over a 1,000-node join, the garbage collector walking 2,000 thread stacks each
    /// time) although nobody read them (docs/BENCHMARKS.md, session 16).
    /// </summary>
    public IReadOnlyList<MemberSnapshot> Members
    {
        get
        {
            if (!_membersStale)
            {
                return _members;
            }

            lock (_nodeLock)
            {
                if (_membersStale)
                {
                    _members = SnapshotMembers(_node);
                    _membersStale = false;
                    MemberCopies++;
                }

                return _members;
            }
        }
    }

    /// <summary>Member copies made by reads of <see cref="Members"/> (tests check that a change alone makes none).</summary>
    internal long MemberCopies { get; private set; }

    /// <summary>True while the event loop thread runs (tests check that dispose ends it).</summary>
    internal bool IsLoopRunning => _loopThread.IsAlive;

    /// <summary>The last exception the node threw while handling an input (a core bug; see <see cref="TransportCounters.LoopFaults"/>).</summary>
    public Exception? LastLoopFault => _lastLoopFault;

    /// <summary>Hands <paramref name="work"/> to the loop. False when stopping, or when the inbox is full and the work may be dropped.</summary>
    private bool Post(LoopWork work, bool droppable)
    {
        lock (_inboxLock)
        {
            if (_stopRequested || (droppable && _inbox.Count + _datagrams.Count >= _settings.InboxMax))
            {
                return false;
            }

            (work.IsCommand ? _commands : _inbox).Enqueue(work);
            Monitor.Pulse(_inboxLock);
            return true;
        }
    }

    /// <summary>Hands a received datagram to the loop. False when stopping or when the inbox is full (the caller drops it).</summary>
    private bool PostDatagram(ReceivedDatagram datagram)
    {
        lock (_inboxLock)
        {
            if (_stopRequested || _inbox.Count + _datagrams.Count >= _settings.InboxMax)
            {
                return false;
            }

            _datagrams.Enqueue(datagram);
            Monitor.Pulse(_inboxLock);
            return true;
        }
    }

    private bool DatagramsWaiting()
    {
        lock (_inboxLock)
        {
            return _datagrams.Count > 0;
        }
    }

    private void StopLoop()
    {
        lock (_inboxLock)
        {
            _stopRequested = true;
            Monitor.PulseAll(_inboxLock);
        }
    }

    private void RunLoop()
    {
        try
        {
            try
            {
                lock (_nodeLock)
                {
                    _node.Start(Now);
                    _membersStale = true;
                }

                _loopStarted.TrySetResult();
            }
            catch (Exception e)
            {
                _loopStarted.TrySetException(e);
                return;
            }

            int ticksDeferred = 0;
            while (TryTakeWork(out LoopWork? work, out ReceivedDatagram datagram))
            {
                try
                {
                    lock (_nodeLock)
                    {
                        try
                        {
                            if (datagram.Rented is not null)
                            {
                                datagram.Execute(_node, Now);
                            }
                            else if (work is not null)
                            {
                                work.Execute(_node, Now);
                                _membersDirty |= work.MayChangeMembers;
                            }

                            TimeSpan now = Now;
                            ReportStalls(now);
                            if (_node.NextWakeDue <= now && !(DatagramsWaiting() && ++ticksDeferred <= TicksDeferredMax))
                            {
                                ticksDeferred = 0;
                                _node.OnTick(now);
                            }
                        }
                        finally
                        {
                            // Before the lock is let go, so a reader after it rebuilds the copy.
                            if (_membersDirty)
                            {
                                _membersDirty = false;
                                _membersStale = true;
                            }
                        }
                    }
                }
                catch (Exception e)
                {
                    RecordFault(e);
                }
                finally
                {
                    // After the members were marked changed: a caller awaiting its own command sees its effect in Members.
                    work?.Complete();
                }
            }
        }
        finally
        {
            lock (_nodeLock)
            {
                _node.Stop();
            }

            AbandonInbox();
            _loopExited.TrySetResult();
        }
    }

    /// <summary>
    /// Waits for a datagram, other work or a due timer. Returns false when the loop must stop. On
    /// true, either <paramref name="datagram"/> holds a datagram (its buffer not null), or
    /// <paramref name="work"/> is the work, or both are empty when only a timer is due.
    /// </summary>
    private bool TryTakeWork(out LoopWork? work, out ReceivedDatagram datagram)
    {
        lock (_inboxLock)
        {
            while (true)
            {
                work = null;
                if (_stopRequested)
                {
                    datagram = default;
                    return false;
                }

                if (_datagrams.TryDequeue(out datagram) || _inbox.TryDequeue(out work) || _commands.TryDequeue(out work))
                {
                    return true;
                }

                TimeSpan due = _node.NextWakeDue;
                TimeSpan now = Now;
                if (due <= now)
                {
                    return true;
                }

                // Round up: waking a little late is harmless, waking early only spins once more.
                int waitMs = due == TimeSpan.MaxValue ? Timeout.Infinite : (int)Math.Min(Math.Ceiling((due - now).TotalMilliseconds), int.MaxValue);
                Monitor.Wait(_inboxLock, waitMs);
            }
        }
    }

    /// <summary>
    /// Tells the node when this process itself stalled, so that it does not blame others for acks
    /// it could not read in time: the loop woke more than StallThreshold after a timer was due, the
    /// garbage collector paused us longer than that since the last sample, or the thread pool (which
    /// runs the socket receives) has a backlog above ThreadPoolBacklogMax. Sampled at most every 100 ms.
    /// </summary>
    private void ReportStalls(TimeSpan now)
    {
        TimeSpan threshold = _settings.StallThreshold;
        if (threshold <= TimeSpan.Zero)
        {
            return;
        }

        TimeSpan due = _node.NextWakeDue;
        if (due != TimeSpan.MaxValue && now - due > threshold)
        {
            ReportStall(now - due, "the event loop woke late", now);
        }

        TimeSpan sinceSample = now - _lastStallSample;
        if (sinceSample < TimeSpan.FromMilliseconds(100))
        {
            return;
        }

        _lastStallSample = now;
        TimeSpan gcPauses = GC.GetTotalPauseDuration();
        TimeSpan paused = gcPauses - _gcPausesSeen;
        _gcPausesSeen = gcPauses;
        if (paused > threshold)
        {
            ReportStall(paused, "a garbage-collection pause", now);
        }

        long queued = ThreadPool.PendingWorkItemCount;
        if (queued > _settings.ThreadPoolBacklogMax)
        {
            ReportStall(sinceSample, $"thread-pool starvation ({queued} work items queued)", now);
        }
    }

    private void ReportStall(TimeSpan stall, string cause, TimeSpan now)
    {
        _counters.StallReported();
        _node.OnLocalStall(stall, cause, now);
    }

    private void RecordFault(Exception e)
    {
        // The core promises not to throw on any input; if it does, that is a bug. Keep the
        // process alive (a daemon must not die of one bad packet) and make the bug visible.
        _lastLoopFault = e;
        _counters.LoopFault();
    }

    private static MemberSnapshot[] SnapshotMembers(GossipNode node)
    {
        MemberSnapshot[] snapshot = new MemberSnapshot[node.Members.Count];
        for (int i = 0; i < snapshot.Length; i++)
        {
            snapshot[i] = node.Members[i].ToSnapshot();
        }

        Array.Sort(snapshot, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return snapshot;
    }

    private void AbandonInbox()
    {
        lock (_inboxLock)
        {
            _stopRequested = true;
            while (_datagrams.TryDequeue(out ReceivedDatagram datagram))
            {
                datagram.Release();
            }

            while (_inbox.TryDequeue(out LoopWork? work) || _commands.TryDequeue(out work))
            {
                work.Abandon();
            }
        }
    }
}
