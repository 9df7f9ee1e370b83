using Rumor.Core;
using Rumor.Core.Membership;
using Rumor.Core.Randomness;

namespace Rumor.Simulation;

/// <summary>
/// A CPU-starved process: each input reaching it freezes it, with <paramref name="Probability"/>,
/// for a uniform random time in [<paramref name="Min"/>, <paramref name="Max"/>].
/// </summary>
public sealed record InputDelayModel(double Probability, TimeSpan Min, TimeSpan Max);

/// <summary>
/// One simulated process: a real <see cref="GossipNode"/> behind a simulated host. A crash stops
/// the node where it stands (no leave, no goodbye); a restart builds a fresh node with the same
/// name and address and a newer generation, as a real process restart would. With
/// <see cref="PersistIdentity"/> the restart also keeps (generation, incarnation) as the
/// transport's state file does: generation = max(stored + 1, new), incarnation = stored + 1.
/// <para>
/// Starvation (<see cref="Starve"/>): an input may freeze the process for seconds. While frozen,
/// inputs wait in a backlog in arrival order and timers do not fire; when it thaws, the node first
/// fires its overdue timers (late, as the transport loop does after a pause: it checks the clock
/// after at most one backlog item) and then works through the backlog, each input at the thaw time.
/// </para>
/// </summary>
public sealed class SimNode : IGossipHost
{
    /// <summary>Bound of a frozen node's backlog; past it inputs are dropped and counted (a real socket buffer overflows too).</summary>
    public const int BacklogMax = 100_000;

    private readonly SimCluster _cluster;
    private readonly Func<GossipOptions> _optionsFactory;
    private readonly Queue<Action<GossipNode, TimeSpan>> _backlog = new();
    private TimeSpan _scheduledWake = TimeSpan.MaxValue;
    private TimeSpan _frozenUntil;
    private Xoshiro256StarStar? _starvationRandom;
    private ulong? _storedGeneration;
    private uint _storedIncarnation;

    internal SimNode(SimCluster cluster, int index, string name, Core.NodeAddress address, Func<GossipOptions> optionsFactory)
    {
        _cluster = cluster;
        Index = index;
        Name = name;
        Address = address;
        _optionsFactory = optionsFactory;
    }

    /// <summary>Position in the cluster (stable).</summary>
    public int Index { get; }

    /// <summary>Member name.</summary>
    public string Name { get; }

    /// <summary>Simulated address (changes only through <see cref="SimCluster.RestartAt"/>).</summary>
    public Core.NodeAddress Address { get; internal set; }

    /// <summary>Keep (generation, incarnation) across restarts, as the transport's state file does.</summary>
    public bool PersistIdentity { get; set; }

    /// <summary>The starvation model in force, or null.</summary>
    public InputDelayModel? InputDelay { get; private set; }

    /// <summary>Times the node froze.</summary>
    public long Freezes { get; private set; }

    /// <summary>Ticks this node was woken for (its timers' wake-ups; inputs are not counted).</summary>
    public long Wakes { get; private set; }

    /// <summary>Virtual time spent frozen.</summary>
    public TimeSpan FrozenTime { get; private set; }

    /// <summary>Inputs dropped because the backlog was full.</summary>
    public long BacklogDropped { get; private set; }

    /// <summary>The running protocol node (null before the first start).</summary>
    public GossipNode? Node { get; private set; }

    /// <summary>True while the process runs (started, not crashed, not stopped after leaving).</summary>
    public bool IsUp { get; private set; }

    /// <summary>True once the node has left gracefully.</summary>
    public bool HasLeft { get; private set; }

    /// <summary>How many times this node was started.</summary>
    public int Starts { get; private set; }

    /// <summary>The live node, or an exception when it is down.</summary>
    public GossipNode LiveNode => IsUp && Node is not null ? Node : throw new InvalidOperationException($"{Name} is not running.");

    /// <summary>
    /// Runs a command on the live node at the cluster's current time (a write, a leave, a metadata
    /// update...) and rearms its timer, as a shell does after every input.
    /// </summary>
    public T Command<T>(Func<GossipNode, TimeSpan, T> command)
    {
        ArgumentNullException.ThrowIfNull(command);
        T result = command(LiveNode, _cluster.Now);
        ScheduleWake();
        return result;
    }

    /// <summary>The state this node's view holds for <paramref name="name"/>, or null when it does not know it.</summary>
    public MemberState? StateOf(string name) => Node?.FindMember(name)?.State;

    /// <summary>Makes the node CPU-starved per <paramref name="model"/> (null: healthy again).</summary>
    public void Starve(InputDelayModel? model)
    {
        InputDelay = model;
        _starvationRandom ??= new Xoshiro256StarStar(_cluster.DeriveSeed());
    }

    internal void Start(TimeSpan now, bool join)
    {
        if (IsUp)
        {
            throw new InvalidOperationException($"{Name} is already running.");
        }

        Starts++;
        // Milliseconds, as the transport's Unix-millisecond start epoch (the generation horizon is in them);
        // + Starts: newer on every start, even within one millisecond.
        ulong generation = (ulong)now.TotalMilliseconds + (ulong)Starts;
        uint incarnation = 0;
        if (PersistIdentity && _storedGeneration is { } stored)
        {
            generation = Math.Max(stored + 1, generation);
            incarnation = _storedIncarnation + 1;
        }

        GossipOptions options = _optionsFactory() with
        {
            Name = Name,
            AdvertiseAddress = Address,
            Generation = generation,
            InitialIncarnation = incarnation,
        };

        // Written before the node speaks, as the transport writes its state file.
        _storedGeneration = generation;
        _storedIncarnation = incarnation;
        ulong seed = _cluster.DeriveSeed();
        Node = new GossipNode(options, this, new Xoshiro256StarStar(seed), _cluster.Names) { IdleGossipRoundsFireLate = _cluster.Options.SleepThroughIdleRounds };
        IsUp = true;
        HasLeft = false;
        _scheduledWake = TimeSpan.MaxValue;
        Node.Start(now);
        if (join && options.Seeds.Count > 0)
        {
            Node.Join(now);
        }

        ScheduleWake();
    }

    internal void Crash()
    {
        IsUp = false;
        Node?.Stop();
        _scheduledWake = TimeSpan.MaxValue;
        _backlog.Clear();
        _frozenUntil = TimeSpan.Zero;
    }

    /// <summary>Feeds one input to the node now, or queues it behind a freeze (possibly starting one).</summary>
    internal void Deliver(Action<GossipNode, TimeSpan> input)
    {
        switch (Admit())
        {
            case Admission.Now:
                input(Node!, _cluster.Now);
                ScheduleWake();
                break;
            case Admission.Queue:
                _backlog.Enqueue(input);
                break;
        }
    }

    /// <summary>
    /// <see cref="Deliver"/> for a datagram, the simulator's commonest input: the same admission,
    /// but the closure is only allocated when the input has to wait behind a freeze.
    /// </summary>
    /// <remarks>The packet is only read during the call; a queued one is copied (the caller reuses the buffer).</remarks>
    internal void DeliverPacket(SimNode from, ReadOnlySpan<byte> packet)
    {
        switch (Admit())
        {
            case Admission.Now:
                Node!.OnPacket(from.Address, packet, _cluster.Now);
                ScheduleWake();
                break;
            case Admission.Queue:
                QueuePacket(from, packet.ToArray());
                break;
        }
    }

    // Apart from Admit: the compiler hoisted this lambda's closure to Admit's entry, one allocation per input.
    private void ScheduleThaw()
    {
        int starts = Starts;
        _cluster.At(_frozenUntil, _ => Thaw(starts));
    }

    // Apart from DeliverPacket: a lambda there over its parameter made the compiler allocate the
    // closure at every call, queued or not (the simulator's commonest input).
    private void QueuePacket(SimNode from, byte[] copy) => _backlog.Enqueue((node, at) => node.OnPacket(from.Address, copy, at));

    /// <summary>Whether an input arriving now runs, waits behind a freeze (possibly starting one), or is dropped.</summary>
    private Admission Admit()
    {
        if (!IsUp || Node is null)
        {
            return Admission.Drop;
        }

        TimeSpan now = _cluster.Now;
        bool frozen = now < _frozenUntil || _backlog.Count > 0;
        if (!frozen && InputDelay is { } model && _starvationRandom!.NextDouble() < model.Probability)
        {
            TimeSpan freeze = model.Min + ((model.Max - model.Min) * _starvationRandom.NextDouble());
            _frozenUntil = now + freeze;
            Freezes++;
            FrozenTime += freeze;
            ScheduleThaw();
            frozen = true;
        }

        if (!frozen)
        {
            return Admission.Now;
        }

        if (_backlog.Count >= BacklogMax)
        {
            BacklogDropped++;
            return Admission.Drop;
        }

        return Admission.Queue;
    }

    private void Thaw(int starts)
    {
        if (!IsUp || Node is null || Starts != starts)
        {
            return;
        }

        TimeSpan now = _cluster.Now;
        Node.OnTick(now);
        while (_backlog.Count > 0 && IsUp)
        {
            _backlog.Dequeue()(Node, now);
        }

        _scheduledWake = TimeSpan.MaxValue;
        ScheduleWake();
    }

    internal void MarkLeft()
    {
        HasLeft = true;
        Crash();
    }

    /// <summary>Arranges an OnTick at the node's next timer, unless one is already arranged earlier.</summary>
    internal void ScheduleWake()
    {
        if (!IsUp || Node is null)
        {
            return;
        }

        TimeSpan due = _cluster.Options.SleepThroughIdleRounds ? Node.NextWakeDue : Node.NextTimerDue;
        if (due < _scheduledWake)
        {
            _scheduledWake = due;
            _cluster.ScheduleWake(this, due < _cluster.Now ? _cluster.Now : due);
        }
    }

    internal void Wake(TimeSpan now)
    {
        if (!IsUp || Node is null || now < _scheduledWake)
        {
            return; // A stale wake: an earlier one superseded it, or the node went down.
        }

        _scheduledWake = TimeSpan.MaxValue;
        Wakes++;
        if (now < _frozenUntil)
        {
            return; // Frozen: the thaw fires the overdue timers.
        }

        Node.OnTick(now);
        ScheduleWake();
    }

    void IGossipHost.SendPacket(Core.NodeAddress to, ReadOnlySpan<byte> packet) => _cluster.Network.SendPacket(this, to, packet);

    void IGossipHost.OpenStream(long streamId, Core.NodeAddress to, ReadOnlySpan<byte> request) => _cluster.Network.OpenStream(this, streamId, to, request);

    void IGossipHost.ReplyStream(long streamId, ReadOnlySpan<byte> response) => _cluster.Network.ReplyStream(this, streamId, response);

    void IGossipHost.OnEvent(GossipEvent gossipEvent)
    {
        if (gossipEvent is LocalIncarnationChanged changed)
        {
            _storedIncarnation = Math.Max(_storedIncarnation, changed.Incarnation);
        }

        _cluster.OnNodeEvent(this, gossipEvent);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Address}, {(IsUp ? "up" : HasLeft ? "left" : "down")})";

    private enum Admission
    {
        Drop,
        Now,
        Queue,
    }
}
