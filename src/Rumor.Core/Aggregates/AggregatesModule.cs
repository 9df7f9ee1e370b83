using Rumor.Core.AntiEntropy;
using Rumor.Core.Dissemination;
using Rumor.Core.Membership;
using Rumor.Core.Modules;
using Rumor.Core.Randomness;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Aggregates;

/// <summary>
/// Cluster aggregates by gossip, with no coordinator. For a state key, every node takes its own
/// value of that key (its own replicated map; invariant-culture number text; a node without it, or
/// with text that is not a finite number, takes part in Count only) and the cluster computes sum,
/// count, average by push-sum (Kempe, Dobra, Gehrke 2003) and min and max by extremum gossip.
/// <para>
/// Push-sum: each node holds a mass (<see cref="PushSumState"/>); each round it keeps
/// half and pushes half to one random live member; every ratio of two components converges to the
/// ratio of the cluster totals. Average = value / holders needs no special weight. Count and sum
/// need exactly one weight unit in the cluster: the epoch's initiator starts with weight 1, all
/// others with 0, so nodes / weight → N and value / weight → Σ values.
/// </para>
/// <para>
/// Loss: plain push-sum loses the mass of every lost datagram. Here each message carries the
/// sender's cumulative flow to that receiver (push-flow style) with a sequence number, the receiver
/// absorbs only the difference to what it already had and answers with a reply that acknowledges
/// the sequence, and a sender re-sends an unacknowledged flow in the following rounds (at most
/// AggregateRetransmitsMax per round, only to live members). A lost push or a lost reply is thus
/// repaired within a round or two; duplicates add nothing; a reordered older message is refused.
/// Mass is lost only with a member that departs holding it, which epochs repair.
/// </para>
/// <para>
/// Epochs: an epoch is (number, initiator). A node adopts a higher number (at equal numbers, the
/// lexically smaller initiator, so concurrent starts resolve to one weight unit) and resets its
/// mass to its own current input; messages of older epochs are answered, not absorbed. The
/// initiator starts the next epoch after AggregateEpochLength; any other node does it itself after
/// a random 1.25 to 1.75 epoch lengths, in case the initiator has gone. So a departed member stops
/// counting within about two epoch lengths. The previous epoch's result stays readable.
/// </para>
/// <para>
/// Pace: a round runs every AggregateFastInterval while this node's estimate has not converged and
/// every AggregateInterval once it has, so a new aggregate settles in a few seconds and a settled
/// one costs little. (At a fixed 1 s pace three members needed about 18 s: the error bound needs a
/// full window of samples, about two per round at that size.)
/// </para>
/// <para>
/// Lifecycle: a start may give a lifetime; every message then carries the remaining lifetime and
/// the function, and a member adopts the earliest end it hears of, so the aggregate ends on every
/// member by itself (within a round of its lifetime) with no message needed. A stop ends it here and
/// spreads: the stopper rumors an Ended message (piggybacked broadcast; receivers that end it
/// rumor it on), and any member that ended an aggregate answers a push of it with Ended, so a
/// member the rumor missed learns it at its next push to one that knows. An ended key is
/// remembered (a tombstone, at most 4 × AggregatesMax, the oldest forgotten first) with the epoch
/// it ended in: messages of that epoch or the next are not joined again. A new start of the key
/// begins two epochs later, which every member takes for a new run.
/// </para>
/// <para>A module (docs/ARCHITECTURE.md): it owns the Aggregate message (Wire/Messages/) by
/// registering its handler, and reads its inputs from the replicated-state module.</para>
/// </summary>
internal sealed class AggregatesModule : GossipModule, IMessageHandler<AggregateMessage>
{
    private readonly Dictionary<string, AggregateRun> _aggregates = new(StringComparer.Ordinal);
    private readonly List<AggregateRun> _aggregateOrder = [];
    private readonly Dictionary<string, uint> _ended = new(StringComparer.Ordinal);
    private readonly Queue<string> _endedOrder = new();
    private readonly IModuleContext _node;
    private readonly GossipOptions _options;
    private readonly IRandomSource _random;
    private readonly ReplicatedStateModule _state;
    private readonly TimerQueue<long> _timers;
    private long _aggregateTimerToken;
    private bool _aggregateTimerArmed;
    private TimeSpan _aggregateTimerDue;

    /// <summary>Builds the module (inputs come from <paramref name="state"/>) and registers the message it owns: Aggregate.</summary>
    public AggregatesModule(IModuleContext node, ReplicatedStateModule state)
    {
        _node = node;
        _options = node.Options;
        _random = node.Random;
        _state = state;
        _timers = node.CreateTimers<long>(OnAggregateTimer);
        node.Handle<AggregateMessage>(this, internNames: false);
    }

    /// <summary>Counters of the aggregate protocol.</summary>
    public AggregateCounters AggregateCounters { get; } = new();

    /// <summary>Keys of the aggregates running here, in the order they started.</summary>
    public IReadOnlyList<string> Aggregates => _aggregateOrder.ConvertAll(run => run.Key);

    /// <summary>
    /// Starts aggregating the values of <paramref name="key"/> across the cluster, as initiator of
    /// epoch 1 (a running epoch elsewhere outranks it and is adopted on first contact). Idempotent:
    /// false when the aggregate already runs here. Other members join when its messages reach them.
    /// </summary>
    public bool StartAggregate(string key, TimeSpan now) => StartAggregate(key, now, AggregateFunction.Average, lifetime: null);

    /// <summary>
    /// Starts aggregating <paramref name="key"/> for <paramref name="function"/>; with a
    /// <paramref name="lifetime"/> it ends by itself on every member after that long (see the
    /// lifecycle above). False when it already runs here (its function and lifetime stay as they
    /// were). A key that ended here starts two epochs after the one it ended in, so members that
    /// remember the end take it for a new run.
    /// </summary>
    public bool StartAggregate(string key, TimeSpan now, AggregateFunction function, TimeSpan? lifetime)
    {
        ArgumentNullException.ThrowIfNull(key);
        _state.ValidateKey(key);
        if (lifetime is { } l && (l <= TimeSpan.Zero || l.TotalMilliseconds > uint.MaxValue))
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime), l, "An aggregate's lifetime is positive and at most 49 days.");
        }

        if (!Enum.IsDefined(function))
        {
            throw new ArgumentOutOfRangeException(nameof(function), function, "Unknown aggregate function.");
        }

        if (!_node.Enter(now))
        {
            throw new InvalidOperationException("The node is stopped.");
        }

        if (_aggregates.ContainsKey(key))
        {
            return false;
        }

        if (_aggregates.Count >= _options.AggregatesMax)
        {
            throw new InvalidOperationException($"At most {_options.AggregatesMax} aggregates (AggregatesMax) may run at once; stop one first.");
        }

        uint epoch = _ended.Remove(key, out uint endedEpoch) ? endedEpoch + 2 : 1;
        AggregateRun run = AddAggregate(key, now);
        run.Function = function;
        run.EndsAt = lifetime is { } t ? now + t : null;
        StartEpoch(run, epoch, now);
        return true;
    }

    /// <summary>
    /// Stops the aggregate cluster-wide: it ends here at once and on the other members as the
    /// Ended rumor and the answers to their pushes reach them (see the lifecycle above); its
    /// messages are not joined again until it is started again. False when it was not running here.
    /// </summary>
    public bool StopAggregate(string key, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!_node.Enter(now) || !_aggregates.TryGetValue(key, out AggregateRun? run))
        {
            return false;
        }

        End(run, now, spread: true);
        return true;
    }

    /// <summary>Ends <paramref name="run"/> here, remembers the end, and (when <paramref name="spread"/>) rumors it.</summary>
    private void End(AggregateRun run, TimeSpan now, bool spread)
    {
        _aggregates.Remove(run.Key);
        _aggregateOrder.Remove(run);
        AggregateCounters.Ended++;
        RememberEnded(run.Key, run.Epoch);
        if (spread && !_node.IsLeaving)
        {
            AggregateMessage ended = new(AggregateFlags.Ended, run.Key, run.Epoch, run.Initiator, 0, 0, default,
                double.PositiveInfinity, double.NegativeInfinity, double.NaN, double.NaN, double.NaN);
            _node.QueueBroadcast("aggregate-ended:" + run.Key, PacketBuilder.EncodeMessage(ended), BroadcastClass.Events, now + _options.AggregateEpochLength);
        }
    }

    /// <summary>Remembers that <paramref name="key"/> ended in <paramref name="epoch"/> (the later epoch if it was known), forgetting the oldest past the bound.</summary>
    private bool RememberEnded(string key, uint epoch)
    {
        if (_ended.TryGetValue(key, out uint known))
        {
            if (known >= epoch)
            {
                return false;
            }

            _ended[key] = epoch;
            return true;
        }

        while (_ended.Count >= _options.AggregatesMax * 4 && _endedOrder.TryDequeue(out string? oldest))
        {
            _ended.Remove(oldest);
        }

        _ended.Add(key, epoch);
        _endedOrder.Enqueue(key);
        return true;
    }

    /// <summary>
    /// This node's estimate of the aggregate of <paramref name="key"/>, or null when it does not run
    /// here. The error bound is the largest relative distance between this node's estimate and
    /// the last AggregateSampleWindow estimates peers sent it and its own last rounds' estimates
    /// (the truth lies between the smallest and largest estimate in the cluster, and peers scatter
    /// around it), combined for Sum as the product of the Average and ValueCount errors. Converged
    /// means a full window, at least three rounds in the epoch, and a bound at most
    /// AggregateConvergenceThreshold; a member alone in its view (no other alive or suspect member)
    /// has no peers to fill the window, so for it the window is its own last rounds. Messages lost
    /// in flight and not yet repaired, members that departed during the epoch and inputs that
    /// change are not seen by the bound.
    /// </summary>
    public AggregateEstimate? GetAggregate(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _aggregates.TryGetValue(key, out AggregateRun? run) ? Snapshot(run, run.Previous) : null;
    }

    /// <summary>The push-sum mass this node holds for <paramref name="key"/> (tests and experiments: conservation).</summary>
    internal PushSumState? AggregateMass(string key) => _aggregates.TryGetValue(key, out AggregateRun? run) ? run.Mass : null;

    /// <summary>Per peer in the current epoch: our cumulative flow out to it and its cumulative flow in to us (tests: conservation across the cluster).</summary>
    internal IEnumerable<(NodeAddress Peer, PushSumState Out, PushSumState In)> AggregateFlows(string key) =>
        _aggregates.TryGetValue(key, out AggregateRun? run) ? run.Peers.Select(p => (p.Address, p.Out, p.In)).ToArray() : [];

    // Nothing runs until an aggregate is started or joined: no timer, no random draw.

    private AggregateRun AddAggregate(string key, TimeSpan now)
    {
        AggregateRun run = new(key, _options.AggregateSampleWindow);
        _aggregates.Add(key, run);
        _aggregateOrder.Add(run);
        run.NextRoundAt = now + _random.NextDuration(_options.AggregateFastInterval);
        ArmTimer(run.NextRoundAt);
        return run;
    }

    private void StartEpoch(AggregateRun run, uint epoch, TimeSpan now)
    {
        ResetEpoch(run, epoch, _node.Self.Name, now);
        AggregateCounters.EpochsStarted++;
    }

    private void ResetEpoch(AggregateRun run, uint epoch, string initiator, TimeSpan now)
    {
        AggregateEstimate? previous = run.Epoch > 0 ? Snapshot(run, null) : null;
        bool isInitiator = initiator == _node.Self.Name;
        run.Reset(epoch, initiator, isInitiator, AggregateInput(run.Key), now, previous);
        double jitter = 1.25 + (0.5 * _random.NextDouble());
        run.BackupStartAt = now + TimeSpan.FromTicks((long)(_options.AggregateEpochLength.Ticks * jitter));
    }

    /// <summary>Our own input: the number in our own map's entry for <paramref name="key"/>, or none.</summary>
    private double? AggregateInput(string key)
    {
        return _state.Store.Local.TryFind(key, out StoredEntry entry) && !entry.IsTombstone ? AggregateRun.ParseInput(entry.Value) : null;
    }

    /// <summary>The one aggregate round timer; its token tells a stale timer (from before a disarm) from the armed one.</summary>
    private void OnAggregateTimer(long token, TimeSpan now)
    {
        if (token != _aggregateTimerToken || !_aggregateTimerArmed)
        {
            return;
        }

        _aggregateTimerArmed = false;
        TimeSpan next = TimeSpan.MaxValue;
        foreach (AggregateRun run in _aggregateOrder.ToArray())
        {
            if (now >= run.NextRoundAt)
            {
                TimeSpan pace = Pace(run);
                AggregateRound(run, now, pace);
                run.NextRoundAt = now + Pace(run);
            }

            if (_aggregates.ContainsKey(run.Key) && run.NextRoundAt < next)
            {
                next = run.NextRoundAt;
            }
        }

        if (next != TimeSpan.MaxValue)
        {
            ArmTimer(next);
        }
    }

    /// <summary>Makes the round timer fire at <paramref name="at"/> unless it already fires sooner; a superseded timer is ignored by its token.</summary>
    private void ArmTimer(TimeSpan at)
    {
        if (_aggregateTimerArmed && _aggregateTimerDue <= at)
        {
            return;
        }

        _aggregateTimerArmed = true;
        _aggregateTimerDue = at;
        _aggregateTimerToken++;
        _timers.Schedule(at, _aggregateTimerToken);
    }

    /// <summary>The time between rounds of <paramref name="run"/>: fast until this node's estimate has converged.</summary>
    private TimeSpan Pace(AggregateRun run) => Snapshot(run, null).Converged ? _options.AggregateInterval : _options.AggregateFastInterval;

    private void AggregateRound(AggregateRun run, TimeSpan now, TimeSpan pace)
    {
        if (run.EndsAt is { } endsAt && now >= endsAt)
        {
            // Every member holds (about) the same end, so nobody needs telling.
            End(run, now, spread: false);
            return;
        }

        run.UpdateInput(AggregateInput(run.Key));
        TimeSpan age = now - run.EpochStartedAt;
        if ((run.Initiator == _node.Self.Name && age >= _options.AggregateEpochLength) || now >= run.BackupStartAt)
        {
            StartEpoch(run, run.Epoch + 1, now);
        }

        if (_node.IsLeaving)
        {
            return;
        }

        run.Rounds++;

        // Repair first: flows a peer has not acknowledged since the last round go again (the same
        // cumulative totals, so a copy that did arrive adds nothing).
        int retransmits = 0;
        foreach (PeerFlow peer in run.Peers)
        {
            if (retransmits >= _options.AggregateRetransmitsMax)
            {
                break;
            }

            if (peer.Unacknowledged && peer.Member is { State: MemberState.Alive } && now - peer.LastSentAt >= pace)
            {
                peer.LastSentAt = now;
                retransmits++;
                AggregateCounters.Retransmissions++;
                SendAggregate(run, peer, AggregateFlags.None);
            }
        }

        Span<int> chosen = stackalloc int[1];
        if (_node.SampleMembers(chosen, 1, m => m.State == MemberState.Alive) == 1)
        {
            Member target = _node.Members[chosen[0]];
            PeerFlow peer = run.Peer(target.Address);
            peer.Member = target;
            PushSumState share = run.Mass.TakeHalf();
            peer.Out.Add(share);
            peer.OutSequence++;
            peer.LastSentAt = now;
            AggregateCounters.PushesSent++;
            SendAggregate(run, peer, AggregateFlags.None);
        }

        run.RecordOwn();
    }

    private void SendAggregate(AggregateRun run, PeerFlow peer, AggregateFlags flags) => SendAggregate(run, peer, flags, run.Mass);

    private void SendAggregate(AggregateRun run, PeerFlow peer, AggregateFlags flags, in PushSumState estimate)
    {
        uint lifetimeMs = 0;
        if (run.EndsAt is { } endsAt)
        {
            flags |= AggregateFlags.Lifetime;
            lifetimeMs = (uint)Math.Clamp(Math.Ceiling((endsAt - _node.Now).TotalMilliseconds), 0, uint.MaxValue);
        }

        AggregateMessage message = new(flags, run.Key, run.Epoch, run.Initiator, peer.OutSequence, peer.InSequence, peer.Out,
            run.Min, run.Max, estimate.Average, estimate.Count, estimate.HolderCount, lifetimeMs, run.Function);
        _node.SendWithPiggyback(peer.Address, message);
    }

    /// <summary>Tells <paramref name="to"/> that <paramref name="key"/> ended here in <paramref name="epoch"/>.</summary>
    private void SendEnded(NodeAddress to, string key, uint epoch)
    {
        AggregateCounters.RepliesSent++;
        AggregateMessage ended = new(AggregateFlags.Ended | AggregateFlags.Reply, key, epoch, _node.Self.Name, 0, 0, default,
            double.PositiveInfinity, double.NegativeInfinity, double.NaN, double.NaN, double.NaN);
        _node.SendWithPiggyback(to, ended);
    }

    /// <summary>An Ended message: end the run if it is of that epoch or the next, remember, and rumor it on when it was news.</summary>
    private void HandleEnded(in AggregateMessage message, TimeSpan now)
    {
        if (_aggregates.TryGetValue(message.Key, out AggregateRun? run))
        {
            if (run.Epoch > message.Epoch + 1)
            {
                // A newer run of the key: the end is of an older one.
                return;
            }

            End(run, now, spread: true);
            RememberEnded(message.Key, message.Epoch);
            return;
        }

        if (RememberEnded(message.Key, message.Epoch) && !_node.IsLeaving)
        {
            _node.QueueBroadcast("aggregate-ended:" + message.Key, PacketBuilder.EncodeMessage(message with { Flags = AggregateFlags.Ended }), BroadcastClass.Events,
                now + _options.AggregateEpochLength);
        }
    }

    void IMessageHandler<AggregateMessage>.Handle(NodeAddress from, in AggregateMessage message, TimeSpan now) => HandleAggregate(from, message, now);

    private void HandleAggregate(NodeAddress from, in AggregateMessage message, TimeSpan now)
    {
        if (_node.IsLeaving)
        {
            AggregateCounters.MessagesDropped++;
            return;
        }

        if (message.IsEnded)
        {
            HandleEnded(message, now);
            return;
        }

        if (_ended.TryGetValue(message.Key, out uint endedEpoch) && !_aggregates.ContainsKey(message.Key))
        {
            if (message.Epoch <= endedEpoch + 1)
            {
                // It ended here: tell the sender, which ends it too.
                AggregateCounters.MessagesDropped++;
                if (!message.IsReply)
                {
                    SendEnded(from, message.Key, endedEpoch);
                }

                return;
            }

            // A new run (started again, two epochs on).
            _ended.Remove(message.Key);
        }

        if (!_aggregates.TryGetValue(message.Key, out AggregateRun? run))
        {
            if (_aggregates.Count >= _options.AggregatesMax || ReplicatedStateKeyTooLong(message.Key))
            {
                AggregateCounters.MessagesDropped++;
                return;
            }

            if (message.HasLifetime && message.LifetimeMs == 0)
            {
                // Its lifetime is over: nothing to join.
                AggregateCounters.MessagesDropped++;
                return;
            }

            run = AddAggregate(message.Key, now);
            run.Function = message.Function;
            ResetEpoch(run, message.Epoch, message.Initiator, now);
            AggregateCounters.AutoJoins++;
        }

        if (message.HasLifetime)
        {
            // The earliest end heard of wins, so the members' ends differ by a message delay at most.
            TimeSpan endsAt = now + TimeSpan.FromMilliseconds(message.LifetimeMs);
            if (run.EndsAt is null || endsAt < run.EndsAt)
            {
                run.EndsAt = endsAt;
            }
        }

        if (message.Epoch > run.Epoch || (message.Epoch == run.Epoch && string.CompareOrdinal(message.Initiator, run.Initiator) < 0))
        {
            ResetEpoch(run, message.Epoch, message.Initiator, now);
            AggregateCounters.EpochsAdopted++;
        }
        else if (message.Epoch != run.Epoch || message.Initiator != run.Initiator)
        {
            // An older epoch: its mass belongs to a finished computation. Answer a push with our
            // epoch, so the sender moves on at once.
            AggregateCounters.StaleEpochMessages++;
            if (!message.IsReply)
            {
                AggregateCounters.RepliesSent++;
                SendAggregate(run, run.Peer(from), AggregateFlags.Reply);
            }

            return;
        }

        PeerFlow peer = run.Peer(from);

        // A reply carries our estimate from before this push was absorbed: after it, our ratio is
        // a weighted mean of the pusher's and our old one, pulled toward the pusher's, and as its
        // sample it would understate how far the pusher's estimate is from the truth (its error
        // bound came out too tight; AggregateBoundTests).
        PushSumState before = run.Mass;
        if (message.Sequence >= peer.InSequence)
        {
            run.Mass.Add(PushSumState.Difference(message.Flow, peer.In));
            peer.In = message.Flow;
            peer.InSequence = message.Sequence;
        }
        else
        {
            AggregateCounters.StaleSequenceMessages++;
        }

        if (message.Ack > peer.AckedSequence)
        {
            peer.AckedSequence = Math.Min(message.Ack, peer.OutSequence);
        }

        run.MergeExtremes(message.Min, message.Max);
        run.RecordSample(message.Average, message.Count, message.HolderCount);
        if (!message.IsReply)
        {
            AggregateCounters.RepliesSent++;
            SendAggregate(run, peer, AggregateFlags.Reply, before);
        }
    }

    private bool ReplicatedStateKeyTooLong(string key) => ReplicatedState.KeyBytes(key) > _options.KeyMaxBytes;

    private AggregateEstimate Snapshot(AggregateRun run, AggregateEstimate? previous)
    {
        PushSumState mass = run.Mass;
        (double average, double count, double holders) = run.RelativeSpread();
        if (run.NoValueSeen())
        {
            average = 0;
        }

        double sum = average + holders + (average * holders);
        double bound = Math.Max(count, Math.Max(sum, Math.Max(average, holders)));
        // Alone (no other alive or suspect member in our view) there is nobody to sample and
        // nobody to exchange mass with: the window never fills, and our own last rounds are the
        // whole evidence. Without this a lone member never converged, though its estimate was exact
        // (VOPR seed 228: both peers left, the survivor ran 466 rounds with bound 0).
        bool alone = _node.ActiveMemberCount <= 1;
        bool converged = run.Rounds >= 3 && (run.SampleCount >= _options.AggregateSampleWindow || alone) && bound <= _options.AggregateConvergenceThreshold;
        return new AggregateEstimate(
            run.Key,
            run.Epoch,
            run.Initiator,
            run.EpochStartedAt,
            run.Rounds,
            Known(mass.Sum),
            Known(mass.Count),
            Known(mass.HolderCount),
            Known(mass.Average),
            double.IsFinite(run.Min) ? run.Min : null,
            double.IsFinite(run.Max) ? run.Max : null,
            bound,
            converged,
            previous,
            run.Function,
            run.EndsAt,
            InputState(run.Key));
    }

    private AggregateInputState InputState(string key)
    {
        if (!_state.Store.Local.TryFind(key, out StoredEntry entry) || entry.IsTombstone)
        {
            return AggregateInputState.Missing;
        }

        return AggregateRun.ParseInput(entry.Value) is null ? AggregateInputState.NotANumber : AggregateInputState.Number;
    }

    private static double? Known(double value) => double.IsNaN(value) ? null : value;
}
