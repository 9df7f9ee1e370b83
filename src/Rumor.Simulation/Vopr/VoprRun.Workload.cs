using System.Globalization;
using System.Text;
using Rumor.Core;
using Rumor.Core.Aggregates;
using Rumor.Core.Events;
using Rumor.Core.Randomness;

namespace Rumor.Simulation.Vopr;

/// <summary>
/// The workload invariants of a VOPR run (issue 11): TTLs, events and coalesced events, queries,
/// the aggregate, joins, and the queue, memory and incarnation bounds. Each promise is stated where
/// it is checked and in docs/TESTING.md.
/// </summary>
public static partial class VoprRun
{
    /// <summary>How often the bounds are sampled during a run (virtual time).</summary>
    public static readonly TimeSpan BoundsSampleInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A query's answer is demanded from a member that received it at least this long before the
    /// asker's deadline (its answer has to travel back).
    /// </summary>
    public static readonly TimeSpan QueryAnswerMargin = TimeSpan.FromSeconds(1);

    /// <summary>The state key the after-heal aggregate reads.</summary>
    public const string AggregateKey = "vopr.agg";

    /// <summary>
    /// The bound on each node's broadcast queue: 4 items per member ever in the run (its alive,
    /// suspect or dead rumor, a leave, its checksum announcement, an aggregate end) plus one per
    /// workload operation (an event or a query each) plus 64, and never above BroadcastQueueMax.
    /// Rumors are keyed by member, so a queue above this bound is a leak, not load.
    /// </summary>
    public static int BroadcastQueueBound(VoprScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        int bound = (4 * scenario.NodesTotal) + scenario.Workload.Count + scenario.QueriesAfterHeal + 64;
        return Math.Min(scenario.Options.BroadcastQueueMax, bound);
    }

    /// <summary>The bound on the after-heal aggregate's convergence: 90 s plus 2 s per doubling of the cluster.</summary>
    public static TimeSpan AggregateBound(VoprScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        return TimeSpan.FromSeconds(90 + (2 * Math.Log2(scenario.NodesTotal)));
    }

    /// <summary>The timeout of an after-heal query: 5 s plus 10 gossip intervals per doubling of the cluster.</summary>
    public static TimeSpan QueryTimeoutAfterHeal(VoprScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        return TimeSpan.FromSeconds(5) + (scenario.Options.GossipInterval * (10 * Math.Ceiling(Math.Log2(scenario.NodesTotal + 1))));
    }

    /// <summary>An acknowledged write: the value (null: deleted), the owner's start it was made in, when it expires (TTL'd writes).</summary>
    private readonly record struct Written(string? Value, int Starts, TimeSpan? ExpiresAt);

    /// <summary>An event the workload sent, with the nodes (and their starts) that were up when it was sent.</summary>
    private sealed record SentEvent(EventId Id, string Name, int Sender, int SenderStarts, TimeSpan At, bool Coalescing, HashSet<(int Node, int Starts)> UpAtSend)
    {
        /// <summary>True once a later coalescing event of the same chain (same sender process and name, within EventCoalesceWindow) was sent.</summary>
        public bool Superseded { get; set; }
    }

    /// <summary>A query the workload asked.</summary>
    private sealed record AskedQuery(int Asker, int AskerStarts, string AskerName, ulong Generation, ulong Id, TimeSpan At, TimeSpan Timeout, bool AfterHeal, HashSet<string> LiveAtAsk)
    {
        public TimeSpan Deadline => At + Timeout;
    }

    private sealed partial class VoprState
    {
        private readonly List<(int Node, TimeSpan From, TimeSpan To)> _touches = [];
        private readonly Dictionary<EventId, SentEvent> _sent = [];
        private readonly Dictionary<(int Sender, int Starts, string Name), SentEvent> _lastCoalescing = [];
        private readonly Dictionary<(int Node, int Starts, EventId Id), int> _deliveries = [];
        private readonly List<AskedQuery> _asked = [];
        private readonly Dictionary<(string Asker, ulong Generation, ulong Id), Dictionary<(int Node, int Starts), (TimeSpan At, int Count)>> _queryReceipts = [];
        private readonly Dictionary<(string Asker, ulong Generation, ulong Id), List<QueryResult>> _queryCompletions = [];
        private readonly List<string> _boundViolations = [];
        private readonly Dictionary<(int Node, int Starts), uint> _incarnations = [];
        private readonly Dictionary<int, (int Starts, ulong Generation)> _generations = [];
        private readonly SortedDictionary<string, int> _coverage = new(StringComparer.Ordinal);
        private int _eventsSent;

        /// <summary>How many times each workload promise was checked.</summary>
        public IReadOnlyDictionary<string, int> Coverage => _coverage;

        private void Cover(string what) => _coverage[what] = _coverage.GetValueOrDefault(what) + 1;

        /// <summary>True when no fault touched <paramref name="node"/> at any time in [<paramref name="from"/>, <paramref name="to"/>].</summary>
        private bool Untouched(int node, TimeSpan from, TimeSpan to) =>
            !_touches.Any(t => t.Node == node && t.From <= to && t.To >= from);

        /// <summary>
        /// What every replica must hold for a write when checked now: the value, or nothing (deleted,
        /// or expired and deleted by its owner's next state round). False when the key expires too
        /// close to now to say.
        /// </summary>
        private bool TryExpectedValue(Written written, out string? value)
        {
            value = written.Value;
            if (written.Value is null || written.ExpiresAt is not { } expiry || cluster.Now < expiry)
            {
                return true;
            }

            value = null;
            return cluster.Now >= expiry + scenario.Options.StateGossipInterval;
        }

        /// <summary>
        /// Runs until every short time to live has expired and its owner's next state round has
        /// passed, then until the checksums agree again (within <paramref name="bound"/>).
        /// </summary>
        private void WaitForExpiries(TimeSpan bound, Func<bool> stateAgrees, CancellationToken stop)
        {
            TimeSpan last = TimeSpan.Zero;
            foreach (Written written in _writes.Values)
            {
                if (written is { Value: not null, ExpiresAt: { } expiry } && expiry < cluster.Now + bound)
                {
                    last = Max(last, expiry + (scenario.Options.StateGossipInterval * 2));
                }
            }

            if (last <= cluster.Now)
            {
                return;
            }

            RunUntil(() => false, last - cluster.Now, stop);
            if (!RunUntil(stateAgrees, bound, stop))
            {
                violations.Add($"ttl: checksums differ {bound.TotalSeconds:0} s after the last short time to live expired");
            }
        }

        private void RecordSent(SimNode node, UserEvent sent, bool coalescing)
        {
            _eventsSent++;
            HashSet<(int, int)> up = cluster.Nodes.Where(n => n.IsUp && !n.LiveNode.IsLeaving).Select(n => (n.Index, n.Starts)).ToHashSet();
            SentEvent record = new(sent.Id, sent.Name, node.Index, node.Starts, cluster.Now, coalescing, up);
            _sent[sent.Id] = record;
            if (coalescing)
            {
                // The sender continues a chain when its previous coalescing event of this name is
                // less than EventCoalesceWindow old (EventsModule.SendEvent): that one is superseded.
                (int, int, string) chain = (node.Index, node.Starts, sent.Name);
                if (_lastCoalescing.TryGetValue(chain, out SentEvent? previous) && cluster.Now - previous.At < scenario.Options.EventCoalesceWindow)
                {
                    previous.Superseded = true;
                }

                _lastCoalescing[chain] = record;
            }
        }

        private void ObserveWorkload(SimNode node, GossipEvent e)
        {
            switch (e)
            {
                case UserEventReceived received:
                    (int, int, EventId) key = (node.Index, node.Starts, received.Event.Id);
                    int count = _deliveries.GetValueOrDefault(key) + 1;
                    _deliveries[key] = count;
                    if (count == 2)
                    {
                        violations.Add($"events: {node.Name} delivered {(received.Event.Coalescing ? "coalescing " : "")}event {Describe(received.Event.Id)} a second time at {cluster.Now.TotalSeconds:0.000}s");
                    }

                    break;
                case QueryReceived query:
                    // Every member answers with its own name, so an answer proves who sent it.
                    string name = node.Name;
                    node.LiveNode.QueryResponder ??= _ => Encoding.UTF8.GetBytes(name);
                    (string, ulong, ulong) id = (query.Request.Asker, query.Request.AskerGeneration, query.Request.Id);
                    if (!_queryReceipts.TryGetValue(id, out Dictionary<(int, int), (TimeSpan At, int Count)>? receipts))
                    {
                        _queryReceipts[id] = receipts = [];
                    }

                    (TimeSpan At, int Count) seen = receipts.GetValueOrDefault((node.Index, node.Starts), (cluster.Now, 0));
                    receipts[(node.Index, node.Starts)] = (seen.At, seen.Count + 1);
                    if (seen.Count == 1)
                    {
                        violations.Add($"queries: {node.Name} reported query {query.Request.Asker}#{query.Request.Id} a second time at {cluster.Now.TotalSeconds:0.000}s");
                    }

                    break;
                case QueryCompleted completed:
                    (string, ulong, ulong) done = (node.Name, node.Node!.Self.Generation, completed.Result.Id);
                    if (!_queryCompletions.TryGetValue(done, out List<QueryResult>? results))
                    {
                        _queryCompletions[done] = results = [];
                    }

                    results.Add(completed.Result);
                    break;
            }
        }

        private static string Describe(EventId id) => $"{id.Origin}#{id.Sequence}";

        private void AskQuery(SimNode node, TimeSpan timeout, bool afterHeal)
        {
            HashSet<string> live = cluster.LiveNodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
            ulong id = node.Command((n, now) => n.Query("vopr", [], null, timeout, now));
            _asked.Add(new AskedQuery(node.Index, node.Starts, node.Name, node.LiveNode.Self.Generation, id, cluster.Now, timeout, afterHeal, live));
        }

        /// <summary>
        /// Events. Promise: an event (plain, or a coalescing one that no later event of its chain
        /// superseded) whose sender no fault touched from the send to the check is delivered exactly
        /// once, by the check, to every member that was up when it was sent, is still up in the same
        /// start, and that no fault touched from the send to the check; no event is ever delivered
        /// twice to one member process; a superseded coalescing event is delivered at most once.
        /// </summary>
        private void CheckEvents()
        {
            int reported = 0;
            foreach (SentEvent sent in _sent.Values.OrderBy(s => s.At))
            {
                if (sent.Superseded || !Untouched(sent.Sender, sent.At, cluster.Now))
                {
                    continue;
                }

                foreach (SimNode node in cluster.Nodes)
                {
                    if (!node.IsUp || node.LiveNode.IsLeaving || !sent.UpAtSend.Contains((node.Index, node.Starts)) || !Untouched(node.Index, sent.At, cluster.Now))
                    {
                        continue;
                    }

                    int count = _deliveries.GetValueOrDefault((node.Index, node.Starts, sent.Id));
                    Cover(sent.Coalescing ? "coalesced deliveries" : "event deliveries");
                    if (count != 1 && reported++ < 5)
                    {
                        violations.Add($"events: {node.Name} delivered {(sent.Coalescing ? "the last coalescing" : "")} event {Describe(sent.Id)} ({sent.Name}, sent by {cluster.Nodes[sent.Sender].Name} at {sent.At.TotalSeconds:0.000}s) {count} times, expected exactly once");
                    }
                }
            }
        }

        /// <summary>After the heal, with membership agreed: queries on a loss-free network, then the aggregate.</summary>
        private void AfterHealWorkload(CancellationToken stop)
        {
            Xoshiro256StarStar random = new(scenario.Seed ^ 0x51554552_59000000UL);
            for (int i = 0; i < scenario.QueriesAfterHeal; i++)
            {
                List<SimNode> live = cluster.LiveNodes.ToList();
                SimNode asker = live[random.NextInt(live.Count)];
                TimeSpan timeout = QueryTimeoutAfterHeal(scenario);
                AskQuery(asker, timeout, afterHeal: true);
                RunUntil(() => false, timeout + TimeSpan.FromSeconds(1), stop);
            }

            if (scenario.Aggregate is { } plan)
            {
                RunAggregate(plan, stop);
            }
        }

        /// <summary>
        /// Queries. Promise: a member reports a query at most once per process; the asker completes it
        /// at most once, and exactly once when it stays up in the same start past the deadline; every
        /// answer is the named member's own (its payload is its name), from a member that received the
        /// query, listed once. Completeness: an expected member that received the query at least
        /// <see cref="QueryAnswerMargin"/> before the deadline answered in time when the network was
        /// loss-free (after the heal, or a scenario without loss) and no fault touched the asker or it
        /// from the ask to the deadline. Not demanded: that every member receives the query (queries
        /// are rumor-mongered without repair, Serf's best effort, so about e^-RetransmitMultiplier of
        /// the members miss one even without loss). After the heal, the asker expects exactly the live
        /// members.
        /// </summary>
        private void CheckQueries()
        {
            int reported = 0;
            void Report(string text)
            {
                if (reported++ < 5)
                {
                    violations.Add("queries: " + text);
                }
            }

            foreach (AskedQuery asked in _asked)
            {
                (string, ulong, ulong) key = (asked.AskerName, asked.Generation, asked.Id);
                List<QueryResult> completions = _queryCompletions.GetValueOrDefault(key) ?? [];
                SimNode asker = cluster.Nodes[asked.Asker];
                bool askerStayed = asker.IsUp && asker.Starts == asked.AskerStarts && cluster.Now > asked.Deadline;
                string what = $"{asked.AskerName}'s query #{asked.Id} (asked at {asked.At.TotalSeconds:0.000}s, timeout {asked.Timeout.TotalSeconds:0.0}s)";
                if (completions.Count > 1 || (askerStayed && completions.Count == 0))
                {
                    Report($"{what} completed {completions.Count} times, expected once");
                }

                if (completions.Count == 0)
                {
                    continue;
                }

                QueryResult result = completions[0];
                Cover("queries completed");
                Dictionary<(int Node, int Starts), (TimeSpan At, int Count)> receipts = _queryReceipts.GetValueOrDefault(key) ?? [];
                HashSet<string> receivedBy = receipts.Keys.Select(k => cluster.Nodes[k.Node].Name).ToHashSet(StringComparer.Ordinal);
                HashSet<string> answered = new(StringComparer.Ordinal);
                foreach (QueryAnswer answer in result.Responses)
                {
                    Cover("query answers");
                    if (!answered.Add(answer.From))
                    {
                        Report($"{what} lists {answer.From}'s answer twice");
                    }

                    if (Encoding.UTF8.GetString(answer.Payload) != answer.From)
                    {
                        Report($"{what}: the answer listed as {answer.From}'s carries '{Encoding.UTF8.GetString(answer.Payload)}'");
                    }

                    if (!receivedBy.Contains(answer.From))
                    {
                        Report($"{what}: an answer from {answer.From}, which never received the query");
                    }

                    if (answer.At > asked.Deadline)
                    {
                        Report($"{what}: {answer.From}'s answer counted at {answer.At.TotalSeconds:0.000}s, after the deadline");
                    }
                }

                if (asked.AfterHeal && !result.Expected.ToHashSet(StringComparer.Ordinal).SetEquals(asked.LiveAtAsk))
                {
                    Report($"{what} after the heal expected [{string.Join(" ", result.Expected.Order(StringComparer.Ordinal))}], the live members are [{string.Join(" ", asked.LiveAtAsk.Order(StringComparer.Ordinal))}]");
                }

                bool lossFree = asked.AfterHeal || scenario.Network.LossProbability == 0;
                if (!lossFree || !Untouched(asked.Asker, asked.At, asked.Deadline) || asker.Starts != asked.AskerStarts)
                {
                    continue;
                }

                HashSet<string> expected = result.Expected.ToHashSet(StringComparer.Ordinal);
                foreach (((int node, int starts), (TimeSpan at, _)) in receipts.OrderBy(r => r.Key.Node))
                {
                    SimNode member = cluster.Nodes[node];
                    bool stayed = member.Starts == starts && (member.IsUp || member.HasLeft) && Untouched(node, asked.At, asked.Deadline);
                    if (stayed && expected.Contains(member.Name) && at <= asked.Deadline - QueryAnswerMargin)
                    {
                        Cover("query answers demanded");
                    }

                    if (stayed && expected.Contains(member.Name) && at <= asked.Deadline - QueryAnswerMargin && !answered.Contains(member.Name))
                    {
                        Report($"{what}: {member.Name} received it at {at.TotalSeconds:0.000}s, reachable and loss-free, but its answer is missing");
                    }
                }
            }
        }

        /// <summary>
        /// The aggregate. Promise (after the heal: no loss, no departure, inputs fixed): every live
        /// member converges within <see cref="AggregateBound"/>; whenever every live member holds mass
        /// of one epoch (number and initiator), the mass held plus the mass in flight equals the inputs
        /// (nodes = N, weight = 1, holders and value = those of the members with a value) to 1e-6;
        /// every estimate reported converged has its average, count, value count and sum within its
        /// own error bound of the truth, and min and max exact.
        /// </summary>
        private void RunAggregate(VoprAggregatePlan plan, CancellationToken stop)
        {
            Xoshiro256StarStar random = new(plan.ValueSeed);
            List<SimNode> live = cluster.LiveNodes.ToList();
            List<double> values = [];
            for (int i = 0; i < live.Count; i++)
            {
                double value = 1 + random.NextInt(1000);
                if (i == 0 || i % plan.SkipEvery != plan.SkipEvery - 1)
                {
                    values.Add(value);
                    live[i].Command((n, now) => n.SetValue(AggregateKey, Encoding.UTF8.GetBytes(value.ToString(CultureInfo.InvariantCulture)), now));
                }
            }

            SimNode initiator = live[plan.Initiator % live.Count];
            TimeSpan startedAt = cluster.Now;
            initiator.Command((n, now) => n.StartAggregate(AggregateKey, now, plan.Function, lifetime: null));
            int n = live.Count;
            double sum = values.Sum();
            string? broken = null;
            bool conservationSeen = false;
            bool allConverged()
            {
                bool all = true;
                foreach (SimNode node in live)
                {
                    AggregateEstimate? estimate = node.LiveNode.GetAggregate(AggregateKey);
                    if (estimate is null || estimate.EpochStartedAt < startedAt)
                    {
                        all = false;
                        continue;
                    }

                    all &= estimate.Converged;
                    if (estimate.Converged && broken is null)
                    {
                        Cover("aggregate estimates");
                        (string Name, double? Estimate, double True)[] quantities =
                        [
                            ("average", estimate.Average, sum / values.Count),
                            ("count", estimate.Count, n),
                            ("value count", estimate.ValueCount, values.Count),
                            ("sum", estimate.Sum, sum),
                        ];
                        foreach ((string name, double? v, double truth) in quantities)
                        {
                            if (v is not { } x || Math.Abs(x - truth) > estimate.ErrorBound * Math.Abs(x) * (1 + 1e-9))
                            {
                                broken ??= $"{node.Name} reports converged (epoch {estimate.Epoch}, bound {estimate.ErrorBound:G4}) but its {name} {v} is off the truth {truth} (by {Math.Abs((v ?? double.NaN) - truth) / Math.Abs(v ?? double.NaN):G4} of it)";
                            }
                        }

                        if (estimate.Min != values.Min() || estimate.Max != values.Max())
                        {
                            broken ??= $"{node.Name} reports converged but min/max {estimate.Min}/{estimate.Max} differ from the truth {values.Min()}/{values.Max()}";
                        }
                    }
                }

                bool before = conservationSeen;
                CheckConservation(live, n, values, ref broken, ref conservationSeen);
                if (conservationSeen && !before)
                {
                    Cover("aggregate mass");
                }

                return all || broken is not null;
            }

            TimeSpan bound = AggregateBound(scenario);
            bool converged = RunUntil(allConverged, bound, stop);
            if (broken is not null)
            {
                violations.Add($"aggregate {plan.Function}: {broken}");
            }
            else if (!converged)
            {
                SimNode? laggard = live.FirstOrDefault(x => x.LiveNode.GetAggregate(AggregateKey) is not { Converged: true });
                violations.Add($"aggregate {plan.Function}: not every live member converged within {bound.TotalSeconds:0} s of the start; for example {laggard?.Name}: {laggard?.LiveNode.GetAggregate(AggregateKey)}");
            }
            else if (!conservationSeen)
            {
                violations.Add($"aggregate {plan.Function}: every member converged, but never all in one epoch at a check");
            }
        }

        private static void CheckConservation(List<SimNode> live, int n, List<double> values, ref string? broken, ref bool seen)
        {
            PushSumState held = default;
            PushSumState inFlight = default;
            Dictionary<(NodeAddress From, NodeAddress To), PushSumState> absorbed = [];
            (uint Epoch, string Initiator)? epoch = null;
            foreach (SimNode node in live)
            {
                AggregateEstimate? estimate = node.LiveNode.GetAggregate(AggregateKey);
                if (node.LiveNode.AggregateMass(AggregateKey) is not { } mass || estimate is null)
                {
                    return;
                }

                if (epoch is { } e && (e.Epoch != estimate.Epoch || e.Initiator != estimate.Initiator))
                {
                    return; // members in different epochs: their masses are of different runs
                }

                epoch = (estimate.Epoch, estimate.Initiator);
                held.Add(mass);
                foreach ((NodeAddress peer, PushSumState _, PushSumState inbound) in node.LiveNode.AggregateFlows(AggregateKey))
                {
                    absorbed[(peer, node.Address)] = inbound;
                }
            }

            foreach (SimNode node in live)
            {
                foreach ((NodeAddress peer, PushSumState outbound, PushSumState _) in node.LiveNode.AggregateFlows(AggregateKey))
                {
                    inFlight.Add(PushSumState.Difference(outbound, absorbed.GetValueOrDefault((node.Address, peer))));
                }
            }

            seen = true;
            PushSumState total = held;
            total.Add(inFlight);
            double sum = values.Sum();
            if (Math.Abs(total.Value - sum) > 1e-6 * Math.Max(1, sum) || Math.Abs(total.Holders - values.Count) > 1e-6 || Math.Abs(total.Nodes - n) > 1e-6 || Math.Abs(total.Weight - 1) > 1e-9)
            {
                broken ??= $"mass not conserved in epoch {epoch}: held {held} + in flight {inFlight} = {total}, inputs: value {sum}, holders {values.Count}, nodes {n}, weight 1";
            }
        }

        /// <summary>Samples the bounds now and again every <see cref="BoundsSampleInterval"/>.</summary>
        private void SampleBounds()
        {
            CheckBounds();
            cluster.At(cluster.Now + BoundsSampleInterval, _ => SampleBounds());
        }

        /// <summary>
        /// Bounds, at every sample. Promise: each node's broadcast queue stays within
        /// <see cref="BroadcastQueueBound"/>; it knows at most as many members and state owners as
        /// there are nodes in the run; its event log holds at most the events sent (and at most
        /// EventLogMax); its own incarnation never goes back within a start, and every start has a
        /// newer generation than the one before (the per-observer views are the checkers').
        /// </summary>
        private void CheckBounds()
        {
            int queueBound = BroadcastQueueBound(scenario);
            int nodes = cluster.Nodes.Count;
            foreach (SimNode node in cluster.Nodes)
            {
                if (!node.IsUp || node.Node is not { } gossip)
                {
                    continue;
                }

                string at = $"at {cluster.Now.TotalSeconds:0.000}s";
                if (gossip.PendingBroadcasts > queueBound)
                {
                    Bound($"{node.Name} holds {gossip.PendingBroadcasts} broadcasts {at}, over the bound {queueBound}");
                }

                if (gossip.Members.Count > nodes || gossip.StateOwnerCount > nodes)
                {
                    Bound($"{node.Name} knows {gossip.Members.Count} members and {gossip.StateOwnerCount} state owners {at}; the run has {nodes} nodes");
                }

                int logged = gossip.RecentEvents.Count;
                if (logged > Math.Min(_eventsSent, scenario.Options.EventLogMax))
                {
                    Bound($"{node.Name} holds {logged} events {at}; {_eventsSent} were sent (EventLogMax {scenario.Options.EventLogMax})");
                }

                uint incarnation = gossip.Self.Incarnation;
                if (_incarnations.TryGetValue((node.Index, node.Starts), out uint last) && incarnation < last)
                {
                    Bound($"{node.Name}'s own incarnation went back from {last} to {incarnation} {at}");
                }

                _incarnations[(node.Index, node.Starts)] = incarnation;
                ulong generation = gossip.Self.Generation;
                if (_generations.TryGetValue(node.Index, out (int Starts, ulong Generation) previous) && previous.Starts != node.Starts && generation <= previous.Generation)
                {
                    Bound($"{node.Name} started again with generation {generation}, not newer than its previous {previous.Generation} {at}");
                }

                _generations[node.Index] = (node.Starts, generation);
            }
        }

        private void Bound(string text)
        {
            if (_boundViolations.Count < 100)
            {
                _boundViolations.Add("bounds: " + text);
            }
        }
    }
}
