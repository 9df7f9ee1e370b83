using Rumor.Core.Coordinates;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core;

/// <summary>
/// Every tunable of a <see cref="GossipNode"/>. Start from a preset (<see cref="Lan"/>, <see cref="Wan"/>,
/// <see cref="Local"/>: HashiCorp memberlist's proven defaults) and override with <c>with</c>. Each
/// option's default, formula and trade-off are in docs/CONFIGURATION.md. <see cref="Validate"/>
/// names every bad option; the node refuses to start with any.
/// </summary>
public sealed record GossipOptions
{
    /// <summary>This member's unique, stable name (1 to 255 bytes of UTF-8). Required.</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>The address other members reach us at (datagrams and streams share it). Required.</summary>
    public NodeAddress AdvertiseAddress { get; init; }

    /// <summary>Start epoch of this process (for example Unix milliseconds at start). A restart with a higher generation outranks every accusation about the previous one.</summary>
    public ulong Generation { get; init; }

    /// <summary>Opaque metadata bytes other members see (tags, roles). At most <see cref="MetadataMaxBytes"/>.</summary>
    public byte[] Metadata { get; init; } = [];

    /// <summary>Seed addresses: contacted to join, and every <see cref="SeedContactEveryRounds"/> push-pull rounds so that partitions heal.</summary>
    public IReadOnlyList<NodeAddress> Seeds { get; init; } = [];

    /// <summary>Time between failure-detection probes. memberlist LAN: 1 s.</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long to wait for a direct ack before asking others to probe indirectly. memberlist LAN: 500 ms (set near the 99th percentile round-trip time).</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How many members are asked to probe indirectly after a missed direct ack (SWIM's k). memberlist: 3.</summary>
    public int IndirectChecks { get; init; } = 3;

    /// <summary>Suspicion timeout = SuspicionMultiplier × max(1, log10(N)) × ProbeInterval. memberlist LAN: 4.</summary>
    public int SuspicionMultiplier { get; init; } = 4;

    /// <summary>Upper bound of the suspicion timeout as a multiple of its lower bound (Lifeguard dynamic suspicion). memberlist: 6.</summary>
    public int SuspicionMaxTimeoutMultiplier { get; init; } = 6;

    /// <summary>Broadcast retransmit limit = RetransmitMultiplier × ceil(log10(N + 1)). memberlist LAN: 4.</summary>
    public int RetransmitMultiplier { get; init; } = 4;

    /// <summary>Time between gossip rounds (piggybacked broadcasts to <see cref="GossipFanout"/> random members). memberlist LAN: 200 ms.</summary>
    public TimeSpan GossipInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Members gossiped to per gossip round. memberlist LAN: 3.</summary>
    public int GossipFanout { get; init; } = 3;

    /// <summary>How long dead members still receive gossip, so that a wrongly accused member hears it and refutes. memberlist LAN: 30 s.</summary>
    public TimeSpan GossipToTheDeadTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Keep Vivaldi network coordinates (as Serf does): every ack carries this node's coordinate
    /// (a Coordinate message, PROTOCOL.md §6.16, 96 bytes more per ack), and every direct probe's
    /// round trip updates it. Off: acks are as before and no coordinate is kept. Default on.
    /// </summary>
    public bool NetworkCoordinates { get; init; } = true;

    /// <summary>The Vivaldi tuning (Serf's defaults: 8 dimensions). Members with another dimensionality cannot be compared and are ignored.</summary>
    public VivaldiOptions Vivaldi { get; init; } = VivaldiOptions.Default;

    /// <summary>
    /// Proximity-weighted gossip: each gossip target is, with probability
    /// <see cref="ProximityUniformShare"/>, a uniform random member (as without this option), and
    /// otherwise the nearest (lowest estimated round trip) of <see cref="ProximityCandidates"/>
    /// uniform random candidates. Needs <see cref="NetworkCoordinates"/>. Default off: peer selection
    /// draws exactly as before.
    /// </summary>
    public bool ProximityGossip { get; init; }

    /// <summary>With <see cref="ProximityGossip"/>, the share of gossip targets still drawn uniformly (far ones included), so a cluster split by distance still heals. 0.05..1; default 0.25.</summary>
    public double ProximityUniformShare { get; init; } = 0.25;

    /// <summary>With <see cref="ProximityGossip"/>, how many uniform candidates a proximity pick compares (the nearest wins). 2..32; default 4.</summary>
    public int ProximityCandidates { get; init; } = 4;

    /// <summary>Time between full-state push-pull exchanges with one random member (scaled up above 32 members). memberlist LAN: 30 s.</summary>
    public TimeSpan PushPullInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Every periodic push-pull (random member, seed contact, reconnect to a dead member) first sends
    /// only a checksum of our membership view (and keyring version); the member answers with its own,
    /// and the full exchange follows only when the two differ (a healed partition's halves differ, so
    /// they still get it). Converged clusters then pay a few dozen bytes per round instead of the whole
    /// member table, which grows with N (issue 16: idle traffic flat in N). Joins stay full exchanges,
    /// and so does every push-pull in φ mode (their hearsay suspicions confirm φ's own).
    /// On by default (turned off for a while in session 17 when end-to-end queries went unanswered with
    /// it on; the cause was elsewhere: a relayed query sent back to its sender, docs/BENCHMARKS.md,
    /// session 18). false: every periodic push-pull is full, as in memberlist.
    /// </summary>
    public bool PushPullChecksumFirst { get; init; } = true;

    /// <summary>
    /// Every ack carries the checksum of the acking member's active members (alive or suspect; the
    /// push-pull's checksum without the dead and departed, which members reap at different times;
    /// message type 20, 15 bytes in the ack's packet), and a prober acts on two in a row: when two
    /// different members answered its direct probes with the same checksum, different from its own,
    /// and its own active view did not change between the two answers nor for 2 × ProbeInterval, it
    /// is most likely the one that missed some news (a rumor's retransmissions are limited, so now and
    /// then a member hears none of them) and it push-pulls with the second member at once, instead of
    /// waiting for the next periodic push-pull (30 s and more, memberlist's tail). At most once per
    /// 5 × ProbeInterval. SWIM only. While news is still spreading, views differ from member to member
    /// and change, so nothing fires. false: acks carry no checksum (a peer's are decoded and ignored).
    /// </summary>
    public bool ViewChecksumInAcks { get; init; } = true;

    /// <summary>Every M-th push-pull goes to a seed instead of a random member, so that partitions heal. 0 disables it.</summary>
    public int SeedContactEveryRounds { get; init; } = 4;

    /// <summary>Deadline of one stream exchange (connect, send, reply). memberlist LAN: 10 s.</summary>
    public TimeSpan StreamTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest datagram we send, header and checksum included: below the path MTU. memberlist: 1400.</summary>
    public int PacketBudgetBytes { get; init; } = 1400;

    /// <summary>Largest stream message we send or accept.</summary>
    public int StreamMaxBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Largest metadata a member may carry. memberlist: 512.</summary>
    public int MetadataMaxBytes { get; init; } = 512;

    /// <summary>How long dead and left members stay in the table (so that old news about them is recognised) before they are forgotten.</summary>
    public TimeSpan DeadMemberRetention { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Most members the table holds; alive news about further members is dropped and counted.</summary>
    public int MembersMax { get; init; } = 65536;

    /// <summary>Most broadcasts queued; past it the most-transmitted are dropped and counted.</summary>
    public int BroadcastQueueMax { get; init; } = 4096;

    /// <summary>Lifeguard local health: the probe interval and timeout are multiplied by (score + 1), score in [0, AwarenessMaxMultiplier − 1]. memberlist: 8. 1 turns it off.</summary>
    public int AwarenessMaxMultiplier { get; init; } = 8;

    /// <summary>Ask indirect-probe helpers to answer with a nack when the target stays silent (Lifeguard), so a failed probe tells "target down" from "my path is bad".</summary>
    public bool IndirectProbeNacks { get; init; } = true;

    /// <summary>When the direct ping times out, also ping the target over a stream (memberlist's TCP fallback), so a member whose datagrams are blocked is not suspected.</summary>
    public bool StreamFallbackProbe { get; init; } = true;

    /// <summary>After this node itself stalled (see <see cref="GossipNode.OnLocalStall"/>), its own failed probes raise no suspicion for this long. Zero turns the guard off.</summary>
    public TimeSpan StallGuard { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A timer fired later than this after its due time counts as a stall of this node (self-detection in OnTick). Zero turns self-detection off.</summary>
    public TimeSpan StallThreshold { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The incarnation this node starts with (a shell that persists identity passes the stored one + 1).</summary>
    public uint InitialIncarnation { get; init; }

    /// <summary>Most verdict records (suspect and dead transitions, explained) kept; past it the oldest are overwritten and counted.</summary>
    public int VerdictsMax { get; init; } = 256;

    /// <summary>Probes remembered per member for verdict records. 0 keeps none.</summary>
    public int ProbeHistoryMax { get; init; } = 8;

    /// <summary>
    /// How old, behind the member's newest probe, a remembered probe may be before it is dropped;
    /// the newest is always kept, and the one before it when the newest is not a direct ack (a
    /// failure keeps the last answer before it). A node probes each member once per N probe intervals, so in a
    /// large cluster eight probes reach back hours (8,000 s at N = 1,000): evidence of nothing in a
    /// verdict now, and N² records in a simulated cluster. <see cref="TimeSpan.Zero"/>: no age limit.
    /// </summary>
    public TimeSpan ProbeHistoryWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Time between replicated-state anti-entropy rounds (Scuttlebutt). chitchat: 1 s.</summary>
    public TimeSpan StateGossipInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Peers per state round.</summary>
    public int StateGossipFanout { get; init; } = 1;

    /// <summary>Direction of state exchanges: push, pull or push-pull (three steps).</summary>
    public GossipStrategy StateStrategy { get; init; } = GossipStrategy.PushPull;

    /// <summary>How state peers are chosen.</summary>
    public PeerSelection StatePeerSelection { get; init; } = PeerSelection.Uniform;

    /// <summary>This node's zone (rack, availability zone); published in its replicated state under <c>rumor.zone</c>.</summary>
    public string Zone { get; init; } = string.Empty;

    /// <summary>Share of state rounds guaranteed to pick a peer in another zone (0 to 1), when such peers exist.</summary>
    public double CrossZoneShare { get; init; }

    /// <summary>Every M-th state round includes a seed among its peers. 0 disables it.</summary>
    public int StateSeedEveryRounds { get; init; } = 10;

    /// <summary>
    /// While every alive member's last known checksum equals ours, state rounds are skipped except
    /// every M-th. 0 (default): M = max(10, ceil(N / 10)), which keeps idle digest traffic per node
    /// flat in N. 1: never skip.
    /// </summary>
    public int StateFullSyncEveryRounds { get; init; }

    /// <summary>Gossip every member's state checksum to every member (convergence detection). Costs about N² small broadcasts per change cluster-wide; off, a node learns checksums only from its own exchanges.</summary>
    public bool AnnounceStateChecksums { get; init; } = true;

    /// <summary>Checksums are announced cluster-wide only while the cluster has at most this many active members (the cost is N² per change).</summary>
    public int StateChecksumAnnounceMaxMembers { get; init; } = 128;

    /// <summary>Largest key, in bytes of UTF-8.</summary>
    public int KeyMaxBytes { get; init; } = 512;

    /// <summary>Largest value. Values that do not fit a datagram travel over streams.</summary>
    public int ValueMaxBytes { get; init; } = 64 * 1024;

    /// <summary>How long tombstones are kept before collection; a peer away longer is reset to a full copy.</summary>
    public TimeSpan TombstoneGracePeriod { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Full digest, Bloom digest, or full when it fits (Auto).</summary>
    public DigestMode StateDigestMode { get; init; } = DigestMode.Auto;

    /// <summary>False-positive rate of Bloom digests: smaller is bigger (about 1.44 × log2(1/p) bits per owner).</summary>
    public double BloomFalsePositiveRate { get; init; } = 0.01;

    /// <summary>Packets whose body is at least this long are compressed (Brotli) when that saves bytes. 0 disables compression.</summary>
    public int CompressionThresholdBytes { get; init; } = 512;

    /// <summary>Most prefix watches at once.</summary>
    public int WatchesMax { get; init; } = 256;

    /// <summary>SWIM probing (default) or heartbeat counters with a φ-accrual detector.</summary>
    public FailureDetectorKind FailureDetector { get; init; } = FailureDetectorKind.Swim;

    /// <summary>φ mode: how often a member raises and gossips its heartbeat counter.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>φ mode: suspicion level at which a member becomes suspect (8: odds of a late heartbeat 1 in 10^8). Cassandra and Akka: 8.</summary>
    public double PhiThreshold { get; init; } = 8;

    /// <summary>φ mode: floor of the inter-arrival standard deviation, so a very regular member is not convicted for a small delay. Akka: 100 ms.</summary>
    public TimeSpan PhiMinStdDeviation { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>φ mode: a pause this long (GC, a blip) on top of the mean interval is tolerated without conviction. Akka cluster: 3 s; ours 1.5 s, so a crash is suspected within about 6 s at 1 s gossiped heartbeats (detection ≈ mean + pause + 4.2σ after the last arrival).</summary>
    public TimeSpan PhiAcceptablePause { get; init; } = TimeSpan.FromSeconds(1.5);

    /// <summary>φ mode: inter-arrival samples kept per member. Akka and Cassandra: 1,000.</summary>
    public int PhiWindowSize { get; init; } = 1000;

    // ---- User events, queries and broadcast priority classes (issue 5; Events/EventsModule.cs, Events/EventsModule.Queries.cs) ----

    /// <summary>Share of each packet's room kept for less urgent broadcast classes while they have messages waiting (user events under a membership storm). 0 gives strict priority (lower classes may starve).</summary>
    public double BroadcastLowerClassShare { get; init; } = 0.25;

    /// <summary>Longest user event or query name, in bytes of UTF-8 (at most 255).</summary>
    public int EventNameMaxBytes { get; init; } = 128;

    /// <summary>Largest user event payload in bytes. Events travel in datagrams, so name + payload + the origin's name + 40 bytes of fields must fit PacketBudgetBytes.</summary>
    public int EventPayloadMaxBytes { get; init; } = 512;

    /// <summary>A coalescing event replaces the sender's previous coalescing event of the same name if that one was sent less than this long before; receivers hold coalescing events this long before delivering, so a replaced one is usually never delivered.</summary>
    public TimeSpan EventCoalesceWindow { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A user event or query this node sends, or receives for the first time, goes out at once to GossipFanout
    /// members (one extra gossip round right after the input that brought it, shared by every event
    /// of that input) instead of waiting up to GossipInterval for the next round: about one round
    /// less per hop. The extra round counts against the broadcasts' retransmit limits like any
    /// other, so each event is still sent at most RetransmitLimit times by each node. false: events
    /// wait for the scheduled rounds like every other broadcast.
    /// </summary>
    public bool EventImmediatePush { get; init; } = true;

    /// <summary>
    /// A join's news goes out at once (default false, see below): when a join push-pull ends, the joiner
    /// re-queues its own alive (so it rides first) and sends one extra gossip round to GossipFanout
    /// members right away; the seed that answered a join push-pull does the same for the joiner it
    /// just merged. Without it both wait up to GossipInterval for their next scheduled round, so a
    /// joiner reaches the cluster about one round later. Cost: two extra rounds (2 × GossipFanout
    /// datagrams) per join, none in steady state; the sends count against the broadcasts'
    /// retransmit limits like any round. Members learned by gossip are not pushed at once (in a
    /// mass join that would be a round per packet of news); they wait for the scheduled rounds.
    /// Off by default until VOPR seed 450 is understood: with it on, that seed's run ends with an
    /// aggregate (Min) reported converged while its sum is off the truth (docs/TESTING.md).
    /// </summary>
    public bool JoinImmediatePush { get; init; } = false;

    /// <summary>
    /// A member this node hears of for the first time (or hears come back after it was dead or
    /// left) goes out at once: one extra gossip round to GossipFanout members right after the
    /// input that brought it, instead of waiting up to GossipInterval for the next round, so each
    /// hop of a join's news takes a network delay instead of half a round on average. At most one
    /// such round per GossipInterval / 4: in a mass join a node adds at most four rounds per
    /// interval to its own. The sends count against the broadcasts' retransmit limits like any
    /// round, so each alive is still sent at most RetransmitLimit times by each node.
    /// </summary>
    public bool MemberImmediatePush { get; init; } = true;

    /// <summary>How long received events stay in the log: they are deduplicated and reconciled by anti-entropy within this window.</summary>
    public TimeSpan EventRetention { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Most events the log holds (the newest stay); older ones are forgotten early and counted.</summary>
    public int EventLogMax { get; init; } = 1024;

    /// <summary>Time between event anti-entropy rounds: a Bloom digest of the retained events goes to one random alive member, which sends back what we lack.</summary>
    public TimeSpan EventSyncInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Event anti-entropy on (the default). Off, the events rumor mongering misses (a residue of about e^-m of the members) stay missed: for experiments and comparison.</summary>
    public bool EventAntiEntropy { get; init; } = true;

    /// <summary>Most events re-sent in reply to one event digest (bounds the cost of repairing a node that missed a lot).</summary>
    public int EventRepairMaxMessages { get; init; } = 64;

    /// <summary>Largest query payload in bytes (same datagram rule as EventPayloadMaxBytes, plus the tag filter and the asker's address).</summary>
    public int QueryPayloadMaxBytes { get; init; } = 512;

    /// <summary>Largest encoded tag filter of a query (key=value lines) in bytes.</summary>
    public int QueryFilterMaxBytes { get; init; } = 256;

    /// <summary>Largest query response payload in bytes: a response is one datagram to the asker, so responder name + payload + 20 bytes must fit PacketBudgetBytes.</summary>
    public int QueryResponseMaxBytes { get; init; } = 1024;

    /// <summary>Copies of each query response sent, GossipInterval apart (while the query's deadline has not passed): a response is a datagram without acknowledgement, so copies turn a loss rate p into about p^copies. 1 sends one.</summary>
    public int QueryResponseCopies { get; init; } = 2;

    /// <summary>Longest query timeout accepted.</summary>
    public TimeSpan QueryTimeoutMax { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Most queries tracked at once: our own (pending and completed results) and, separately, others' queries we have seen (for deduplication until their deadline).</summary>
    public int QueriesMax { get; init; } = 256;
    // ---- Cluster aggregates (push-sum and extremum gossip; Aggregates/AggregatesModule.cs) ----

    /// <summary>Aggregates: time between push-sum rounds (each running aggregate pushes half its mass to one random live member). Default 1 s.</summary>
    public TimeSpan AggregateInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Aggregates: time between rounds while this node's estimate has not converged (a new epoch, a changed input); once converged, rounds slow to AggregateInterval. At most AggregateInterval. Default 200 ms.</summary>
    public TimeSpan AggregateFastInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Aggregates: the initiator restarts the aggregate after this long, so departed members stop counting (others do it after 1.25 to 1.75 × this, if the initiator is gone). At least 10 × AggregateInterval. Default 2 min.</summary>
    public TimeSpan AggregateEpochLength { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Aggregates: an estimate is reported converged when its relative error bound is at most this. Default 0.001.</summary>
    public double AggregateConvergenceThreshold { get; init; } = 0.001;

    /// <summary>Aggregates: peers' estimates kept per aggregate for the error bound (also the fewest samples before convergence is reported). Default 16.</summary>
    public int AggregateSampleWindow { get; init; } = 16;

    /// <summary>Aggregates: unacknowledged flows re-sent per aggregate and round, at most. 0 disables repair (plain push-sum under loss). Default 4.</summary>
    public int AggregateRetransmitsMax { get; init; } = 4;

    /// <summary>Aggregates: most aggregates running at once at a node; messages for further keys are dropped and counted. Default 64.</summary>
    public int AggregatesMax { get; init; } = 64;

    /// <summary>
    /// The AES-GCM keyring (docs/SECURITY.md); null (the default) sends and accepts plaintext. With a
    /// keyring every packet leaves encrypted and authenticated, and plaintext or wrongly keyed
    /// packets are dropped and counted unless <see cref="VerifyIncoming"/> is false.
    /// </summary>
    public Security.GossipKeyring? Keyring { get; init; }

    /// <summary>
    /// With a keyring: true (default) refuses plaintext; false accepts it while still sending
    /// encrypted, to migrate a running cluster. Changeable at run time (<see cref="GossipNode.VerifyIncoming"/>).
    /// </summary>
    public bool VerifyIncoming { get; init; } = true;

    /// <summary>
    /// With a keyring: true (default) seals what this node sends; false sends plaintext while accepting
    /// both (the first migration step). Changeable at run time (<see cref="GossipNode.EncryptOutgoing"/>).
    /// </summary>
    public bool EncryptOutgoing { get; init; } = true;

    /// <summary>
    /// How far a member's generation (a start epoch in Unix milliseconds) may lie ahead of this node's
    /// own wall-clock estimate (its generation + time since start) before news about it is refused:
    /// bounds clock skew; a forged "forever" generation is refused. Default 1 hour.
    /// </summary>
    public TimeSpan GenerationSkewMax { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The largest incarnation jump accepted in one message about another member (a member bumps its
    /// incarnation once per refutation, so honest jumps are small). Default 1,048,576.
    /// </summary>
    public uint IncarnationJumpMax { get; init; } = 1 << 20;

    /// <summary>
    /// The largest version jump accepted in one state delta for an owner (same generation) we already
    /// hold: a forged delta at a huge version would otherwise freeze the owner's keys. An honest jump is
    /// the owner's writes since we last synced, so a refused honest jump means a partition longer than
    /// that many writes. Default 2^32.
    /// </summary>
    public ulong StateVersionJumpMax { get; init; } = 1UL << 32;

    /// <summary>The LAN preset: memberlist's DefaultLANConfig.</summary>
    public static GossipOptions Lan { get; } = new();

    /// <summary>The WAN preset: memberlist's DefaultWANConfig (slower, more tolerant of latency and loss).</summary>
    public static GossipOptions Wan { get; } = new()
    {
        StreamTimeout = TimeSpan.FromSeconds(30),
        SuspicionMultiplier = 6,
        PushPullInterval = TimeSpan.FromSeconds(60),
        ProbeTimeout = TimeSpan.FromSeconds(3),
        ProbeInterval = TimeSpan.FromSeconds(5),
        GossipFanout = 4,
        GossipInterval = TimeSpan.FromMilliseconds(500),
        GossipToTheDeadTime = TimeSpan.FromSeconds(60),
    };

    /// <summary>The Local preset: memberlist's DefaultLocalConfig (one host or a fast, loss-free network).</summary>
    public static GossipOptions Local { get; } = new()
    {
        StreamTimeout = TimeSpan.FromSeconds(1),
        IndirectChecks = 1,
        RetransmitMultiplier = 2,
        SuspicionMultiplier = 3,
        PushPullInterval = TimeSpan.FromSeconds(15),
        ProbeTimeout = TimeSpan.FromMilliseconds(200),
        ProbeInterval = TimeSpan.FromSeconds(1),
        GossipInterval = TimeSpan.FromMilliseconds(100),
        GossipToTheDeadTime = TimeSpan.FromSeconds(15),
    };

    /// <summary>A preset by name: lan, wan or local (case-insensitive).</summary>
    public static GossipOptions Preset(string name) => name.ToUpperInvariant() switch
    {
        "LAN" => Lan,
        "WAN" => Wan,
        "LOCAL" => Local,
        _ => throw new ArgumentException($"Unknown preset '{name}': expected lan, wan or local.", nameof(name)),
    };

    /// <summary>Every problem with these options, each naming the option; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        List<string> problems = [];
        if (string.IsNullOrEmpty(Name))
        {
            problems.Add("Name is required: every member needs a unique, stable name.");
        }
        else if (System.Text.Encoding.UTF8.GetByteCount(Name) > WireLimits.NameMaxBytes)
        {
            problems.Add($"Name is {System.Text.Encoding.UTF8.GetByteCount(Name)} bytes of UTF-8; at most {WireLimits.NameMaxBytes}.");
        }

        if (AdvertiseAddress.IsEmpty || AdvertiseAddress.Port == 0)
        {
            problems.Add("AdvertiseAddress is required and needs a port other than 0: other members reach us there.");
        }

        Positive(problems, nameof(ProbeInterval), ProbeInterval);
        Positive(problems, nameof(ProbeTimeout), ProbeTimeout);
        if (ProbeTimeout >= ProbeInterval && ProbeInterval > TimeSpan.Zero)
        {
            problems.Add($"ProbeTimeout ({ProbeTimeout.TotalMilliseconds} ms) must be shorter than ProbeInterval ({ProbeInterval.TotalMilliseconds} ms): indirect probes need the rest of the interval.");
        }

        Range(problems, nameof(IndirectChecks), IndirectChecks, 0, 16);
        Range(problems, nameof(SuspicionMultiplier), SuspicionMultiplier, 1, 100);
        Range(problems, nameof(SuspicionMaxTimeoutMultiplier), SuspicionMaxTimeoutMultiplier, 1, 100);
        Range(problems, nameof(RetransmitMultiplier), RetransmitMultiplier, 1, 100);
        Positive(problems, nameof(GossipInterval), GossipInterval);
        Range(problems, nameof(GossipFanout), GossipFanout, 1, 64);
        NonNegative(problems, nameof(GossipToTheDeadTime), GossipToTheDeadTime);
        Positive(problems, nameof(PushPullInterval), PushPullInterval);
        Range(problems, nameof(SeedContactEveryRounds), SeedContactEveryRounds, 0, 1_000_000);
        Positive(problems, nameof(StreamTimeout), StreamTimeout);
        Range(problems, nameof(PacketBudgetBytes), PacketBudgetBytes, 512, WireLimits.DatagramMaxBytes);
        Positive(problems, nameof(GenerationSkewMax), GenerationSkewMax);
        if (IncarnationJumpMax == 0)
        {
            problems.Add("IncarnationJumpMax must be at least 1: members bump their incarnation to refute suspicion.");
        }

        if (StateVersionJumpMax == 0)
        {
            problems.Add("StateVersionJumpMax must be at least 1: every write advances its owner's version.");
        }
        Range(problems, nameof(StreamMaxBytes), StreamMaxBytes, 64 * 1024, WireLimits.StreamMaxBytes);
        Range(problems, nameof(MetadataMaxBytes), MetadataMaxBytes, 0, WireLimits.MetaMaxBytes);
        if (Metadata.Length > MetadataMaxBytes)
        {
            problems.Add($"Metadata is {Metadata.Length} bytes; MetadataMaxBytes allows {MetadataMaxBytes}.");
        }

        Positive(problems, nameof(DeadMemberRetention), DeadMemberRetention);
        Range(problems, nameof(MembersMax), MembersMax, 2, WireLimits.PushPullMaxMembers);
        Range(problems, nameof(BroadcastQueueMax), BroadcastQueueMax, 16, 1_000_000);
        Range(problems, nameof(AwarenessMaxMultiplier), AwarenessMaxMultiplier, 1, 100);
        NonNegative(problems, nameof(StallGuard), StallGuard);
        NonNegative(problems, nameof(StallThreshold), StallThreshold);
        Range(problems, nameof(VerdictsMax), VerdictsMax, 1, 1_000_000);
        Range(problems, nameof(ProbeHistoryMax), ProbeHistoryMax, 0, 64);
        NonNegative(problems, nameof(ProbeHistoryWindow), ProbeHistoryWindow);
        Positive(problems, nameof(StateGossipInterval), StateGossipInterval);
        Range(problems, nameof(StateGossipFanout), StateGossipFanout, 1, 64);
        Range(problems, nameof(StateSeedEveryRounds), StateSeedEveryRounds, 0, 1_000_000);
        Range(problems, nameof(StateFullSyncEveryRounds), StateFullSyncEveryRounds, 0, 1_000_000);
        Range(problems, nameof(KeyMaxBytes), KeyMaxBytes, 1, ushort.MaxValue);
        Range(problems, nameof(ValueMaxBytes), ValueMaxBytes, 0, WireLimits.StreamMaxBytes / 4);
        if (StreamMaxBytes is >= 64 * 1024 and <= WireLimits.StreamMaxBytes && ValueMaxBytes > StreamMaxBytes / 4 && ValueMaxBytes <= WireLimits.StreamMaxBytes / 4)
        {
            problems.Add($"ValueMaxBytes ({ValueMaxBytes}) must be at most a quarter of StreamMaxBytes ({StreamMaxBytes}), so a value always fits a stream catch-up.");
        }
        Positive(problems, nameof(TombstoneGracePeriod), TombstoneGracePeriod);
        Range(problems, nameof(CompressionThresholdBytes), CompressionThresholdBytes, 0, int.MaxValue);
        Range(problems, nameof(WatchesMax), WatchesMax, 0, 1_000_000);
        Range(problems, nameof(StateChecksumAnnounceMaxMembers), StateChecksumAnnounceMaxMembers, 0, 1_000_000);
        Positive(problems, nameof(HeartbeatInterval), HeartbeatInterval);
        NonNegative(problems, nameof(PhiMinStdDeviation), PhiMinStdDeviation);
        NonNegative(problems, nameof(PhiAcceptablePause), PhiAcceptablePause);
        Range(problems, nameof(PhiWindowSize), PhiWindowSize, 2, 100_000);
        if (double.IsNaN(PhiThreshold) || PhiThreshold <= 0 || PhiThreshold > 100)
        {
            problems.Add($"PhiThreshold is {PhiThreshold}; it must be above 0 and at most 100.");
        }

        if (double.IsNaN(CrossZoneShare) || CrossZoneShare < 0 || CrossZoneShare > 1)
        {
            problems.Add($"CrossZoneShare is {CrossZoneShare}; it must be between 0 and 1.");
        }

        if (double.IsNaN(BloomFalsePositiveRate) || BloomFalsePositiveRate <= 0 || BloomFalsePositiveRate >= 0.5)
        {
            problems.Add($"BloomFalsePositiveRate is {BloomFalsePositiveRate}; it must be above 0 and below 0.5.");
        }

        ValidateEvents(problems);
        ValidateCoordinates(problems);
        // Cluster aggregates.
        Positive(problems, nameof(AggregateInterval), AggregateInterval);
        Positive(problems, nameof(AggregateFastInterval), AggregateFastInterval);
        if (AggregateFastInterval > AggregateInterval)
        {
            problems.Add($"AggregateFastInterval ({AggregateFastInterval.TotalMilliseconds} ms) must be at most AggregateInterval ({AggregateInterval.TotalMilliseconds} ms): it is the pace before convergence.");
        }
        if (AggregateInterval > TimeSpan.Zero && AggregateEpochLength < AggregateInterval * 10)
        {
            problems.Add($"AggregateEpochLength ({AggregateEpochLength.TotalSeconds} s) must be at least 10 × AggregateInterval ({AggregateInterval.TotalSeconds} s): an epoch needs rounds to converge.");
        }

        if (double.IsNaN(AggregateConvergenceThreshold) || AggregateConvergenceThreshold <= 0 || AggregateConvergenceThreshold >= 1)
        {
            problems.Add($"AggregateConvergenceThreshold is {AggregateConvergenceThreshold}; it must be above 0 and below 1 (a relative error).");
        }

        Range(problems, nameof(AggregateSampleWindow), AggregateSampleWindow, 2, 1024);
        Range(problems, nameof(AggregateRetransmitsMax), AggregateRetransmitsMax, 0, 64);
        Range(problems, nameof(AggregatesMax), AggregatesMax, 1, 10_000);

        foreach (NodeAddress seed in Seeds)
        {
            if (seed.IsEmpty || seed.Port == 0)
            {
                problems.Add($"Seeds contains '{seed}', which has no port.");
            }
        }

        return problems;
    }

    /// <summary>The user event and query options (issue 5). Whether a message fits one datagram is checked when it is sent (GossipNode names the limit), so a small PacketBudgetBytes does not make the defaults invalid.</summary>
    private void ValidateEvents(List<string> problems)
    {
        if (double.IsNaN(BroadcastLowerClassShare) || BroadcastLowerClassShare < 0 || BroadcastLowerClassShare > 0.9)
        {
            problems.Add($"BroadcastLowerClassShare is {BroadcastLowerClassShare}; it must be between 0 and 0.9.");
        }

        Range(problems, nameof(EventNameMaxBytes), EventNameMaxBytes, 1, WireLimits.NameMaxBytes);
        Range(problems, nameof(EventPayloadMaxBytes), EventPayloadMaxBytes, 0, ushort.MaxValue);
        NonNegative(problems, nameof(EventCoalesceWindow), EventCoalesceWindow);
        Positive(problems, nameof(EventRetention), EventRetention);
        Range(problems, nameof(EventLogMax), EventLogMax, 1, 1_000_000);
        Positive(problems, nameof(EventSyncInterval), EventSyncInterval);
        Range(problems, nameof(EventRepairMaxMessages), EventRepairMaxMessages, 0, 100_000);
        Range(problems, nameof(QueryPayloadMaxBytes), QueryPayloadMaxBytes, 0, ushort.MaxValue);
        Range(problems, nameof(QueryFilterMaxBytes), QueryFilterMaxBytes, 0, ushort.MaxValue);
        Range(problems, nameof(QueryResponseMaxBytes), QueryResponseMaxBytes, 0, ushort.MaxValue);
        Range(problems, nameof(QueryResponseCopies), QueryResponseCopies, 1, 5);
        Positive(problems, nameof(QueryTimeoutMax), QueryTimeoutMax);
        if (QueryTimeoutMax.TotalMilliseconds > uint.MaxValue)
        {
            problems.Add($"QueryTimeoutMax is {QueryTimeoutMax}; a query carries its timeout in 32-bit milliseconds, at most {TimeSpan.FromMilliseconds(uint.MaxValue)}.");
        }
        Range(problems, nameof(QueriesMax), QueriesMax, 1, 1_000_000);
    }

    /// <summary>Network coordinates and proximity gossip.</summary>
    private void ValidateCoordinates(List<string> problems)
    {
        if (Vivaldi is null)
        {
            problems.Add("Vivaldi is null; use VivaldiOptions.Default.");
        }
        else
        {
            Range(problems, "Vivaldi.Dimensionality", Vivaldi.Dimensionality, 1, CoordinateMessage.DimensionsMax);
            Range(problems, "Vivaldi.LatencyFilterSize", Vivaldi.LatencyFilterSize, 1, 100);
            Range(problems, "Vivaldi.AdjustmentWindowSize", Vivaldi.AdjustmentWindowSize, 0, 1000);
            PositiveNumber(problems, "Vivaldi.ErrorMax", Vivaldi.ErrorMax);
            PositiveNumber(problems, "Vivaldi.ErrorGain", Vivaldi.ErrorGain);
            PositiveNumber(problems, "Vivaldi.CoordinateGain", Vivaldi.CoordinateGain);
            PositiveNumber(problems, "Vivaldi.GravityRhoSeconds", Vivaldi.GravityRhoSeconds);
            if (!double.IsFinite(Vivaldi.HeightMinSeconds) || Vivaldi.HeightMinSeconds < 0)
            {
                problems.Add($"Vivaldi.HeightMinSeconds is {Vivaldi.HeightMinSeconds}; it must be a number of seconds, 0 or more.");
            }
        }

        if (double.IsNaN(ProximityUniformShare) || ProximityUniformShare < 0.05 || ProximityUniformShare > 1)
        {
            problems.Add($"ProximityUniformShare is {ProximityUniformShare}; it must be between 0.05 and 1 (some gossip must stay uniform so that distant groups still hear each other).");
        }

        Range(problems, nameof(ProximityCandidates), ProximityCandidates, 2, 32);
        if (ProximityGossip && !NetworkCoordinates)
        {
            problems.Add("ProximityGossip needs NetworkCoordinates: without coordinates there is no distance to weigh by.");
        }
    }

    private static void PositiveNumber(List<string> problems, string name, double value)
    {
        if (!double.IsFinite(value) || value <= 0)
        {
            problems.Add($"{name} is {value}; it must be a positive number.");
        }
    }

    /// <summary>Throws <see cref="GossipOptionsException"/> listing every problem, if there is any.</summary>
    public void ThrowIfInvalid()
    {
        IReadOnlyList<string> problems = Validate();
        if (problems.Count > 0)
        {
            throw new GossipOptionsException(problems);
        }
    }

    private static void Positive(List<string> problems, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            problems.Add($"{name} is {value}; it must be positive.");
        }
    }

    private static void NonNegative(List<string> problems, string name, TimeSpan value)
    {
        if (value < TimeSpan.Zero)
        {
            problems.Add($"{name} is {value}; it must not be negative.");
        }
    }

    private static void Range(List<string> problems, string name, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            problems.Add($"{name} is {value}; it must be between {min} and {max}.");
        }
    }
}

/// <summary>Options that failed validation; the message lists every problem, each naming its option.</summary>
public sealed class GossipOptionsException : ArgumentException
{
    /// <summary>Creates the exception from the problems found.</summary>
    public GossipOptionsException(IReadOnlyList<string> problems)
        : base("Invalid gossip options:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  - " + p)))
    {
        Problems = problems;
    }

    /// <summary>Creates the exception with one message.</summary>
    public GossipOptionsException()
        : this(["Invalid gossip options."])
    {
    }

    /// <summary>Creates the exception with one message.</summary>
    public GossipOptionsException(string message)
        : this([message])
    {
    }

    /// <summary>Creates the exception with one message and an inner exception.</summary>
    public GossipOptionsException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    /// <summary>Each problem, naming its option.</summary>
    public IReadOnlyList<string> Problems { get; }
}
