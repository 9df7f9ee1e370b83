using Rumor.Core;
using Rumor.Core.Membership;
using Rumor.Core.Randomness;

namespace Rumor.Simulation;

/// <summary>
/// One simulated process: a real <see cref="GossipNode"/> behind a simulated host. A crash stops
/// the node where it stands (no leave, no goodbye); a restart builds a fresh node with the same
/// name and address and a newer generation, as a real process restart would.
/// </summary>
public sealed class SimNode : IGossipHost
{
    private readonly SimCluster _cluster;
    private readonly Func<GossipOptions> _optionsFactory;
    private TimeSpan _scheduledWake = TimeSpan.MaxValue;

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

    /// <summary>Simulated address.</summary>
    public Core.NodeAddress Address { get; }

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

    /// <summary>The state this node's view holds for <paramref name="name"/>, or null when it does not know it.</summary>
    public MemberState? StateOf(string name) => Node?.FindMember(name)?.State;

    internal void Start(TimeSpan now, bool join)
    {
        if (IsUp)
        {
            throw new InvalidOperationException($"{Name} is already running.");
        }

        Starts++;
        GossipOptions options = _optionsFactory() with
        {
            Name = Name,
            AdvertiseAddress = Address,
            Generation = (ulong)now.Ticks + (ulong)Starts, // newer on every start, even at the same instant
        };
        ulong seed = _cluster.DeriveSeed();
        Node = new GossipNode(options, this, new Xoshiro256StarStar(seed), _cluster.Names);
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

        TimeSpan due = Node.NextTimerDue;
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
        Node.OnTick(now);
        ScheduleWake();
    }

    void IGossipHost.SendPacket(Core.NodeAddress to, ReadOnlySpan<byte> packet) => _cluster.Network.SendPacket(this, to, packet);

    void IGossipHost.OpenStream(long streamId, Core.NodeAddress to, ReadOnlySpan<byte> request) => _cluster.Network.OpenStream(this, streamId, to, request);

    void IGossipHost.ReplyStream(long streamId, ReadOnlySpan<byte> response) => _cluster.Network.ReplyStream(this, streamId, response);

    void IGossipHost.OnEvent(GossipEvent gossipEvent) => _cluster.OnNodeEvent(this, gossipEvent);

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Address}, {(IsUp ? "up" : HasLeft ? "left" : "down")})";
}
