using Rumor.Core.Aggregates;
using Rumor.Core.AntiEntropy;
using Rumor.Core.Events;
using Rumor.Core.Heartbeats;
using Rumor.Core.Modules;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core;

/// <summary>
/// The public face of the default modules (<see cref="ModuleSet"/>) on <see cref="GossipNode"/>:
/// one-line extension members, so callers write <c>node.SetValue(...)</c> while neither the kernel's
/// files nor its class change when a module is added. The operations, their state and their
/// documentation live in the modules.
/// </summary>
public static class GossipNodeModules
{
    extension(GossipNode node)
    {
        /// <inheritdoc cref="ReplicatedStateModule.StateChecksum"/>
        public ulong StateChecksum => node.Modules.State.StateChecksum;

        /// <inheritdoc cref="ReplicatedStateModule.StateDigest"/>
        public IReadOnlyList<DigestEntry> StateDigest => node.Modules.State.StateDigest;

        /// <inheritdoc cref="ReplicatedStateModule.StateOwnerCount"/>
        public int StateOwnerCount => node.Modules.State.StateOwnerCount;

        /// <inheritdoc cref="ReplicatedStateModule.SetValue"/>
        public ulong SetValue(string key, byte[] value, TimeSpan now, TimeSpan? timeToLive = null) => node.Modules.State.SetValue(key, value, now, timeToLive);

        /// <inheritdoc cref="ReplicatedStateModule.DeleteValue"/>
        public ulong DeleteValue(string key, TimeSpan now) => node.Modules.State.DeleteValue(key, now);

        /// <inheritdoc cref="ReplicatedStateModule.GetValue"/>
        public KeyValueEntry? GetValue(string owner, string key) => node.Modules.State.GetValue(owner, key);

        /// <inheritdoc cref="ReplicatedStateModule.ListValues"/>
        public IReadOnlyList<KeyValueEntry> ListValues(string? owner = null, string prefix = "") => node.Modules.State.ListValues(owner, prefix);

        /// <inheritdoc cref="ReplicatedStateModule.Watch"/>
        public long Watch(string prefix) => node.Modules.State.Watch(prefix);

        /// <inheritdoc cref="ReplicatedStateModule.Unwatch"/>
        public bool Unwatch(long watchId) => node.Modules.State.Unwatch(watchId);

        /// <inheritdoc cref="ReplicatedStateModule.GetStateConvergence"/>
        public StateConvergence GetStateConvergence() => node.Modules.State.GetStateConvergence();

        /// <inheritdoc cref="HeartbeatModule.HeartbeatCounter"/>
        public ulong HeartbeatCounter => node.Modules.Heartbeats.HeartbeatCounter;

        /// <inheritdoc cref="HeartbeatModule.PhiOf"/>
        public double? PhiOf(string member, TimeSpan now) => node.Modules.Heartbeats.PhiOf(member, now);

        /// <inheritdoc cref="EventsModule.LamportTime"/>
        public ulong LamportTime => node.Modules.Events.LamportTime;

        /// <inheritdoc cref="EventsModule.RecentEvents"/>
        public IReadOnlyList<UserEvent> RecentEvents => node.Modules.Events.RecentEvents;

        /// <inheritdoc cref="EventsModule.SendEvent"/>
        public UserEvent SendEvent(string name, byte[] payload, TimeSpan now, bool coalesce = false) => node.Modules.Events.SendEvent(name, payload, now, coalesce);

        /// <inheritdoc cref="EventsModule.QueryResponder"/>
        public Func<QueryRequest, byte[]?>? QueryResponder { get => node.Modules.Events.QueryResponder; set => node.Modules.Events.QueryResponder = value; }

        /// <inheritdoc cref="EventsModule.Query"/>
        public ulong Query(string name, byte[] payload, IReadOnlyDictionary<string, string>? tagFilter, TimeSpan timeout, TimeSpan now) =>
            node.Modules.Events.Query(name, payload, tagFilter, timeout, now);

        /// <inheritdoc cref="EventsModule.GetQueryResult"/>
        public QueryResult? GetQueryResult(ulong id) => node.Modules.Events.GetQueryResult(id);

        /// <inheritdoc cref="EventsModule.RespondToQuery"/>
        public bool RespondToQuery(QueryRequest request, byte[] payload, TimeSpan now) => node.Modules.Events.RespondToQuery(request, payload, now);

        /// <inheritdoc cref="AggregatesModule.AggregateCounters"/>
        public AggregateCounters AggregateCounters => node.Modules.Aggregates.AggregateCounters;

        /// <inheritdoc cref="AggregatesModule.Aggregates"/>
        public IReadOnlyList<string> Aggregates => node.Modules.Aggregates.Aggregates;

        /// <inheritdoc cref="AggregatesModule.StartAggregate(string, TimeSpan)"/>
        public bool StartAggregate(string key, TimeSpan now) => node.Modules.Aggregates.StartAggregate(key, now);

        /// <inheritdoc cref="AggregatesModule.StartAggregate(string, TimeSpan, AggregateFunction, TimeSpan?)"/>
        public bool StartAggregate(string key, TimeSpan now, AggregateFunction function, TimeSpan? lifetime) =>
            node.Modules.Aggregates.StartAggregate(key, now, function, lifetime);

        /// <inheritdoc cref="AggregatesModule.StopAggregate"/>
        public bool StopAggregate(string key, TimeSpan now) => node.Modules.Aggregates.StopAggregate(key, now);

        /// <inheritdoc cref="AggregatesModule.GetAggregate"/>
        public AggregateEstimate? GetAggregate(string key) => node.Modules.Aggregates.GetAggregate(key);

        /// <inheritdoc cref="AggregatesModule.AggregateMass"/>
        internal PushSumState? AggregateMass(string key) => node.Modules.Aggregates.AggregateMass(key);

        /// <inheritdoc cref="AggregatesModule.AggregateFlows"/>
        internal IEnumerable<(NodeAddress Peer, PushSumState Out, PushSumState In)> AggregateFlows(string key) => node.Modules.Aggregates.AggregateFlows(key);
    }
}
