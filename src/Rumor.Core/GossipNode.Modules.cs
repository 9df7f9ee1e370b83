using Rumor.Core.Aggregates;
using Rumor.Core.AntiEntropy;
using Rumor.Core.Events;
using Rumor.Core.Heartbeats;
using Rumor.Core.Modules;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core;

/// <summary>
/// The public face of the default modules (<see cref="ModuleSet"/>): one-line forwarders that keep
/// the node's API in one place for its callers. Not kernel code: the operations, their state and
/// their documentation live in the modules.
/// </summary>
public sealed partial class GossipNode
{
    /// <inheritdoc cref="ReplicatedStateModule.ZoneKey"/>
    public const string ZoneKey = ReplicatedStateModule.ZoneKey;

    /// <inheritdoc cref="ReplicatedStateModule.StateChecksum"/>
    public ulong StateChecksum => _modules.State.StateChecksum;

    /// <inheritdoc cref="ReplicatedStateModule.StateDigest"/>
    public IReadOnlyList<DigestEntry> StateDigest => _modules.State.StateDigest;

    /// <inheritdoc cref="ReplicatedStateModule.StateOwnerCount"/>
    public int StateOwnerCount => _modules.State.StateOwnerCount;

    /// <inheritdoc cref="ReplicatedStateModule.SetValue"/>
    public ulong SetValue(string key, byte[] value, TimeSpan now, TimeSpan? timeToLive = null) => _modules.State.SetValue(key, value, now, timeToLive);

    /// <inheritdoc cref="ReplicatedStateModule.DeleteValue"/>
    public ulong DeleteValue(string key, TimeSpan now) => _modules.State.DeleteValue(key, now);

    /// <inheritdoc cref="ReplicatedStateModule.GetValue"/>
    public KeyValueEntry? GetValue(string owner, string key) => _modules.State.GetValue(owner, key);

    /// <inheritdoc cref="ReplicatedStateModule.ListValues"/>
    public IReadOnlyList<KeyValueEntry> ListValues(string? owner = null, string prefix = "") => _modules.State.ListValues(owner, prefix);

    /// <inheritdoc cref="ReplicatedStateModule.Watch"/>
    public long Watch(string prefix) => _modules.State.Watch(prefix);

    /// <inheritdoc cref="ReplicatedStateModule.Unwatch"/>
    public bool Unwatch(long watchId) => _modules.State.Unwatch(watchId);

    /// <inheritdoc cref="ReplicatedStateModule.GetStateConvergence"/>
    public StateConvergence GetStateConvergence() => _modules.State.GetStateConvergence();

    /// <inheritdoc cref="HeartbeatModule.HeartbeatCounter"/>
    public ulong HeartbeatCounter => _modules.Heartbeats.HeartbeatCounter;

    /// <inheritdoc cref="HeartbeatModule.PhiOf"/>
    public double? PhiOf(string member, TimeSpan now) => _modules.Heartbeats.PhiOf(member, now);

    /// <inheritdoc cref="EventsModule.LamportTime"/>
    public ulong LamportTime => _modules.Events.LamportTime;

    /// <inheritdoc cref="EventsModule.RecentEvents"/>
    public IReadOnlyList<UserEvent> RecentEvents => _modules.Events.RecentEvents;

    /// <inheritdoc cref="EventsModule.SendEvent"/>
    public UserEvent SendEvent(string name, byte[] payload, TimeSpan now, bool coalesce = false) => _modules.Events.SendEvent(name, payload, now, coalesce);

    /// <inheritdoc cref="EventsModule.QueryResponder"/>
    public Func<QueryRequest, byte[]?>? QueryResponder { get => _modules.Events.QueryResponder; set => _modules.Events.QueryResponder = value; }

    /// <inheritdoc cref="EventsModule.Query"/>
    public ulong Query(string name, byte[] payload, IReadOnlyDictionary<string, string>? tagFilter, TimeSpan timeout, TimeSpan now) =>
        _modules.Events.Query(name, payload, tagFilter, timeout, now);

    /// <inheritdoc cref="EventsModule.GetQueryResult"/>
    public QueryResult? GetQueryResult(ulong id) => _modules.Events.GetQueryResult(id);

    /// <inheritdoc cref="EventsModule.RespondToQuery"/>
    public bool RespondToQuery(QueryRequest request, byte[] payload, TimeSpan now) => _modules.Events.RespondToQuery(request, payload, now);

    /// <inheritdoc cref="AggregatesModule.AggregateCounters"/>
    public AggregateCounters AggregateCounters => _modules.Aggregates.AggregateCounters;

    /// <inheritdoc cref="AggregatesModule.Aggregates"/>
    public IReadOnlyList<string> Aggregates => _modules.Aggregates.Aggregates;

    /// <inheritdoc cref="AggregatesModule.StartAggregate"/>
    public bool StartAggregate(string key, TimeSpan now) => _modules.Aggregates.StartAggregate(key, now);

    /// <inheritdoc cref="AggregatesModule.StopAggregate"/>
    public bool StopAggregate(string key) => _modules.Aggregates.StopAggregate(key);

    /// <inheritdoc cref="AggregatesModule.GetAggregate"/>
    public AggregateEstimate? GetAggregate(string key) => _modules.Aggregates.GetAggregate(key);

    /// <inheritdoc cref="AggregatesModule.AggregateMass"/>
    internal PushSumState? AggregateMass(string key) => _modules.Aggregates.AggregateMass(key);

    /// <inheritdoc cref="AggregatesModule.AggregateFlows"/>
    internal IEnumerable<(NodeAddress Peer, PushSumState Out, PushSumState In)> AggregateFlows(string key) => _modules.Aggregates.AggregateFlows(key);

    /// <summary>The running module of type <typeparamref name="T"/> (a module added to <see cref="ModuleSet"/> needs no forwarder here).</summary>
    internal T Module<T>()
        where T : GossipModule => _modules.All.OfType<T>().Single();
}
