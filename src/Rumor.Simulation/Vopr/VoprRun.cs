using System.Text;
using Rumor.Core;
using Rumor.Core.Events;
using Rumor.Core.Membership;

namespace Rumor.Simulation.Vopr;

/// <summary>What one seed's run found.</summary>
/// <param name="Seed">The seed.</param>
/// <param name="Scenario">What the seed drew.</param>
/// <param name="Violations">Broken invariants, each naming the invariant first (empty: the seed passed).</param>
/// <param name="TraceHash">The run's trace hash (the same seed must give the same hash).</param>
/// <param name="VirtualTime">Virtual time at the end of the run.</param>
/// <param name="Events">Agenda entries processed.</param>
/// <param name="Trace">The records relevant to the first violation, at most <see cref="VoprRun.RelevantTraceMax"/> (empty when it passed).</param>
public sealed record VoprResult(ulong Seed, VoprScenario Scenario, IReadOnlyList<string> Violations, ulong TraceHash, TimeSpan VirtualTime, long Events, IReadOnlyList<string> Trace)
{
    /// <summary>True when no invariant was broken.</summary>
    public bool Passed => Violations.Count == 0;

    /// <summary>The command that replays this seed.</summary>
    public string ReplayCommand => $"rumor vopr --seeds {Seed}";

    /// <summary>How many times each workload promise was actually checked (so a test can tell a vacuous pass from a real one).</summary>
    public IReadOnlyDictionary<string, int> Coverage { get; init; } = new Dictionary<string, int>();
}

/// <summary>
/// Runs one VOPR seed: join, faults and workload (FoundationDB and TigerBeetle's order: faults first),
/// heal everything, then demand within bounds that the cluster is whole again. The invariants, their
/// promises and their bounds are listed in docs/TESTING.md; each violation names its invariant.
/// </summary>
public static partial class VoprRun
{
    /// <summary>Loss at or below which the no-false-dead promise holds (see <see cref="FalseDeadPromised"/>).</summary>
    public const double PromiseLossMax = 0.05;

    /// <summary>The most lines <see cref="VoprResult.Trace"/> holds.</summary>
    public const int RelevantTraceMax = 60;

    /// <summary>The most nodes named by a violation that its relevant trace follows.</summary>
    private const int NamedMax = 12;

    /// <summary>Runs <paramref name="seed"/> to the end and checks every invariant.</summary>
    public static VoprResult Run(ulong seed, CancellationToken stop = default) => Run(seed, sabotage: null, stop);

    /// <summary>
    /// Runs <paramref name="seed"/>, calling <paramref name="sabotage"/> right after the heal and
    /// before the checks (tests use it to prove that a broken cluster is reported).
    /// </summary>
    public static VoprResult Run(ulong seed, Action<SimCluster>? sabotage, CancellationToken stop = default)
    {
        VoprScenario scenario = VoprScenario.Generate(seed);
        SimCluster cluster = new(new SimulationOptions
        {
            Seed = seed,
            Gossip = scenario.Options,
            Network = new NetworkOptions { Latency = scenario.Network.Latency, Jitter = scenario.Network.Jitter },
            TraceRecent = 400,
        });
        List<string> violations = [];
        VoprState state = new(scenario, cluster, violations, sabotage);
        try
        {
            state.Execute(stop);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            violations.Add($"no exception: {e.GetType().Name}: {e.Message} at virtual {cluster.Now.TotalSeconds:0.000}s{Environment.NewLine}{e.StackTrace}");
        }

        foreach (string violation in cluster.Checkers.Violations)
        {
            violations.Add("checkers: " + violation);
        }

        // The membership checksum each node keeps as its view changes (acks and push-pulls carry it)
        // must equal the one computed from its member list.
        foreach (SimNode node in cluster.Nodes)
        {
            if (node.IsUp && node.Node is { } live && !live.ViewChecksumIsConsistent(out ulong kept, out ulong computed))
            {
                violations.Add($"view checksum: {node.Name} kept {kept:x16} but its member list gives {computed:x16}");
            }
        }

        IReadOnlyList<string> trace = violations.Count == 0 ? [] : state.RelevantTrace(violations[0]);
        return new VoprResult(seed, scenario, violations, cluster.Trace.Hash, cluster.Now, cluster.EventsProcessed, trace) { Coverage = state.Coverage };
    }

    /// <summary>
    /// The no-false-dead promise: with SWIM, loss at most <see cref="PromiseLossMax"/>, at least 3
    /// indirect checks and a suspicion multiplier of at least 4 (Lifeguard on, as always), a member
    /// that no fault touched is never declared dead by an observer that no fault touched. Faults that
    /// touch a node: partition, one-way block, stall, crash, restart, leave. Outside the promise (a
    /// partitioned or stalled node, 20 % loss, k = 1, φ) a false dead is legitimate and not checked.
    /// <para>
    /// No partition anywhere in the run, either (narrowed after seed 4): during a partition each
    /// side declares the other side dead at the incarnation it last knew, and once the partition
    /// heals those dead messages are gossiped into the other side, where a member that never heard
    /// the accusation still holds that same incarnation, so every observer briefly sees it dead
    /// until it refutes. memberlist behaves the same way (a dead message at the current incarnation
    /// is accepted from anyone); the membership invariant still demands the view whole within its
    /// bound after heal.
    /// </para>
    /// </summary>
    public static bool FalseDeadPromised(VoprScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        GossipOptions o = scenario.Options;
        return o.FailureDetector == FailureDetectorKind.Swim
            && scenario.Network.LossProbability <= PromiseLossMax
            && o.IndirectChecks >= 3
            && o.SuspicionMultiplier >= 4
            && scenario.Faults.All(f => f.Kind != VoprFaultKind.Partition);
    }

    /// <summary>
    /// The leave promise: with loss at most <see cref="PromiseLossMax"/> and no partition or one-way
    /// block anywhere in the run, every live member sees every departed member as left (or has
    /// forgotten it). Outside it a graceful leave is best effort, as in memberlist: the departing
    /// node gossips its leave RetransmitMultiplier × ceil(log10(N + 1)) times and stops, so a member
    /// can miss every copy (seed 151: 3 nodes, budget 2, 16 % loss) and later declare the silent
    /// member dead; a member that has left cannot refute. The weaker promise still checked there:
    /// a departed member may be seen dead only while no live member sees it left (one that does
    /// spreads the leave by gossip and push-pull, and a dead member accepts a later leave, also one
    /// of a newer generation than the one it holds dead: seed 730, where a member restarted fresh
    /// and left before three observers heard of its newer generation).
    /// </summary>
    public static bool LeavePromised(VoprScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        return scenario.Network.LossProbability <= PromiseLossMax
            && scenario.Faults.All(f => f.Kind is not (VoprFaultKind.Partition or VoprFaultKind.OneWayBlock));
    }

    /// <summary>The bound on convergence after heal: the longest suspicion, two push-pull rounds (scaled by N), dead-member reconnects, and slack.</summary>
    public static TimeSpan ConvergenceBound(VoprScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        GossipOptions o = scenario.Options;
        int n = scenario.NodeCount;
        TimeSpan probe = o.ProbeInterval * o.AwarenessMaxMultiplier;
        TimeSpan maxSuspicion = o.ProbeInterval * (o.SuspicionMaxTimeoutMultiplier * o.SuspicionMultiplier * Math.Max(1, Math.Log10(n)));
        double pushPullScale = n <= 32 ? 1 : Math.Ceiling(Math.Log2(n) - 5) + 1;
        return maxSuspicion + (o.PushPullInterval * (3 * pushPullScale)) + (probe * 5) + TimeSpan.FromSeconds(30);
    }

    private sealed partial class VoprState(VoprScenario scenario, SimCluster cluster, List<string> violations, Action<SimCluster>? sabotage)
    {
        private readonly HashSet<int> _touched = [];
        private readonly Dictionary<(int Node, string Key), Written> _writes = [];
        private readonly List<string> _falseDead = [];

        // Membership changes as each node reported them, and the named nodes' crashes, restarts and
        // leaves: kept outside the hashed trace (whose recent records roll over within seconds in a
        // large cluster) to explain a violation (RelevantTrace).
        private readonly List<(TimeSpan At, int Observer, MemberChanged Change)> _changes = [];
        private readonly List<(TimeSpan At, int Node, string Text)> _lifecycle = [];
        private TimeSpan _origin;

        public void Execute(CancellationToken stop)
        {
            cluster.AddNodes(scenario.NodeCount);
            cluster.Observe(Observe);
            cluster.StartAll(TimeSpan.FromMilliseconds(10));
            TimeSpan joinBound = TimeSpan.FromSeconds(60) + ConvergenceBound(scenario);
            // The token is checked where the condition is (a large cluster's join is long), which
            // changes nothing in the run.
            bool joined()
            {
                stop.ThrowIfCancellationRequested();
                return cluster.MembershipAgrees();
            }

            if (cluster.RunUntil(joined, joinBound, TimeSpan.FromSeconds(1)) is null)
            {
                cluster.MembershipAgrees(out string differences);
                violations.Add($"membership: the initial join did not converge within {joinBound.TotalSeconds:0} s: {differences}");
                return;
            }

            _origin = cluster.Now;
            cluster.Network.Options = scenario.Network;
            foreach (VoprFault fault in scenario.Faults)
            {
                Schedule(fault);
            }

            foreach (VoprOperation operation in scenario.Workload)
            {
                cluster.At(_origin + operation.At, _ => Apply(operation));
            }

            cluster.At(_origin, _ => SampleBounds());

            TimeSpan healAt = _origin + Max(scenario.HealedBy, VoprScenario.FaultWindow);
            while (cluster.Now < healAt)
            {
                stop.ThrowIfCancellationRequested();
                cluster.RunUntilTime(Min(healAt, cluster.Now + TimeSpan.FromSeconds(5)));
            }

            Heal();
            sabotage?.Invoke(cluster);
            CheckAfterHeal(stop);
        }

        /// <summary>
        /// The records that explain <paramref name="violation"/>, at most <see cref="RelevantTraceMax"/>
        /// lines: for the nodes it names, their crashes, restarts and leaves and the membership changes
        /// among them (each with generation and incarnation, which the hashed trace does not carry),
        /// then how every live view holds each named member now, then the hashed trace's last records
        /// about them. With no node named: the trace's last records.
        /// </summary>
        public IReadOnlyList<string> RelevantTrace(string violation)
        {
            List<SimNode> named = cluster.Nodes.Where(n => violation.Contains(n.Name, StringComparison.Ordinal)).Take(NamedMax).ToList();
            List<string> recent = cluster.Trace.Recent.ToList();
            if (named.Count == 0)
            {
                return recent.TakeLast(20).ToList();
            }

            HashSet<string> names = named.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
            HashSet<int> indexes = named.Select(n => n.Index).ToHashSet();
            List<string> lines = [];
            // The named nodes' lives (few) in full, then their latest changes of view of each other.
            List<(TimeSpan At, string Text)> lives = _lifecycle.Where(l => indexes.Contains(l.Node)).Select(l => (l.At, $"{cluster.Nodes[l.Node].Name}: {l.Text}")).TakeLast(16).ToList();
            IEnumerable<(TimeSpan At, string Text)> changes = _changes.Where(c => names.Contains(c.Change.Member.Name) && indexes.Contains(c.Observer) && cluster.Nodes[c.Observer].Name != c.Change.Member.Name)
                .Select(c => (c.At, $"{cluster.Nodes[c.Observer].Name} sees {Describe(c.Change)}")).TakeLast(RelevantTraceMax - 20 - lives.Count);
            lines.AddRange(lives.Concat(changes).OrderBy(h => h.At).Select(h => $"{h.At.TotalSeconds,10:0.000000}s {h.Text}"));

            // Every live view of each named member now: a disagreement shows at a glance which
            // generation and incarnation each side holds.
            foreach (SimNode member in named.Take(6))
            {
                IEnumerable<string> views = cluster.LiveNodes.Where(n => n != member)
                    .GroupBy(n => n.LiveNode.FindMember(member.Name) is { } m ? $"{m.State} g{m.Generation} i{m.Incarnation}" : "unknown", StringComparer.Ordinal)
                    .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => $"{g.Key} in {g.Count()} views" + (g.Count() <= 6 ? $" ({string.Join(", ", g.Select(n => n.Name))})" : ""));
                string self = member.IsUp ? $"up at g{member.LiveNode.Options.Generation}{(member.LiveNode.IsLeaving ? ", leaving" : "")}" : member.HasLeft ? "left" : "down";
                lines.Add($"  now {member.Name} ({self}): {string.Join("; ", views)}");
            }

            List<string> aboutNamed = recent.Where(r => indexes.Any(i => r.Contains($"node {i}:", StringComparison.Ordinal))).TakeLast(RelevantTraceMax - lines.Count).ToList();
            lines.AddRange(aboutNamed);
            return lines.Count > 0 ? lines.TakeLast(RelevantTraceMax).ToList() : recent.TakeLast(20).ToList();
        }

        private static string Describe(MemberChanged change) =>
            $"{change.Member.Name} {change.Kind}: {change.Previous?.ToString() ?? "unknown"} -> {change.Member.State} g{change.Member.Generation} i{change.Member.Incarnation}";

        private void Note(int node, string text) => _lifecycle.Add((cluster.Now, node, text));

        private void Observe(SimNode node, GossipEvent e)
        {
            if (e is MemberChanged change)
            {
                _changes.Add((cluster.Now, node.Index, change));
            }
            else if (e is LeaveCompleted)
            {
                Note(node.Index, "leave completed");
            }

            switch (e)
            {
                case MemberChanged { Kind: MemberChangeKind.Failed } failed when FalseDeadPromised(scenario):
                    SimNode? member = cluster.Nodes.FirstOrDefault(n => n.Name == failed.Member.Name);
                    if (member is { IsUp: true } && member.Node!.Options.Generation == failed.Member.Generation
                        && !_touched.Contains(member.Index) && !_touched.Contains(node.Index) && !member.Node.IsLeaving)
                    {
                        _falseDead.Add($"no false dead: {node.Name} declared {member.Name} dead at {cluster.Now.TotalSeconds:0.000}s (loss {scenario.Network.LossProbability:P1}, neither touched by a fault)");
                    }

                    break;
                default:
                    ObserveWorkload(node, e);
                    break;
            }
        }

        private void Touch(IEnumerable<int> nodes)
        {
            foreach (int index in nodes)
            {
                _touched.Add(index);
            }
        }

        private void Schedule(VoprFault fault)
        {
            TimeSpan start = _origin + fault.At;
            TimeSpan end = _origin + fault.End;
            SimNode[] nodes = fault.Nodes.Select(i => cluster.Nodes[i]).ToArray();
            cluster.At(start, _ => Touch(fault.Nodes));
            foreach (int index in fault.Nodes)
            {
                _touches.Add((index, start, fault.Kind == VoprFaultKind.Leave ? TimeSpan.MaxValue : end));
            }
            switch (fault.Kind)
            {
                case VoprFaultKind.Partition:
                    cluster.At(start, c => c.Network.Partition([nodes]));
                    cluster.At(end, c => c.Network.Heal());
                    break;
                case VoprFaultKind.OneWayBlock:
                    cluster.At(start, c => c.Network.BlockDatagramsOneWay(nodes[0], nodes[1]));
                    cluster.At(end, c => c.Network.UnblockDatagrams(nodes[0], nodes[1]));
                    break;
                case VoprFaultKind.Stall:
                    cluster.At(start, _ => nodes[0].Starve(new InputDelayModel(0.05, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(3))));
                    cluster.At(end, _ => nodes[0].Starve(null));
                    break;
                case VoprFaultKind.Leave:
                    cluster.At(start, c =>
                    {
                        if (nodes[0].IsUp && !nodes[0].LiveNode.IsLeaving)
                        {
                            Note(nodes[0].Index, $"leaves (g{nodes[0].LiveNode.Options.Generation})");
                            c.Leave(nodes[0]);
                        }
                    });
                    break;
                default: // CrashRestart, MassRestart
                    cluster.At(start, c =>
                    {
                        foreach (SimNode node in nodes.Where(n => n.IsUp && !n.LiveNode.IsLeaving))
                        {
                            node.PersistIdentity = fault.PersistIdentity;
                            Note(node.Index, $"crashes (g{node.LiveNode.Options.Generation}; {fault.Kind}, restart {(fault.PersistIdentity ? "with its data dir" : "fresh")})");
                            c.Crash(node);
                        }
                    });
                    cluster.At(end, c =>
                    {
                        foreach (SimNode node in nodes.Where(n => !n.IsUp && !n.HasLeft))
                        {
                            c.Restart(node);
                            Note(node.Index, $"restarts at g{node.LiveNode.Options.Generation}");
                        }
                    });
                    break;
            }
        }

        private void Apply(VoprOperation operation)
        {
            if (operation.Kind == VoprOperationKind.Join)
            {
                SimNode joiner = cluster.AddNodes(1)[0];
                cluster.Trace.RecordEvent(cluster.Now, joiner.Index, "join (workload)");
                cluster.Start(joiner);
                Cover("joins");
                return;
            }

            SimNode node = cluster.Nodes[operation.Node];
            if (!node.IsUp || node.LiveNode.IsLeaving)
            {
                return;
            }

            switch (operation.Kind)
            {
                case VoprOperationKind.Set:
                    string value = $"{operation.Key}@{cluster.Now.Ticks}";
                    node.Command((n, now) => n.SetValue(operation.Key, Encoding.UTF8.GetBytes(value), now));
                    _writes[(node.Index, operation.Key)] = new Written(value, node.Starts, null);
                    break;
                case VoprOperationKind.SetWithTtl:
                    string expiring = $"{operation.Key}@{cluster.Now.Ticks}~{operation.Duration.TotalMilliseconds:0}";
                    node.Command((n, now) => n.SetValue(operation.Key, Encoding.UTF8.GetBytes(expiring), now, operation.Duration));
                    _writes[(node.Index, operation.Key)] = new Written(expiring, node.Starts, cluster.Now + operation.Duration);
                    break;
                case VoprOperationKind.Query:
                    AskQuery(node, operation.Duration, afterHeal: false);
                    break;
                case VoprOperationKind.Delete:
                    if (_writes.TryGetValue((node.Index, operation.Key), out Written written) && written.Value is not null && written.Starts == node.Starts)
                    {
                        node.Command((n, now) => n.DeleteValue(operation.Key, now));
                        _writes[(node.Index, operation.Key)] = new Written(null, node.Starts, null);
                    }

                    break;
                case VoprOperationKind.Event:
                case VoprOperationKind.CoalescedEvent:
                    bool coalesce = operation.Kind == VoprOperationKind.CoalescedEvent;
                    UserEvent sent = node.Command((n, now) => n.SendEvent(operation.Key, Encoding.UTF8.GetBytes("e"), now, coalesce));
                    RecordSent(node, sent, coalesce);

                    break;
            }
        }

        /// <summary>Ends every fault still in force: partitions and blocks healed, stalls over, crashed nodes restarted, network loss-free (latency kept).</summary>
        private void Heal()
        {
            cluster.Network.Heal();
            foreach (SimNode a in cluster.Nodes)
            {
                a.Starve(null);
                foreach (SimNode b in cluster.Nodes)
                {
                    cluster.Network.UnblockDatagrams(a, b);
                }
            }

            foreach (SimNode node in cluster.Nodes.Where(n => !n.IsUp && !n.HasLeft))
            {
                cluster.Restart(node);
                Note(node.Index, $"restarts at g{node.LiveNode.Options.Generation} (heal)");
            }

            cluster.Network.Options = new NetworkOptions { Latency = scenario.Network.Latency, Jitter = scenario.Network.Jitter };
        }

        private void CheckAfterHeal(CancellationToken stop)
        {
            TimeSpan bound = ConvergenceBound(scenario);
            Func<SimNode, bool>? deadMayStandForLeft = LeavePromised(scenario)
                ? null
                : departed => !cluster.LiveNodes.Any(n => n.LiveNode.FindMember(departed.Name)?.State == MemberState.Left);
            bool agreed = RunUntil(() => cluster.MembershipAgrees(deadMayStandForLeft), bound, stop);
            if (!agreed)
            {
                cluster.MembershipAgrees(out string differences, deadMayStandForLeft);
                violations.Add($"membership: not every live member alive in every live view within {bound.TotalSeconds:0} s of the heal: {differences}");
            }

            violations.AddRange(_falseDead.Take(5));

            // Replicated state: equal checksums everywhere, within the same bound again.
            bool stateAgrees() => cluster.LiveNodes.Select(n => n.LiveNode.StateChecksum).Distinct().Count() <= 1;
            if (agreed && !RunUntil(stateAgrees, bound, stop))
            {
                ulong common = cluster.LiveNodes.GroupBy(n => n.LiveNode.StateChecksum).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
                static string Owners(SimNode n) => string.Join(" ", n.LiveNode.StateDigest.Select(d => $"{d.Owner}:{d.Generation % 100000}:{d.MaxVersion}"));
                SimNode majority = cluster.LiveNodes.First(n => n.LiveNode.StateChecksum == common);
                violations.Add($"state: checksums differ {bound.TotalSeconds:0} s after membership agreed: most hold {common:x16} ({majority.Name} over owners [{Owners(majority)}]), but " +
                    string.Join(", ", cluster.LiveNodes.Where(n => n.LiveNode.StateChecksum != common).Take(6).Select(n => $"{n.Name} (started {n.Starts}×) holds {n.LiveNode.StateChecksum:x16} over owners [{Owners(n)}]")));
            }

            // Expired keys: wait until the owner has deleted every short-lived key (its next state
            // round after the expiry), then for the checksums to agree again.
            if (agreed)
            {
                WaitForExpiries(bound, stateAgrees, stop);
            }

            // Every acknowledged write of an owner that never restarted is visible everywhere; no delete resurrected;
            // no expired key anywhere.
            foreach (((int owner, string key), Written written) in _writes.OrderBy(w => w.Key.Node).ThenBy(w => w.Key.Key, StringComparer.Ordinal))
            {
                SimNode writer = cluster.Nodes[owner];
                if (writer.Starts != written.Starts || !writer.IsUp || writer.LiveNode.IsLeaving)
                {
                    continue; // a restart without state, or a departure, takes the owner's map with it
                }

                if (!TryExpectedValue(written, out string? value))
                {
                    continue; // expiring around now: either is right
                }

                foreach (SimNode reader in cluster.LiveNodes)
                {
                    byte[]? seen = reader.LiveNode.GetValue(writer.Name, key)?.Value;
                    string? text = seen is null ? null : Encoding.UTF8.GetString(seen);
                    Cover(written.ExpiresAt is null ? value is null ? "deletes" : "writes" : value is null ? "ttl expired" : "ttl live");
                    if (text != value)
                    {
                        string acknowledged = value is not null ? "write was " + value : written.ExpiresAt is { } expiry ? $"write {written.Value} expired at {expiry.TotalSeconds:0.000}s" : "delete left nothing";
                        violations.Add($"{(written.ExpiresAt is not null && value is null ? "ttl" : "state")}: {reader.Name} holds {writer.Name}/{key} = {text ?? "nothing"}, the acknowledged {acknowledged}");
                        break;
                    }
                }
            }

            // Events, queries, the aggregate and the bounds (VoprRun.Workload.cs).
            TimeSpan settle = TimeSpan.FromSeconds(30);
            RunUntil(() => false, settle, stop);
            CheckEvents();
            if (agreed)
            {
                AfterHealWorkload(stop);
            }

            CheckQueries();
            CheckBounds();
            violations.AddRange(_boundViolations.Take(5));
        }

        private bool RunUntil(Func<bool> condition, TimeSpan timeout, CancellationToken stop)
        {
            TimeSpan end = cluster.Now + timeout;
            while (true)
            {
                stop.ThrowIfCancellationRequested();
                TimeSpan? took = cluster.RunUntil(condition, Min(TimeSpan.FromSeconds(5), end - cluster.Now), TimeSpan.FromMilliseconds(500));
                if (took is not null)
                {
                    return true;
                }

                if (cluster.Now >= end)
                {
                    return condition();
                }
            }
        }

        private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

        private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
    }
}
