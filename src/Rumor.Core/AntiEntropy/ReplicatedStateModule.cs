using System.Runtime.InteropServices;
using System.Text;
using Rumor.Core.Coordinates;
using Rumor.Core.Diagnostics;
using Rumor.Core.Dissemination;
using Rumor.Core.Membership;
using Rumor.Core.Modules;
using Rumor.Core.Randomness;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.AntiEntropy;

/// <summary>
/// Replicated key-value state: each member owns a versioned map and is its only writer; every
/// member replicates every map by Scuttlebutt anti-entropy. Each StateGossipInterval the node
/// picks StateGossipFanout peers (uniform or least-recently-contacted, optionally across zones, a
/// seed every M rounds) and runs a push, pull or three-step push-pull exchange of digest and
/// deltas, cut to the datagram budget; what does not fit is fetched over a stream. Tombstones
/// are collected after TombstoneGracePeriod; a peer older than the collection gets a full reset.
/// Every member gossips a checksum of its digest (as a broadcast), so each node can tell when all
/// live members hold the same state. Idle cost: while a node is settled (every member known to hold
/// our checksum, or, without announcements, no change for ceil(log2 N) + 2 rounds) its state rounds
/// talk only every StateFullSyncEveryRounds-th round (by default max(10, N / 10)) and on seed
/// contacts, and then send a checksum probe of constant size instead of the digest (which grows
/// with N); a peer whose checksum differs answers by starting a full exchange. So idle state
/// traffic per node stays flat in N.
/// <para>A module (docs/ARCHITECTURE.md): it owns the StateDigest, StateDelta and StateChecksum
/// messages (structs in Wire/Messages/) by registering their handlers, and answers streams whose
/// header is one of them (catch-up of what does not fit a datagram).</para>
/// </summary>
internal sealed class ReplicatedStateModule : GossipModule,
    IMessageHandler<StateDigestMessage>, IMessageHandler<StateDeltaMessage>, IMessageHandler<StateChecksumMessage>, IStreamRequestHandler
{
    private const string ChecksumKeySuffix = "\0checksum";
    // By member name: one 20-byte row, a name reference and a 2-byte bucket each (a Dictionary entry,
    // bucket and prime slack were ~44 bytes; a node of a simulated cluster of 1,000 holds ~80 after
    // 80 virtual s, every member it exchanged with).
    private readonly NameRows<PeerChecksum> _peerChecksums = new(1);
    private readonly Dictionary<string, TimeSpan> _lastStateContact = new(StringComparer.Ordinal);
    private readonly Dictionary<long, StateStream> _stateStreams = [];
    // The state round's targets, one list per node cleared at each pick (no list per round).
    private readonly List<(NodeAddress, string?)> _targets = [];
    // The peer pick's scratch list, one per thread rather than one per node: it holds up to N
    // members during a pick and nothing between picks, and a simulated cluster runs N nodes on one
    // thread (a list per node kept N slots: 8 bytes per member record). Taken for one pick and put
    // back, so a nested pick on the same thread would get a fresh one.
    [ThreadStatic]
    private static List<Member>? t_stateCandidates;
    [ThreadStatic]
    private static List<AppliedChange>? t_changes;
    private readonly Dictionary<long, string> _watches = [];
    private readonly IModuleContext _node;
    private readonly GossipOptions _options;
    private readonly IRandomSource _random;
    private readonly TimerQueue<StateTimer> _timers;
    private readonly ReplicatedState _state;
    private long _stateRounds;
    private long _nextWatchId;
    private uint _checksumSequence;
    private ulong _announcedChecksum;
    private ulong _checksumAtLastRound;
    private int _stableRounds;
    private TimeSpan _convergenceChangedAt;
    private int _stateSeedCursor;

    /// <summary>The reserved key under which a member publishes its zone.</summary>
    public const string ZoneKey = "rumor.zone";

    /// <summary>Builds the module and registers what it owns: the StateDigest, StateDelta and StateChecksum messages, and streams that carry digests and deltas.</summary>
    public ReplicatedStateModule(IModuleContext node)
    {
        _node = node;
        _options = node.Options;
        _random = node.Random;
        _state = new ReplicatedState(node.Self.Name, node.Self.Generation, node.Names);
        _timers = node.CreateTimers<StateTimer>(OnTimer);
        node.Handle<StateDigestMessage>(this);
        node.Handle<StateDeltaMessage>(this);
        node.Handle<StateChecksumMessage>(this);
        node.HandleStream(MessageType.StateDigest, this);
        node.HandleStream(MessageType.StateDelta, this);
        node.HandleStream(MessageType.Compound, this);
    }

    /// <summary>The replicated maps (the aggregates module reads its inputs here).</summary>
    public ReplicatedState Store => _state;

    private Member Self => _node.Self;

    private NodeCounters Counters => _node.Counters;

    /// <summary>Checksum of this node's state digest (equal checksums: equal states).</summary>
    public ulong StateChecksum => _state.Checksum;

    /// <summary>This node's digest: (owner, generation, max version) per owner, in name order.</summary>
    public IReadOnlyList<DigestEntry> StateDigest => _state.Digest();

    /// <summary>Owners whose maps this node holds (itself included).</summary>
    public int StateOwnerCount => _state.OwnerCount;

    /// <summary>Sets <paramref name="key"/> in our own map to <paramref name="value"/>, optionally expiring after <paramref name="timeToLive"/>; returns the new version.</summary>
    public ulong SetValue(string key, byte[] value, TimeSpan now, TimeSpan? timeToLive = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        ValidateKey(key);
        if (value.Length > _options.ValueMaxBytes)
        {
            throw new ArgumentException($"The value of '{key}' is {value.Length} bytes; ValueMaxBytes allows {_options.ValueMaxBytes}.", nameof(value));
        }

        uint ttl = 0;
        if (timeToLive is { } t)
        {
            if (t <= TimeSpan.Zero || t > StateLimits.TimeToLiveMax)
            {
                throw new ArgumentOutOfRangeException(nameof(timeToLive), t, $"A time to live is positive and at most {StateLimits.TimeToLiveMaxText} ({StateLimits.TimeToLiveMaxMilliseconds} ms).");
            }

            ttl = (uint)Math.Ceiling(t.TotalMilliseconds);
        }

        if (!_node.Enter(now))
        {
            throw new InvalidOperationException("The node is stopped.");
        }

        AppliedChange change = _state.WriteLocal(key, value.ToArray(), ttl, now);
        NotifyWatches(change, now);
        return change.Version;
    }

    /// <summary>Deletes <paramref name="key"/> from our own map (a tombstone that replicates); returns the version, or 0 when there was no such key.</summary>
    public ulong DeleteValue(string key, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(key);
        ValidateKey(key);
        if (!_node.Enter(now))
        {
            throw new InvalidOperationException("The node is stopped.");
        }

        if (!_state.Local.TryFind(key, out StoredEntry held) || held.IsTombstone)
        {
            return 0;
        }

        AppliedChange change = _state.WriteLocal(key, null, 0, now);
        NotifyWatches(change, now);
        return change.Version;
    }

    /// <summary>The live value of <paramref name="key"/> in <paramref name="owner"/>'s map, if any.</summary>
    public KeyValueEntry? GetValue(string owner, string key)
    {
        return _state.Find(owner) is { } state && state.TryFind(key, out StoredEntry entry) && !entry.IsTombstone ? ToEntry(owner, entry) : null;
    }

    /// <summary>Live entries under <paramref name="prefix"/>, of one owner or of all (owner, then key order).</summary>
    public IReadOnlyList<KeyValueEntry> ListValues(string? owner = null, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(prefix);
        List<KeyValueEntry> result = [];
        foreach (OwnerState state in _state.Owners)
        {
            if (owner is not null && state.Owner != owner)
            {
                continue;
            }

            foreach (StoredEntry entry in state.Entries.Where(e => !e.IsTombstone && e.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                result.Add(ToEntry(state.Owner, entry));
            }
        }

        return result;
    }

    /// <summary>Starts watching keys under <paramref name="prefix"/> (every owner); changes arrive as <see cref="KeyChanged"/> events with the returned id.</summary>
    public long Watch(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (_watches.Count >= _options.WatchesMax)
        {
            throw new InvalidOperationException($"At most {_options.WatchesMax} watches (WatchesMax) may be active.");
        }

        long id = ++_nextWatchId;
        _watches.Add(id, prefix);
        return id;
    }

    /// <summary>Stops a watch; false when there was no such watch.</summary>
    public bool Unwatch(long watchId) => _watches.Remove(watchId);

    /// <summary>Whether every alive member's last known checksum equals ours.</summary>
    public StateConvergence GetStateConvergence()
    {
        ulong ours = _state.Checksum;
        List<string> differing = [];
        List<string> unknown = [];
        foreach (Member member in _node.Members)
        {
            switch (Standing(member, ours))
            {
                case PeerStanding.Unknown:
                    unknown.Add(member.Name);
                    break;
                case PeerStanding.Differs:
                    differing.Add(member.Name);
                    break;
            }
        }

        bool converged = differing.Count == 0 && unknown.Count == 0;
        return new StateConvergence(converged, converged ? _convergenceChangedAt : null, ours, differing, unknown);
    }

    /// <summary><see cref="GetStateConvergence"/>'s verdict alone: stops at the first member that differs or is unknown, and allocates nothing (it runs every state round).</summary>
    private bool IsStateConverged()
    {
        ulong ours = _state.Checksum;
        IReadOnlyList<Member> members = _node.Members;
        for (int i = 0; i < members.Count; i++)
        {
            if (Standing(members[i], ours) is PeerStanding.Unknown or PeerStanding.Differs)
            {
                return false;
            }
        }

        return true;
    }

    private enum PeerStanding
    {
        NotCounted,
        Agrees,
        Differs,
        Unknown,
    }

    /// <summary>Where one member stands for convergence: only live remote members count; their last checksum must be of their current generation and equal ours.</summary>
    private PeerStanding Standing(Member member, ulong ours)
    {
        if (member.IsLocal || member.State != MemberState.Alive)
        {
            return PeerStanding.NotCounted;
        }

        if (!_peerChecksums.TryGet(member.Name, out int slot))
        {
            return PeerStanding.Unknown;
        }

        PeerChecksum known = _peerChecksums.Row(slot)[0];
        if (known.Generation != member.Generation)
        {
            return PeerStanding.Unknown;
        }

        return known.Checksum == ours ? PeerStanding.Agrees : PeerStanding.Differs;
    }

    public override void Start(TimeSpan now)
    {
        _timers.Schedule(now + _random.NextDuration(_options.StateGossipInterval), new StateTimer(StateTimerKind.Round));
        _timers.Schedule(now + MaintenanceInterval(), new StateTimer(StateTimerKind.Maintenance));
        if (_options.Zone.Length > 0)
        {
            _state.WriteLocal(ZoneKey, Encoding.UTF8.GetBytes(_options.Zone), 0, now);
        }

        _convergenceChangedAt = now;
    }

    private TimeSpan MaintenanceInterval() =>
        TimeSpan.FromTicks(Math.Clamp(_options.TombstoneGracePeriod.Ticks / 20, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));

    private void StateMaintenance(TimeSpan now)
    {
        _timers.Schedule(now + MaintenanceInterval(), new StateTimer(StateTimerKind.Maintenance));
        Counters.TombstonesCollected += _state.CollectTombstones(now, _options.TombstoneGracePeriod);
    }

    private void StateRound(TimeSpan now)
    {
        _timers.Schedule(now + _options.StateGossipInterval, new StateTimer(StateTimerKind.Round));

        // Expiry is the owner's write (a tombstone), so every replica agrees on it.
        if (_state.ExpiredLocalKeys(now) is { } expired)
        {
            foreach (string key in expired)
            {
                NotifyWatches(_state.WriteLocal(key, null, 0, now), now);
            }
        }

        AnnounceChecksumIfChanged(now);
        if (_node.IsLeaving)
        {
            return;
        }

        _stateRounds++;

        // Idle optimisation: while every alive member is known to hold our checksum there is nothing
        // to reconcile, so only every M-th round talks (to catch a difference a lost announcement
        // hid). As soon as any member differs or is unknown, every round talks: a node that has not
        // yet heard of a change must not skip the very peer it should pull it from.
        int every = _options.StateFullSyncEveryRounds > 0
            ? _options.StateFullSyncEveryRounds
            : Math.Max(10, (_node.ActiveMemberCount + 9) / 10);
        bool fullSync = _stateRounds % every == 0;
        bool announcing = AnnouncingChecksums;

        // Without cluster-wide announcements (large clusters) a node cannot know that everyone is
        // equal, so it behaves like a rumor monger: after its state last changed it talks every
        // round for ceil(log2 N) + 2 rounds (each informed node passes a change on that many times,
        // which leaves a residue of about e^-(log2 N + 2) of nodes to the full-sync rounds), then
        // only every M-th round. Informed nodes contact the stale ones, whose digests then pull.
        // Pull is the exception: under pure pull only the stale side can fetch news, and it cannot
        // know there is news without asking, so a pulling node asks every round (the strategy's price
        // in idle bytes, documented in CONFIGURATION.md); quiet pull nodes left a change to the
        // full-sync rounds whenever the first few wake-ups missed (62 rounds mean at N = 1,000).
        int activeRounds = (int)Math.Ceiling(Math.Log2(Math.Max(2, _node.ActiveMemberCount))) + 2;
        bool settled = announcing
            ? IsStateConverged()
            : _stableRounds >= activeRounds && _options.StateStrategy != GossipStrategy.Pull;
        // A settled node's other rounds talk to no member: it does not even pick them (the pick
        // scans every member), only the seed on a seed round.
        bool quietRound = settled && !fullSync;
        if (quietRound)
        {
            Counters.StateExchangesSkipped += Math.Min(_options.StateGossipFanout, Math.Max(0, _node.ActiveMemberCount - 1));
        }

        List<(NodeAddress Address, string? Name)> targets = PickStatePeers(now, seedOnly: quietRound);
        foreach ((NodeAddress address, string? name) in targets)
        {
            if (settled)
            {
                // A settled node's full-sync round or seed contact: the digest (O(N) bytes, Bloom or
                // full) only serves to find a difference, and the checksum finds one as well in a
                // constant 1 + name + 12 bytes; a peer that differs starts the full exchange.
                SendChecksumProbe(address);
                continue;
            }

            if (name is not null && _options.StatePeerSelection == PeerSelection.LeastRecentlyContacted)
            {
                _lastStateContact[name] = now; // read only by the weighted pick: not kept (N entries) otherwise
            }

            DigestFlags flags = _options.StateStrategy switch
            {
                GossipStrategy.Push => DigestFlags.WantDigest,
                GossipStrategy.Pull => DigestFlags.WantDeltas,
                _ => DigestFlags.WantDeltas | DigestFlags.WantDigest,
            };
            SendDigest(address, flags, now);
        }
    }

    private List<(NodeAddress, string?)> PickStatePeers(TimeSpan now, bool seedOnly)
    {
        List<(NodeAddress, string?)> targets = _targets;
        targets.Clear();
        int fanout = _options.StateGossipFanout;
        if (_options.StateSeedEveryRounds > 0 && _stateRounds % _options.StateSeedEveryRounds == 0 && _node.Seeds.Count > 0)
        {
            for (int i = 0; i < _node.Seeds.Count; i++)
            {
                NodeAddress seed = _node.Seeds[_stateSeedCursor++ % _node.Seeds.Count];
                if (seed != Self.Address)
                {
                    targets.Add((seed, null));
                    break;
                }
            }
        }

        if (seedOnly)
        {
            return targets;
        }

        string? zone = _options.Zone.Length > 0 ? _options.Zone : null;
        if (_options.StatePeerSelection == PeerSelection.Uniform && (zone is null || _options.CrossZoneShare <= 0))
        {
            // A seed contact comes on top of the fanout, so seed rounds still reach random members.
            SampleUniform(_node.Members, _random, targets, fanout + targets.Count);
            return targets;
        }

        // Reused between rounds (cleared after the pick), and no closure per member: this scan
        // runs every state round of every node.
        List<Member> candidates = t_stateCandidates ?? [];
        t_stateCandidates = null;
        IReadOnlyList<Member> members = _node.Members;
        for (int i = 0; i < members.Count; i++)
        {
            Member member = members[i];
            if (!member.IsLocal && member.State == MemberState.Alive && !IsTarget(targets, member.Address))
            {
                candidates.Add(member);
            }
        }

        int wanted = fanout + targets.Count;
        while (targets.Count < wanted && candidates.Count > 0)
        {
            List<Member> pool = candidates;
            if (zone is not null && _options.CrossZoneShare > 0 && _random.NextDouble() < _options.CrossZoneShare)
            {
                List<Member> elsewhere = InOtherZones(candidates, zone);
                if (elsewhere.Count > 0)
                {
                    pool = elsewhere;
                }
            }

            Member chosen = _options.StatePeerSelection == PeerSelection.LeastRecentlyContacted ? PickWeighted(pool, now) : pool[_random.NextInt(pool.Count)];
            candidates.Remove(chosen);
            targets.Add((chosen.Address, chosen.Name));
        }

        candidates.Clear(); // holds no member between rounds
        t_stateCandidates = candidates;
        return targets;
    }

    /// <summary>
    /// Adds to <paramref name="targets"/>, until it holds <paramref name="wanted"/>, alive members
    /// other than ourselves and the targets already there, each drawn uniformly from those left.
    /// Rejection sampling over the member table: a draw is uniform over every member and kept only
    /// when it is such a candidate, so a kept draw is uniform over the candidates left, as a pick
    /// from a list of them is, without building that list (the scan of every member, at every state
    /// round of a node that has not settled: 2.6 % of the keys' spread at N = 2,000 in session 35).
    /// Bounded: after 4 draws per target wanted (and 8 more), the rest is picked from a scan, also
    /// uniformly, so a table of mostly dead or left members, or fewer candidates than wanted, costs
    /// one scan as before.
    /// </summary>
    internal static void SampleUniform(IReadOnlyList<Member> members, IRandomSource random, List<(NodeAddress, string?)> targets, int wanted)
    {
        int n = members.Count;
        for (int draws = 4 * (wanted - targets.Count) + 8; targets.Count < wanted && draws > 0 && n > 0; draws--)
        {
            Member member = members[random.NextInt(n)];
            if (IsCandidate(member, targets))
            {
                targets.Add((member.Address, member.Name));
            }
        }

        if (targets.Count >= wanted)
        {
            return;
        }

        List<Member> candidates = t_stateCandidates ?? [];
        t_stateCandidates = null;
        for (int i = 0; i < n; i++)
        {
            if (IsCandidate(members[i], targets))
            {
                candidates.Add(members[i]);
            }
        }

        while (targets.Count < wanted && candidates.Count > 0)
        {
            int at = random.NextInt(candidates.Count);
            Member chosen = candidates[at];
            candidates[at] = candidates[^1];
            candidates.RemoveAt(candidates.Count - 1);
            targets.Add((chosen.Address, chosen.Name));
        }

        candidates.Clear(); // holds no member between rounds
        t_stateCandidates = candidates;
    }

    private static bool IsCandidate(Member member, List<(NodeAddress, string?)> targets) =>
        !member.IsLocal && member.State == MemberState.Alive && !IsTarget(targets, member.Address);

    // Apart from the state round: its lambda over the zone made the compiler allocate a closure at
    // every round, zones or not.
    private List<Member> InOtherZones(List<Member> candidates, string zone) => candidates.FindAll(m => ZoneOf(m.Name) is { } z && z != zone);

    private static bool IsTarget(List<(NodeAddress, string?)> targets, NodeAddress address)
    {
        foreach ((NodeAddress target, string? _) in targets)
        {
            if (target == address)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Weighted by time since the last exchange (never contacted: the largest weight), so coverage evens out.</summary>
    private Member PickWeighted(List<Member> pool, TimeSpan now)
    {
        double never = Math.Max(1, pool.Count) * _options.StateGossipInterval.TotalSeconds;
        double total = 0;
        Span<double> weights = pool.Count <= 1024 ? stackalloc double[pool.Count] : new double[pool.Count];
        for (int i = 0; i < pool.Count; i++)
        {
            double w = _lastStateContact.TryGetValue(pool[i].Name, out TimeSpan last) ? Math.Min((now - last).TotalSeconds, never) : never;
            weights[i] = Math.Max(w, 1e-3);
            total += weights[i];
        }

        double pick = _random.NextDouble() * total;
        for (int i = 0; i < pool.Count; i++)
        {
            pick -= weights[i];
            if (pick < 0)
            {
                return pool[i];
            }
        }

        return pool[^1];
    }

    private string? ZoneOf(string member)
    {
        return _state.Find(member) is { } state && state.TryFind(ZoneKey, out StoredEntry entry) && !entry.IsTombstone ? Encoding.UTF8.GetString(entry.Value) : null;
    }

    /// <summary>Our digest for a datagram: full when it fits (or mode Full), else a salted Bloom filter.</summary>
    private StateDigestMessage OurDigest(DigestFlags flags, int roomBytes, out bool fits)
    {
        ulong checksum = _state.Checksum;
        int header = 1 + WireWriter.NameLength(Self.Name) + 8;
        int fullLength = header + 4 + _state.DigestEntriesLength();
        bool useBloom = _options.StateDigestMode == DigestMode.Bloom || (_options.StateDigestMode == DigestMode.Auto && fullLength > roomBytes);
        if (useBloom)
        {
            // The salt is drawn whether or not the filter fits, as always (the node's draws do not
            // change); a filter that would not fit is not built (N hashes, and its bits, for a
            // digest that then goes over a stream as a full one).
            uint salt = (uint)_random.NextUInt64();
            fits = header + StateDigestMessage.BloomHeaderLength + BloomFilter.ByteCount(_state.OwnerCount, _options.BloomFalsePositiveRate) <= roomBytes;
            return fits ? new StateDigestMessage(flags | DigestFlags.Bloom, Self.Name, checksum, [], _state.BloomDigest(_options.BloomFalsePositiveRate, salt)) : default;
        }

        fits = fullLength <= roomBytes;
        return fits ? new StateDigestMessage(flags, Self.Name, checksum, _state.Digest(), null) : default;
    }

    /// <summary>The deltas a peer lacks according to its digest (full or Bloom), within <paramref name="roomBytes"/>.</summary>
    private StateDeltaMessage DeltasFor(in StateDigestMessage digest, int roomBytes) =>
        digest.Bloom is { } bloom ? _state.DeltasForBloom(bloom, roomBytes, digest.Sender) : _state.DeltasFor(digest.Entries, roomBytes, digest.Sender);

    /// <summary>As <see cref="DeltasFor(in StateDigestMessage, int)"/>, encoded into a pooled array (streams).</summary>
    private PooledBytes EncodedDeltasFor(in StateDigestMessage digest, int roomBytes, out int ownerCount) =>
        digest.Bloom is { } bloom ? _state.EncodedDeltasForBloom(bloom, roomBytes, digest.Sender, out ownerCount) : _state.EncodedDeltasFor(digest.Entries, roomBytes, digest.Sender, out ownerCount);

    private void SendDigest(NodeAddress to, DigestFlags flags, TimeSpan now)
    {
        PacketBuilder builder = _node.StartPacket();
        StateDigestMessage digest = OurDigest(flags, builder.RemainingForMessage - 1, out bool fits);
        if (fits && builder.TryAdd(digest))
        {
            _node.SendStartedPacket(to, piggyback: true);
            return;
        }

        // Too big for a datagram: run the exchange over a stream with the full digest.
        OpenFullDigestStream(to, flags & ~DigestFlags.Bloom, now);
    }

    /// <summary>A digest with no request and no lines (PROTOCOL.md §6.7): only our checksum, for a peer to compare.</summary>
    private void SendChecksumProbe(NodeAddress to)
    {
        PacketBuilder builder = _node.StartPacket();
        if (builder.TryAdd(new StateDigestMessage(DigestFlags.None, Self.Name, _state.Checksum, [], null)))
        {
            Counters.StateChecksumProbes++;
            _node.SendStartedPacket(to, piggyback: true);
        }
    }

    void IMessageHandler<StateDigestMessage>.Handle(NodeAddress from, in StateDigestMessage message, TimeSpan now) => HandleStateDigest(from, message, now);

    void IMessageHandler<StateDeltaMessage>.Handle(NodeAddress from, in StateDeltaMessage message, TimeSpan now) => HandleStateDelta(from, message, now);

    void IMessageHandler<StateChecksumMessage>.Handle(NodeAddress from, in StateChecksumMessage message, TimeSpan now) => HandleStateChecksum(from, message, now);

    void IStreamRequestHandler.HandleStreamRequest(long streamId, NodeAddress from, ReadOnlySpan<byte> request, TimeSpan now) => HandleStateStreamRequest(streamId, from, request, now);

    private void HandleStateDigest(NodeAddress from, in StateDigestMessage digest, TimeSpan now)
    {
        NotePeerChecksum(digest.Sender, null, digest.Checksum, now);
        WakeIfDifferent(digest.Checksum);
        bool wantDeltas = (digest.Flags & DigestFlags.WantDeltas) != 0;
        bool wantDigest = (digest.Flags & DigestFlags.WantDigest) != 0;
        if (!wantDeltas && !wantDigest)
        {
            // A checksum probe from a settled peer. Equal checksums: equal states, nothing to do.
            // Different: one of us lacks something, and the probe cannot say which, so we start a
            // push-pull exchange with it (both directions, whatever StateStrategy says: this is the
            // rare case, and the prober is idle and would not ask again for M rounds).
            if (digest.Bloom is null && digest.Entries.Count == 0 && digest.Checksum != _state.Checksum && !_node.IsLeaving)
            {
                Counters.StateProbeMismatches++;
                SendDigest(from, DigestFlags.WantDeltas | DigestFlags.WantDigest, now);
            }

            return;
        }

        PacketBuilder builder = _node.StartPacket();
        StateDigestMessage ours = default;
        int digestRoom = 0;
        if (wantDigest)
        {
            ours = OurDigest(DigestFlags.WantDeltas, builder.RemainingForMessage - 1, out bool fits);
            if (!fits)
            {
                // Our digest needs a stream: ask for their deltas that way instead.
                OpenFullDigestStream(from, DigestFlags.WantDeltas, now);
                wantDigest = false;
            }
            else
            {
                digestRoom = 1 + ours.PayloadLength + WireLimits.CompoundEntryOverheadBytes;
            }
        }

        // Equal checksums: the deltas for their digest are none (every line or Bloom entry is one of
        // ours), so the O(N) walk or Bloom probing is skipped; our digest still goes back when asked
        // (the exchange is otherwise as before).
        if (wantDeltas && digest.Checksum != _state.Checksum)
        {
            int room = builder.RemainingForMessage - 1 - digestRoom;
            StateDeltaMessage delta = DeltasFor(digest, room);
            if (delta.Owners.Count > 0 || delta.MorePending)
            {
                builder.TryAdd(delta);
                Counters.StateDeltasSent++;
            }
        }

        if (wantDigest)
        {
            builder.TryAdd(ours);
        }

        if (builder.Count > 0)
        {
            _node.SendStartedPacket(from, piggyback: true);
        }
    }

    private void HandleStateDelta(NodeAddress from, in StateDeltaMessage delta, TimeSpan now)
    {
        ApplyDelta(delta, now);
        if (delta.MorePending && !HasStateStreamTo(from))
        {
            // The rest did not fit a datagram: fetch it over a stream with our full digest.
            Counters.StateCatchUps++;
            OpenFullDigestStream(from, DigestFlags.WantDeltas, now);
        }
    }

    private void ApplyDelta(in StateDeltaMessage delta, TimeSpan now)
    {
        // The changes only pass through here: one list per thread, taken for this apply and put
        // back (a nested apply on this thread, from a watcher's event, gets a fresh one).
        List<AppliedChange> changes = t_changes ?? [];
        t_changes = null;
        try
        {
            _state.ApplyInto(WithinBounds(delta), now, _options.MembersMax, changes, out int ignored);
            Counters.StateDeltasIgnored += ignored;
            Counters.StateEntriesApplied += changes.Count;
            foreach (AppliedChange change in changes)
            {
                NotifyWatches(change, now);
            }
        }
        finally
        {
            changes.Clear();
            t_changes = changes;
        }

        // A slow peer may still hand us a restarted member's older generation: drop it again.
        // Likewise an older generation of a member we never knew but heard leave (VOPR seed 1905).
        for (int i = 0; i < delta.Owners.Count; i++)
        {
            OwnerDelta owner = delta.Owners[i];
            if (_node.FindMember(owner.Owner) is { } member)
            {
                if (!member.IsLocal)
                {
                    ForgetOlderGeneration(member, now);
                }
            }
            else if (_node.UnknownMemberLeftAt(owner.Owner) is { } left)
            {
                ForgetGenerationsBefore(owner.Owner, left, now);
            }
        }
    }

    /// <summary>
    /// A member restarted without its map (a new generation that has not written yet announces
    /// nothing: owners with no writes are left out of digests and checksums). The older
    /// generation's entries we hold are no longer its state; kept, they would be served as current
    /// forever and every checksum that includes them would differ from the restarted member's own
    /// (issue 11, VOPR seeds 14, 23, 24, 29, 37, 38). Forget them, as when a member is reaped.
    /// </summary>
    public override void OnMemberRestarted(Member member, TimeSpan now) => ForgetOlderGeneration(member, now);

    /// <summary>
    /// A member we never knew left at a generation newer than the one whose entries we hold: a
    /// node that joined while the member was dead learns its state from others but not the member
    /// (push-pull merges a dead member as a suspicion, which an unknown member cannot take), so
    /// when the member restarts and leaves before its alive reaches us, its older state would stay
    /// here forever while everyone who knew the member dropped it (VOPR seed 1905).
    /// </summary>
    public override void OnUnknownMemberLeft(string name, ulong generation, TimeSpan now) => ForgetGenerationsBefore(name, generation, now);

    private void ForgetOlderGeneration(Member member, TimeSpan now) => ForgetGenerationsBefore(member.Name, member.Generation, now);

    private void ForgetGenerationsBefore(string name, ulong generation, TimeSpan now)
    {
        if (_state.Find(name) is { } owner && owner.Generation < generation)
        {
            foreach (AppliedChange change in _state.RemoveOwner(name))
            {
                NotifyWatches(change, now);
            }
        }
    }

    /// <summary>
    /// Nothing outranks forever (docs/SECURITY.md): an owner delta whose generation lies beyond the
    /// node's generation horizon, or that moves a known owner of the same generation more than
    /// <see cref="GossipOptions.StateVersionJumpMax"/> versions ahead, is dropped (counted), so one
    /// forged delta at version 10^12 cannot freeze the owner's keys.
    /// </summary>
    private StateDeltaMessage WithinBounds(in StateDeltaMessage delta)
    {
        List<OwnerDelta>? kept = null;
        for (int i = 0; i < delta.Owners.Count; i++)
        {
            OwnerDelta d = delta.Owners[i];
            bool refused = d.Generation > _node.GenerationHorizon
                || (_state.Find(d.Owner) is { } known && known.Generation == d.Generation && d.ToVersion > known.MaxVersion && d.ToVersion - known.MaxVersion > _options.StateVersionJumpMax);
            if (refused)
            {
                Counters.OutOfBoundsRefused++;
                kept ??= [.. delta.Owners.Take(i)];
            }
            else
            {
                kept?.Add(d);
            }
        }

        return kept is null ? delta : delta with { Owners = kept };
    }

    private void HandleStateChecksum(NodeAddress from, in StateChecksumMessage message, TimeSpan now)
    {
        if (message.Name == Self.Name)
        {
            return;
        }

        if (NotePeerChecksum(message.Name, message.Sequence, message.Checksum, now, message.Generation))
        {
            _node.QueueBroadcast(message.Name + ChecksumKeySuffix, PacketBuilder.EncodeMessage(message), BroadcastClass.StateHints);
        }
    }

    /// <summary>
    /// A digest that shows a different state wakes a quiet node: it talks every round again for the
    /// next ceil(log2 N) + 2 rounds, so under Pull a stale node that an informed one contacted goes
    /// and fetches the news instead of waiting for its next full-sync round.
    /// </summary>
    private void WakeIfDifferent(ulong checksum)
    {
        if (checksum != _state.Checksum)
        {
            _stableRounds = 0;
        }
    }

    /// <summary>Records a member's checksum; true when it is news (a newer sequence).</summary>
    private bool NotePeerChecksum(string name, uint? sequence, ulong checksum, TimeSpan now, ulong? generation = null)
    {
        Member? member = _node.FindMember(name);
        if (member is null || member.IsLocal)
        {
            return false;
        }

        ulong gen = generation ?? member.Generation;
        if (gen != member.Generation)
        {
            return false;
        }

        PeerChecksum old = _peerChecksums.TryGet(name, out int slot) ? _peerChecksums.Row(slot)[0] : default;
        bool known = slot >= 0 && old.Generation == gen;
        if (sequence is { } seq && known && seq <= old.Sequence)
        {
            return false;
        }

        PeerChecksum updated = new(gen, sequence ?? (known ? old.Sequence : 0), checksum);
        if (!known || old.Checksum != checksum)
        {
            _convergenceChangedAt = now;
        }

        _peerChecksums.Row(slot >= 0 ? slot : _peerChecksums.GetOrAdd(member.Name))[0] = updated;
        return sequence is not null;
    }

    /// <summary>
    /// Whether checksums are gossiped to every member: on (AnnounceStateChecksums) up to
    /// StateChecksumAnnounceMaxMembers members. Every member's checksum reaching every member costs
    /// about N² small transmissions per change, fine for tens or hundreds of members, not for
    /// thousands; above the bound a node judges convergence from the checksums its own exchanges see.
    /// </summary>
    private bool AnnouncingChecksums => _options.AnnounceStateChecksums && _node.ActiveMemberCount <= _options.StateChecksumAnnounceMaxMembers;

    private void AnnounceChecksumIfChanged(TimeSpan now)
    {
        // Debounced: announce a checksum once it has held for a whole round, so a node that takes
        // in a change in several deltas announces once, not once per delta.
        ulong checksum = _state.Checksum;
        ulong previousRound = _checksumAtLastRound;
        _checksumAtLastRound = checksum;
        _stableRounds = checksum == previousRound ? _stableRounds + 1 : 0;
        if (!AnnouncingChecksums || (checksum == _announcedChecksum && _checksumSequence > 0) || (checksum != previousRound && _checksumSequence > 0))
        {
            return;
        }

        _announcedChecksum = checksum;
        _checksumSequence++;
        _convergenceChangedAt = now;
        _node.QueueBroadcast(Self.Name + ChecksumKeySuffix, PacketBuilder.EncodeMessage(new StateChecksumMessage(Self.Name, Self.Generation, _checksumSequence, checksum)), BroadcastClass.StateHints);
    }

    /// <summary>
    /// A sync stream that carries our full digest: its lines in a rented array, encoded straight into a pooled packet and
    /// compressed into another, as the push-pull's (the same bytes as the message-list form; both are
    /// given back once the host has them). As arrays these were four of N digest lines each per
    /// exchange (message, packet, compression buffer and result), on the large-object heap above a
    /// few thousand owners, for every exchange while keys spread.
    /// </summary>
    private void OpenFullDigestStream(NodeAddress to, DigestFlags flags, TimeSpan now)
    {
        DigestEntry[] lines = _state.RentDigest(out int count);
        try
        {
            using PooledBytes packet = _node.CompressStream(
                PacketBuilder.EncodeSinglePooled(new StateDigestMessage(flags, Self.Name, _state.Checksum, new ArraySegment<DigestEntry>(lines, 0, count), null)));
            OpenStateStream(to, StateStreamKind.Sync, packet.Span, now);
        }
        finally
        {
            System.Buffers.ArrayPool<DigestEntry>.Shared.Return(lines, clearArray: true);
        }
    }

    private void OpenStateStream(NodeAddress to, StateStreamKind kind, ReadOnlySpan<byte> request, TimeSpan now)
    {
        if (request.Length > _options.StreamMaxBytes)
        {
            Counters.StreamFailures++;
            return;
        }

        long streamId = _node.NextStreamId();
        _stateStreams[streamId] = new StateStream(kind, to);
        _timers.Schedule(now + _options.StreamTimeout, new StateTimer(StateTimerKind.StreamDeadline, streamId));
        _node.OpenStream(streamId, to, request);
    }

    private bool HasStateStreamTo(NodeAddress to)
    {
        foreach (StateStream stream in _stateStreams.Values)
        {
            if (stream.To == to)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A stream request carrying state messages (a digest to answer, or deltas pushed to us).</summary>
    private void HandleStateStreamRequest(long streamId, NodeAddress from, ReadOnlySpan<byte> request, TimeSpan now)
    {
        using PooledBytes scratch = _node.StreamScratch(request, out byte[]? buffer);
        DecodeError error = PacketReader.TryOpen(request, _options.StreamMaxBytes, buffer, out PacketReader reader);
        if (error != DecodeError.None)
        {
            Counters.CountDecodeError(error);
            return;
        }

        // The reply's messages and packet in pooled arrays, as the digest streams' (a reply is N
        // owners' deltas, or deltas and our digest, per exchange while keys spread).
        List<PooledBytes> reply = [];
        try
        {
            while (reader.TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out bool known))
            {
                if (!known)
                {
                    Counters.UnknownMessagesSkipped++;
                    continue;
                }

                if (type == MessageType.StateDelta)
                {
                    error = StateDeltaMessage.TryDecode(payload, _node.Names, out StateDeltaMessage delta);
                    if (error == DecodeError.None)
                    {
                        ApplyDelta(delta, now);
                        reply.Add(PacketBuilder.EncodeMessagePooled(new AckMessage(0)));
                    }
                }
                else if (type == MessageType.StateDigest)
                {
                    // A digest whose checksum equals ours is our digest: the deltas for it are none (the
                    // empty message the walk would give), and ours would be theirs, for which they
                    // would find none either, so it is left out of the reply; its lines are checked, not
                    // decoded. In the rounds after a change has spread, most exchanges are such.
                    error = StateDigestMessage.TryDecode(payload, _node.Names, pooled: true, skipLinesWhenChecksum: _state.Checksum, out StateDigestMessage digest, out bool same);
                    if (error == DecodeError.None)
                    {
                        NotePeerChecksum(digest.Sender, null, digest.Checksum, now);
                        int room = _options.StreamMaxBytes - 1024;
                        PooledBytes encoded = same ? PacketBuilder.EncodeMessagePooled(new StateDeltaMessage(false, [])) : EncodedDeltasFor(digest, room, out _);
                        StateDigestMessage.ReturnPooled(digest); // read no more: the deltas are encoded
                        reply.Add(encoded);
                        if (same)
                        {
                            Counters.StateStreamDigestsEqual++;
                        }
                        else if ((digest.Flags & DigestFlags.WantDigest) != 0)
                        {
                            PooledBytes ours = EncodeFullDigestPooled(DigestFlags.WantDeltas);
                            if (encoded.Length <= ushort.MaxValue && ours.Length <= ushort.MaxValue)
                            {
                                reply.Add(ours);
                            }
                            else
                            {
                                ours.Dispose();
                                OpenFullDigestStream(from, DigestFlags.WantDeltas, now);
                            }
                        }
                    }
                }
                else
                {
                    error = DecodeError.Malformed;
                }

                if (error != DecodeError.None)
                {
                    Counters.CountDecodeError(error);
                    return;
                }
            }

            if (reply.Count > 0)
            {
                ReadOnlyMemory<byte>[] messages = new ReadOnlyMemory<byte>[reply.Count];
                for (int i = 0; i < messages.Length; i++)
                {
                    messages[i] = reply[i].Memory;
                }

                using PooledBytes packet = CompressedPacket(messages);
                if (packet.Length <= _options.StreamMaxBytes)
                {
                    _node.ReplyStream(streamId, packet.Span);
                }
                else
                {
                    Counters.StreamFailures++;
                }
            }
        }
        finally
        {
            for (int i = 0; i < reply.Count; i++)
            {
                PooledBytes message = reply[i];
                message.Dispose();
            }
        }
    }

    /// <summary>Our full digest as an encoded message (type byte + payload) in a pooled array, its lines in a rented one while it is written.</summary>
    private PooledBytes EncodeFullDigestPooled(DigestFlags flags)
    {
        DigestEntry[] lines = _state.RentDigest(out int count);
        try
        {
            return PacketBuilder.EncodeMessagePooled(new StateDigestMessage(flags, Self.Name, _state.Checksum, new ArraySegment<DigestEntry>(lines, 0, count), null));
        }
        finally
        {
            System.Buffers.ArrayPool<DigestEntry>.Shared.Return(lines, clearArray: true);
        }
    }

    /// <summary>Encoded messages as one stream packet in a pooled array, compressed when that pays (counted).</summary>
    private PooledBytes CompressedPacket(ReadOnlySpan<ReadOnlyMemory<byte>> messages) =>
        _node.CompressStream(PacketBuilder.EncodePacketPooled(messages));

    /// <summary>Completes a state stream we opened; false when the id is not one of ours.</summary>
    public override bool OnStreamResponse(long streamId, ReadOnlySpan<byte> response, TimeSpan now)
    {
        if (!_stateStreams.Remove(streamId, out StateStream stream))
        {
            return false;
        }

        Counters.StreamBytesReceived += response.Length;
        using PooledBytes scratch = _node.StreamScratch(response, out byte[]? buffer);
        DecodeError error = PacketReader.TryOpen(response, _options.StreamMaxBytes, buffer, out PacketReader reader);
        if (error != DecodeError.None)
        {
            Counters.CountDecodeError(error);
            return true;
        }

        while (reader.TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out bool known))
        {
            if (!known)
            {
                Counters.UnknownMessagesSkipped++;
            }
            else if (type == MessageType.StateDelta)
            {
                error = StateDeltaMessage.TryDecode(payload, _node.Names, out StateDeltaMessage delta);
                if (error == DecodeError.None)
                {
                    ApplyDelta(delta, now);
                }
            }
            else if (type == MessageType.StateDigest)
            {
                // Equal to ours once their deltas are applied: there is nothing they lack (the walk
                // would find no owner), so the lines are checked and not decoded.
                error = StateDigestMessage.TryDecode(payload, _node.Names, pooled: true, skipLinesWhenChecksum: _state.Checksum, out StateDigestMessage digest, out bool same);
                if (same)
                {
                    Counters.StateStreamDigestsEqual++;
                }

                bool wantDeltas = error == DecodeError.None && !same && (digest.Flags & DigestFlags.WantDeltas) != 0;
                int owners = 0;
                using PooledBytes message = wantDeltas ? EncodedDeltasFor(digest, _options.StreamMaxBytes - 1024, out owners) : default;
                StateDigestMessage.ReturnPooled(digest); // read no more: the deltas are encoded
                if (owners > 0)
                {
                    // Step three of a push-pull over streams: push what they lack.
                    using PooledBytes packet = CompressedPacket([message.Memory]);
                    OpenStateStream(stream.To, StateStreamKind.Push, packet.Span, now);
                }
            }

            if (error != DecodeError.None)
            {
                Counters.CountDecodeError(error);
                return true;
            }
        }

        return true;
    }

    public override bool OnStreamFailed(long streamId, TimeSpan now) => TryFailStateStream(streamId);

    private bool TryFailStateStream(long streamId)
    {
        if (_stateStreams.Remove(streamId))
        {
            Counters.StreamFailures++;
            return true;
        }

        return false;
    }

    private void NotifyWatches(AppliedChange change, TimeSpan now)
    {
        if (_watches.Count == 0)
        {
            return;
        }

        foreach (KeyValuePair<long, string> watch in _watches.OrderBy(w => w.Key))
        {
            if (change.Key.StartsWith(watch.Value, StringComparison.Ordinal))
            {
                _node.Emit(new KeyChanged(now, watch.Key, change.Owner, change.Key, change.OldValue, change.NewValue, change.Version));
            }
        }
    }

    /// <summary>Forgets a reaped member's state and checksum.</summary>
    public override void OnMemberReaped(Member member, TimeSpan now)
    {
        _peerChecksums.Remove(member.Name);
        _lastStateContact.Remove(member.Name);
        foreach (AppliedChange change in _state.RemoveOwner(member.Name))
        {
            NotifyWatches(change, now);
        }
    }

    /// <summary>Throws when <paramref name="key"/> is empty or longer than KeyMaxBytes.</summary>
    public void ValidateKey(string key)
    {
        int bytes = ReplicatedState.KeyBytes(key);
        if (bytes == 0 || bytes > _options.KeyMaxBytes)
        {
            throw new ArgumentException($"A key is 1 to {_options.KeyMaxBytes} bytes of UTF-8 (KeyMaxBytes); '{(key.Length > 40 ? key[..40] + "…" : key)}' is {bytes}.", nameof(key));
        }
    }

    private static KeyValueEntry ToEntry(string owner, in StoredEntry entry) =>
        new(owner, entry.Key, entry.Value, entry.Version, entry.TtlMilliseconds > 0 ? TimeSpan.FromMilliseconds(entry.TtlMilliseconds) : null);

    [StructLayout(LayoutKind.Sequential, Pack = 4)] // 20 bytes, not 24
    private readonly record struct PeerChecksum(ulong Generation, uint Sequence, ulong Checksum);

    private enum StateStreamKind : byte
    {
        Sync,
        Push,
    }

    private readonly record struct StateStream(StateStreamKind Kind, NodeAddress To);

    private void OnTimer(StateTimer timer, TimeSpan now)
    {
        switch (timer.Kind)
        {
            case StateTimerKind.Round:
                StateRound(now);
                break;
            case StateTimerKind.Maintenance:
                StateMaintenance(now);
                break;
            case StateTimerKind.StreamDeadline:
                TryFailStateStream(timer.StreamId);
                break;
        }
    }

    private enum StateTimerKind : byte
    {
        Round,
        Maintenance,
        StreamDeadline,
    }

    private readonly record struct StateTimer(StateTimerKind Kind, long StreamId = 0);
}
