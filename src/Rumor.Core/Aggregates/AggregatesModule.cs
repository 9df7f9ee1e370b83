using Rumor.Core.AntiEntropy;
using Rumor.Core.Membership;
using Rumor.Core.Modules;
using Rumor.Core.Randomness;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Aggregates;

/// <summary>
/// Cluster aggregates by gossip, with no coordinator. For a state key, every node takes its own
/// value of that key (its own replicated map; invariant-culture number text; a node without it, or
/// with text that is not a finite number, takes part in Count only) and the cluster computes sum,
/// count, average by push-sum (Kempe, Dobra, Gehrke 2003) and min and max by extremum gossip.
/// <para>
/// Push-sum: each node holds a mass (<see cref="PushSumState"/>); each AggregateInterval it keeps
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
/// <para>A module (docs/ARCHITECTURE.md): it owns the Aggregate message (Wire/Messages/) by
/// registering its handler, and reads its inputs from the replicated-state module.</para>
/// </summary>
internal sealed class AggregatesModule : GossipModule
{
    private readonly Dictionary<string, AggregateRun> _aggregates = new(StringComparer.Ordinal);
    private readonly List<AggregateRun> _aggregateOrder = [];
    private readonly HashSet<string> _stoppedAggregates = new(StringComparer.Ordinal);
    private readonly IModuleContext _node;
    private readonly GossipOptions _options;
    private readonly IRandomSource _random;
    private readonly ReplicatedStateModule _state;
    private readonly TimerQueue<long> _timers;
    private long _aggregateTimerToken;
    private bool _aggregateTimerArmed;

    /// <summary>Builds the module (inputs come from <paramref name="state"/>) and registers the message it owns: Aggregate.</summary>
    public AggregatesModule(IModuleContext node, ReplicatedStateModule state)
    {
        _node = node;
        _options = node.Options;
        _random = node.Random;
        _state = state;
        _timers = node.CreateTimers<long>(OnAggregateTimer);
        node.Handle<AggregateMessage>(HandleAggregate, internNames: false);
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
    public bool StartAggregate(string key, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(key);
        _state.ValidateKey(key);
        if (!_node.Enter(now))
        {
            throw new InvalidOperationException("The node is stopped.");
        }

        _stoppedAggregates.Remove(key);
        if (_aggregates.ContainsKey(key))
        {
            return false;
        }

        if (_aggregates.Count >= _options.AggregatesMax)
        {
            throw new InvalidOperationException($"At most {_options.AggregatesMax} aggregates (AggregatesMax) may run at once; stop one first.");
        }

        AggregateRun run = AddAggregate(key, now);
        StartEpoch(run, 1, now);
        return true;
    }

    /// <summary>
    /// Stops the aggregate here and ignores its messages from now on (until started again). Others
    /// keep running it; the mass this node held is missing from their estimates until their next
    /// epoch. To stop it cluster-wide, stop it on every member. False when it was not running.
    /// </summary>
    public bool StopAggregate(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!_aggregates.Remove(key, out AggregateRun? run))
        {
            return false;
        }

        _aggregateOrder.Remove(run);
        if (_stoppedAggregates.Count < _options.AggregatesMax * 4)
        {
            _stoppedAggregates.Add(key);
        }

        return true;
    }

    /// <summary>
    /// This node's estimate of the aggregate of <paramref name="key"/>, or null when it does not run
    /// here. The error bound is the largest relative distance between this node's estimate and
    /// the last AggregateSampleWindow estimates peers sent it and its own last rounds' estimates
    /// (the truth lies between the smallest and largest estimate in the cluster, and peers scatter
    /// around it), combined for Sum as the product of the Average and ValueCount errors. Converged
    /// means a full window, at least three rounds in the epoch, and a bound at most
    /// AggregateConvergenceThreshold. Messages lost in flight and not yet repaired, members that
    /// departed during the epoch and inputs that change are not seen by the bound.
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
        if (!_aggregateTimerArmed)
        {
            _aggregateTimerArmed = true;
            _aggregateTimerToken++;
            _timers.Schedule(now + _random.NextDuration(_options.AggregateInterval), _aggregateTimerToken);
        }

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
        StoredEntry? entry = _state.Store.Local.Find(key);
        return entry is null || entry.IsTombstone ? null : AggregateRun.ParseInput(entry.Value);
    }

    /// <summary>The one aggregate round timer; its token tells a stale timer (from before a disarm) from the armed one.</summary>
    private void OnAggregateTimer(long token, TimeSpan now)
    {
        if (token != _aggregateTimerToken || !_aggregateTimerArmed)
        {
            return;
        }

        if (_aggregateOrder.Count == 0)
        {
            _aggregateTimerArmed = false;
            return;
        }

        _timers.Schedule(now + _options.AggregateInterval, _aggregateTimerToken);
        foreach (AggregateRun run in _aggregateOrder.ToArray())
        {
            AggregateRound(run, now);
        }
    }

    private void AggregateRound(AggregateRun run, TimeSpan now)
    {
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

            if (peer.Unacknowledged && peer.Member is { State: MemberState.Alive } && now - peer.LastSentAt >= _options.AggregateInterval)
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

    private void SendAggregate(AggregateRun run, PeerFlow peer, AggregateFlags flags)
    {
        AggregateMessage message = new(flags, run.Key, run.Epoch, run.Initiator, peer.OutSequence, peer.InSequence, peer.Out,
            run.Min, run.Max, run.Mass.Average, run.Mass.Count, run.Mass.HolderCount);
        _node.SendWithPiggyback(peer.Address, message);
    }

    private void HandleAggregate(NodeAddress from, in AggregateMessage message, TimeSpan now)
    {
        if (_node.IsLeaving || _stoppedAggregates.Contains(message.Key))
        {
            AggregateCounters.MessagesDropped++;
            return;
        }

        if (!_aggregates.TryGetValue(message.Key, out AggregateRun? run))
        {
            if (_aggregates.Count >= _options.AggregatesMax || ReplicatedStateKeyTooLong(message.Key))
            {
                AggregateCounters.MessagesDropped++;
                return;
            }

            run = AddAggregate(message.Key, now);
            ResetEpoch(run, message.Epoch, message.Initiator, now);
            AggregateCounters.AutoJoins++;
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
            SendAggregate(run, peer, AggregateFlags.Reply);
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
        bool converged = run.Rounds >= 3 && run.SampleCount >= _options.AggregateSampleWindow && bound <= _options.AggregateConvergenceThreshold;
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
            previous);
    }

    private static double? Known(double value) => double.IsNaN(value) ? null : value;
}
