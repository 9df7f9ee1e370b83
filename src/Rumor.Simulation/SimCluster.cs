using System.Diagnostics;
using System.Text;
using Rumor.Core;
using Rumor.Core.Membership;
using Rumor.Core.Randomness;
using Rumor.Core.Wire;

namespace Rumor.Simulation;

/// <summary>What a simulated cluster is made of.</summary>
public sealed record SimulationOptions
{
    /// <summary>The one number that determines the whole run.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Network behaviour (may be changed mid-run through <see cref="SimCluster.Network"/>).</summary>
    public NetworkOptions Network { get; init; } = new();

    /// <summary>Gossip options of every node (Name, AdvertiseAddress, Generation and, unless set, Seeds are filled in per node).</summary>
    public GossipOptions Gossip { get; init; } = GossipOptions.Lan;

    /// <summary>How many seed nodes (the first ones) the others join through.</summary>
    public int SeedCount { get; init; } = 1;

    /// <summary>Trace records kept as text for failure reports.</summary>
    public int TraceRecent { get; init; } = 200;

    /// <summary>
    /// Tick each node at <see cref="GossipNode.NextWakeDue"/>, as the real transport does (gossip
    /// rounds with nothing to send are slept through), instead of <see cref="GossipNode.NextTimerDue"/>
    /// (the default, which every recorded trace hash was taken with).
    /// </summary>
    public bool SleepThroughIdleRounds { get; init; }
}

/// <summary>
/// A whole cluster in virtual time: real <see cref="GossipNode"/>s, a <see cref="SimNetwork"/>, one
/// agenda and one seed. Nothing here reads the wall clock or a global random source, and every
/// collection that decides an order is ordered, so the same seed replays the same run bit for bit
/// (compare <see cref="SimTrace.Hash"/>). "Run for 60 s" costs only the events in it.
/// </summary>
public sealed class SimCluster
{
    private readonly SimEventQueue _agenda = new();
    private readonly List<SimNode> _nodes = [];
    private readonly Dictionary<NodeAddress, SimNode> _byAddress = [];
    private readonly List<Action<SimNode, GossipEvent>> _observers = [];
    private ulong _seedState;

    /// <summary>Builds an empty cluster; add nodes with <see cref="AddNodes"/>.</summary>
    public SimCluster(SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<string> problems = options.Network.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid network options: " + string.Join("; ", problems), nameof(options));
        }

        Options = options;
        _seedState = options.Seed;
        Network = new SimNetwork(this, new Xoshiro256StarStar(DeriveSeed()), options.Network);
        Trace = new SimTrace(options.TraceRecent);
    }

    /// <summary>The options the cluster was built with.</summary>
    public SimulationOptions Options { get; }

    /// <summary>The seed of this run.</summary>
    public ulong Seed => Options.Seed;

    /// <summary>Virtual time.</summary>
    public TimeSpan Now { get; private set; }

    /// <summary>Every node ever added, by index.</summary>
    public IReadOnlyList<SimNode> Nodes => _nodes;

    /// <summary>The network.</summary>
    public SimNetwork Network { get; }

    /// <summary>The trace hash of the run.</summary>
    public SimTrace Trace { get; }

    /// <summary>Invariant checkers.</summary>
    public SimCheckers Checkers { get; } = new();

    /// <summary>Names, state keys and small state values shared by all nodes' decoders (immutable; this saves memory at scale).</summary>
    public NameTable Names { get; } = new(1 << 22, internStateEntries: true);

    /// <summary>Agenda entries processed so far.</summary>
    public long EventsProcessed => _agenda.Processed;

    /// <summary>The seed nodes' addresses.</summary>
    public IReadOnlyList<NodeAddress> SeedAddresses =>
        _nodes.Take(Math.Max(1, Options.SeedCount)).Select(n => n.Address).ToArray();

    /// <summary>Calls <paramref name="observer"/> for every event every node reports.</summary>
    public void Observe(Action<SimNode, GossipEvent> observer) => _observers.Add(observer);

    /// <summary>Adds <paramref name="count"/> nodes (not started) named node-0001… at 127.x.y.z:7946.</summary>
    public IReadOnlyList<SimNode> AddNodes(int count, Func<SimNode, GossipOptions>? options = null)
    {
        List<SimNode> added = [];
        for (int i = 0; i < count; i++)
        {
            int index = _nodes.Count;
            string name = Names.Intern($"node-{index + 1:D4}");
            NodeAddress address = new(0x7F000000u + (uint)index + 1, 7946);
            SimNode? node = null;
            node = new SimNode(this, index, name, address, () => options?.Invoke(node!) ?? DefaultOptions());
            _nodes.Add(node);
            _byAddress.Add(address, node);
            added.Add(node);
        }

        return added;
    }

    private GossipOptions DefaultOptions()
    {
        GossipOptions template = Options.Gossip;
        return template.Seeds.Count > 0 ? template : template with { Seeds = SeedAddresses };
    }

    /// <summary>Starts <paramref name="node"/> now; unless it is the first seed, it joins through the seeds.</summary>
    public void Start(SimNode node, bool join = true)
    {
        if (node.Starts > 0)
        {
            Checkers.OnRestart(node);
        }

        node.Start(Now, join && node.Index != 0);
    }

    /// <summary>Starts every node that is down, the i-th at Now + i × <paramref name="stagger"/>.</summary>
    public void StartAll(TimeSpan stagger = default)
    {
        TimeSpan at = Now;
        foreach (SimNode node in _nodes)
        {
            if (!node.IsUp)
            {
                At(at, _ => Start(node));
                at += stagger;
            }
        }
    }

    /// <summary>Crashes <paramref name="node"/> now: it stops without a word.</summary>
    public void Crash(SimNode node)
    {
        Trace.RecordEvent(Now, node.Index, "crash");
        node.Crash();
    }

    /// <summary>Restarts a crashed node: same name and address, a newer generation, fresh state; it joins through the seeds.</summary>
    public void Restart(SimNode node)
    {
        if (node.IsUp)
        {
            node.Crash();
        }

        Trace.RecordEvent(Now, node.Index, "restart");
        Start(node);
    }

    /// <summary>
    /// Restarts <paramref name="node"/> at <paramref name="address"/> (crashing it first if it runs):
    /// the same name, a newer generation, a new address, as a process moved to another host.
    /// </summary>
    public void RestartAt(SimNode node, NodeAddress address)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (_byAddress.ContainsKey(address))
        {
            throw new ArgumentException($"{address} is already taken.", nameof(address));
        }

        if (node.IsUp)
        {
            node.Crash();
        }

        _byAddress.Remove(node.Address);
        node.Address = address;
        _byAddress.Add(address, node);
        Trace.RecordEvent(Now, node.Index, $"restart at {address}");
        Start(node);
    }

    /// <summary>Asks <paramref name="node"/> to leave gracefully; it stops once its leave has been gossiped.</summary>
    public void Leave(SimNode node)
    {
        node.LiveNode.Leave(Now);
        if (node.IsUp)
        {
            node.ScheduleWake();
        }
    }

    /// <summary>Runs <paramref name="action"/> at virtual time <paramref name="at"/> (now, if it has passed).</summary>
    public void At(TimeSpan at, Action<SimCluster> action) => Schedule(at < Now ? Now : at, new ActionEvent(action));

    /// <summary>Runs the agenda for <paramref name="duration"/> of virtual time.</summary>
    public void RunFor(TimeSpan duration) => RunUntilTime(Now + duration);

    /// <summary>Runs the agenda up to virtual time <paramref name="end"/>.</summary>
    public void RunUntilTime(TimeSpan end)
    {
        while (_agenda.TryPeekTime(out TimeSpan at) && at <= end)
        {
            SimEntry next = _agenda.Dequeue(out at);
            Now = at;
            switch (next.Kind)
            {
                case SimEntryKind.Wake:
                    next.Node!.Wake(at);
                    break;
                case SimEntryKind.Packet:
                    Network.Deliver(next.From!, next.Node!, next.Bytes!, next.Length);
                    break;
                default:
                    next.Event!.Run(this, at);
                    break;
            }
        }

        if (end > Now)
        {
            Now = end;
        }
    }

    /// <summary>
    /// Runs until <paramref name="condition"/> holds, checking every <paramref name="checkEvery"/> of
    /// virtual time, for at most <paramref name="timeout"/>. Returns how long it took, or null.
    /// </summary>
    public TimeSpan? RunUntil(Func<bool> condition, TimeSpan timeout, TimeSpan? checkEvery = null)
    {
        TimeSpan step = checkEvery ?? TimeSpan.FromMilliseconds(100);
        TimeSpan start = Now;
        TimeSpan end = Now + timeout;
        while (true)
        {
            if (condition())
            {
                return Now - start;
            }

            if (Now >= end)
            {
                return null;
            }

            RunUntilTime(Now + step < end ? Now + step : end);
        }
    }

    /// <summary>Nodes that are running and have not begun to leave.</summary>
    public IEnumerable<SimNode> LiveNodes => _nodes.Where(n => n.IsUp && !n.LiveNode.IsLeaving);

    /// <summary>
    /// True when every node has started and every live node's view is what reality says: every live
    /// node alive, every crashed node dead (or forgotten), every departed node left (or forgotten).
    /// Lists the first differences.
    /// </summary>
    public bool MembershipAgrees(out string differences) => MembershipAgrees(out differences, null);

    /// <summary>
    /// As <see cref="MembershipAgrees(out string)"/>, except that a departed node seen as dead passes
    /// when <paramref name="deadMayStandForLeft"/> says so for it (a leave that, by the caller's
    /// promise, may have been lost: the VOPR outside its leave promise).
    /// </summary>
    public bool MembershipAgrees(out string differences, Func<SimNode, bool>? deadMayStandForLeft) =>
        MembershipAgrees(out differences, deadMayStandForLeft, stopAtFirst: false);

    /// <summary>
    /// The check itself; <paramref name="stopAtFirst"/> returns at the first difference without
    /// describing it (the polled form: N² lookups per poll otherwise, a few per cent of a
    /// 1,000-node join's wall time).
    /// </summary>
    private bool MembershipAgrees(out string differences, Func<SimNode, bool>? deadMayStandForLeft, bool stopAtFirst)
    {
        differences = string.Empty;
        StringBuilder text = new();
        int count = 0;
        foreach (SimNode waiting in _nodes.Where(n => n.Starts == 0))
        {
            if (stopAtFirst)
            {
                return false;
            }

            count++;
            text.Append($"{waiting.Name} has not started yet; ");
        }

        foreach (SimNode observer in LiveNodes)
        {
            GossipNode view = observer.LiveNode;
            foreach (SimNode other in _nodes)
            {
                if (other == observer)
                {
                    continue;
                }

                MemberState? actual = view.FindMember(other.Name)?.State;
                bool ok = Expected(other) switch
                {
                    MemberState.Alive => actual == MemberState.Alive,
                    MemberState.Left => actual is null or MemberState.Left || (actual == MemberState.Dead && deadMayStandForLeft?.Invoke(other) == true),
                    _ => actual is null or MemberState.Dead or MemberState.Left,
                };
                if (!ok && stopAtFirst)
                {
                    return false;
                }

                if (!ok && ++count <= 10)
                {
                    text.Append($"{observer.Name} sees {other.Name} as {actual?.ToString() ?? "unknown"}, expected {Expected(other)}; ");
                }
            }
        }

        if (count > 10)
        {
            text.Append($"and {count - 10} more");
        }

        differences = text.ToString();
        return count == 0;
    }

    /// <summary>Whether every live node's view is right (see <see cref="MembershipAgrees(out string)"/>).</summary>
    public bool MembershipAgrees() => MembershipAgrees(out _, null, stopAtFirst: true);

    /// <summary>As <see cref="MembershipAgrees(out string, Func{SimNode, bool}?)"/>, without describing the differences (stops at the first).</summary>
    public bool MembershipAgrees(Func<SimNode, bool>? deadMayStandForLeft) => MembershipAgrees(out _, deadMayStandForLeft, stopAtFirst: true);

    private static MemberState Expected(SimNode node) =>
        node.HasLeft ? MemberState.Left : node.IsUp && !node.LiveNode.IsLeaving ? MemberState.Alive : node.IsUp ? MemberState.Left : MemberState.Dead;

    /// <summary>A description of the run for failure messages: seed, time, and the last trace records.</summary>
    public string Describe(int lastRecords = 20)
    {
        StringBuilder text = new();
        text.AppendLine($"seed={Seed} (replay: set RUMOR_SIM_SEED={Seed}) at virtual {Now.TotalSeconds:0.000}s, trace hash {Trace.Hash:x16}");
        foreach (string violation in Checkers.Violations.Take(10))
        {
            text.AppendLine("violation: " + violation);
        }

        foreach (string record in Trace.Recent.TakeLast(lastRecords))
        {
            text.AppendLine("  " + record);
        }

        return text.ToString();
    }

    internal SimNode? FindByAddress(NodeAddress address) => _byAddress.GetValueOrDefault(address);

    internal ulong DeriveSeed() => Xoshiro256StarStar.SplitMix64(ref _seedState);

    internal void Schedule(TimeSpan at, SimEvent simEvent) => _agenda.Schedule(at, simEvent);

    internal void Schedule(TimeSpan at, in SimEntry entry) => _agenda.Schedule(at, entry);

    internal void ScheduleWake(SimNode node, TimeSpan at) => _agenda.Schedule(at, new SimEntry(SimEntryKind.Wake, null, node, null, null, 0));

    // A member change's trace text: kind (at most 16 chars), a name, an incarnation (at most 20 digits).
    private const int EventTextOverheadChars = 40;
    private const int EventTextStackMaxChars = 320;

    internal void OnNodeEvent(SimNode node, GossipEvent gossipEvent)
    {
        switch (gossipEvent)
        {
            case MemberChanged change:
                // Formatted on the stack: a join emits one per member on every node (N² strings).
                int capacity = change.Member.Name.Length + EventTextOverheadChars;
                Span<char> text = capacity <= EventTextStackMaxChars ? stackalloc char[EventTextStackMaxChars] : new char[capacity];
                bool fits = text.TryWrite($"{change.Kind} {change.Member.Name} {change.Member.Incarnation}", out int written);
                Debug.Assert(fits, "the capacity covers kind, name and incarnation");
                Trace.RecordEvent(Now, node.Index, text[..written]);

                Checkers.OnMemberChanged(node, change);
                break;
            case LeaveCompleted:
                Trace.RecordEvent(Now, node.Index, "left");

                // Stop once the current input returns, as a real shell would.
                MarkLeftAfterInput(node);
                break;
            default:
                Trace.RecordEvent(Now, node.Index, gossipEvent.GetType().Name);
                break;
        }

        foreach (Action<SimNode, GossipEvent> observer in _observers)
        {
            observer(node, gossipEvent);
        }
    }

    // Apart from OnNodeEvent: a lambda there over its parameter made the compiler allocate the
    // closure at every event (a join emits one per member on every node).
    private void MarkLeftAfterInput(SimNode node) => At(Now, _ => node.MarkLeft());

    private sealed class ActionEvent(Action<SimCluster> action) : SimEvent
    {
        public override void Run(SimCluster cluster, TimeSpan now) => action(cluster);
    }
}
