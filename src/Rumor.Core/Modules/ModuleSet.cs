using Rumor.Core.Aggregates;
using Rumor.Core.AntiEntropy;
using Rumor.Core.Coordinates;
using Rumor.Core.Events;
using Rumor.Core.Heartbeats;

namespace Rumor.Core.Modules;

/// <summary>
/// The modules a node runs, built once per node in a fixed order: that order is the order of
/// <see cref="GossipModule.Start"/> (and so of their first random draws) and of every hook, which
/// keeps fixed-seed runs replayable. To add a module: build it here and append it to
/// <see cref="All"/>; the kernel needs no change.
/// </summary>
internal sealed class ModuleSet
{
    private ModuleSet(IModuleContext context)
    {
        State = new ReplicatedStateModule(context);
        Heartbeats = new HeartbeatModule(context);
        Events = new EventsModule(context);
        Aggregates = new AggregatesModule(context, State);
        Coordinates = new CoordinatesModule(context);
        All = [State, Heartbeats, Events, Aggregates, Coordinates];
    }

    /// <summary>Replicated key-value state (Scuttlebutt anti-entropy).</summary>
    public ReplicatedStateModule State { get; }

    /// <summary>Heartbeats with φ-accrual (the FailureDetector = PhiAccrual mode).</summary>
    public HeartbeatModule Heartbeats { get; }

    /// <summary>User events and queries.</summary>
    public EventsModule Events { get; }

    /// <summary>Cluster aggregates by push-sum (reads its inputs from <see cref="State"/>).</summary>
    public AggregatesModule Aggregates { get; }

    /// <summary>Vivaldi network coordinates (carried after acks).</summary>
    public CoordinatesModule Coordinates { get; }

    /// <summary>Every module, in start and hook order (an array, so a hook's foreach allocates no enumerator: a join calls one per member on every node).</summary>
    public GossipModule[] All { get; }

    /// <summary>The default set, in the order above.</summary>
    public static ModuleSet CreateDefault(IModuleContext context) => new(context);
}
