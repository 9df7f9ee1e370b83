using System.Net;

namespace Rumor.Serf;

/// <summary>
/// Settings of a <see cref="SerfNode"/>. Defaults are memberlist's LAN profile, the one
/// <c>serf agent</c> uses unless told <c>-profile</c> (serf-wire.md 3.13).
/// </summary>
public sealed class SerfNodeOptions
{
    /// <summary>The node's name: its identity on the wire; unique in the cluster.</summary>
    public required string Name { get; init; }

    /// <summary>Address and port bound for both UDP and TCP (Serf uses one port for both).</summary>
    public required IPEndPoint Bind { get; init; }

    /// <summary>The address others reach this node at (put in its alive records and pings); default: the bound address, which must then be a specific one, not 0.0.0.0.</summary>
    public IPAddress? Advertise { get; init; }

    /// <summary>Serf tags, carried in memberlist node meta (at most 512 bytes encoded).</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>Serf's gossip encryption (<c>-encrypt</c>): when set, every packet and stream is AES-GCM encrypted and plaintext is refused; null (default) speaks plaintext.</summary>
    public Wire.SerfKeyring? Keyring { get; init; }

    /// <summary>
    /// Serf's keyring file (<c>-keyring-file</c>): when set, every key change made by a key query
    /// (install, use, remove) rewrites it as a JSON array of base64 keys, primary first, mode 0600;
    /// a write that fails makes the answer a failure with the error (Serf's writeKeyringFile).
    /// </summary>
    public string? KeyringFile { get; init; }

    /// <summary>Serf's QueryTimeoutMult: a query's default timeout is GossipInterval × this × ⌈log10(N + 1)⌉.</summary>
    public int QueryTimeoutMult { get; init; } = 16;

    /// <summary>Time between probes of one member (lan: 1 s).</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Wait for a direct ack before asking helpers (lan: 500 ms).</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Helpers asked for an indirect probe (lan: 3).</summary>
    public int IndirectChecks { get; init; } = 3;

    /// <summary>Suspicion multiplier (lan: 4): min suspicion = mult × max(1, log10 N) × ProbeInterval.</summary>
    public int SuspicionMult { get; init; } = 4;

    /// <summary>Longest suspicion as a multiple of the shortest (6).</summary>
    public int SuspicionMaxTimeoutMult { get; init; } = 6;

    /// <summary>Each broadcast is sent RetransmitMult × ceil(log10(N + 1)) times (lan: 4).</summary>
    public int RetransmitMult { get; init; } = 4;

    /// <summary>Time between gossip rounds (lan: 200 ms).</summary>
    public TimeSpan GossipInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Members gossiped to per round (lan: 3).</summary>
    public int GossipNodes { get; init; } = 3;

    /// <summary>
    /// Push new user events and queries at once (default true): one sent here, or received here for
    /// the first time, goes out in one extra gossip round to <see cref="GossipNodes"/> random live
    /// members right after the input that brought it, instead of waiting up to
    /// <see cref="GossipInterval"/> for the next scheduled round. Cost: at most one extra round
    /// (GossipNodes datagrams of the waiting broadcasts) per input carrying news; the sends count
    /// against each broadcast's retransmit limit, so nothing is sent more often, only sooner.
    /// Serf agents receive ordinary gossip (they do not push at once themselves). False: events
    /// and queries wait for the scheduled rounds, as in Serf.
    /// </summary>
    public bool EventImmediatePush { get; init; } = true;

    /// <summary>
    /// Push membership news at once (default true): this node's own alive and join intent right after
    /// its join, and the alive of a member new to this node (learned by gossip or by either side of
    /// a push/pull), go out in one extra gossip round to <see cref="GossipNodes"/> random live
    /// members after the input that brought them, instead of waiting up to
    /// <see cref="GossipInterval"/> for the next scheduled round. A joiner is then known across the
    /// cluster about one gossip interval sooner (issue 14: the mixed cluster's convergence). Cost:
    /// at most one extra round per input that brought a new member (GossipNodes datagrams of the
    /// waiting broadcasts, counted against their retransmit limits like any round); updates of known
    /// members wait for the scheduled rounds. False: as Serf, which pushes only on its gossip ticks.
    /// </summary>
    public bool MemberImmediatePush { get; init; } = true;

    /// <summary>Time between anti-entropy push/pulls with one random member (lan: 30 s).</summary>
    public TimeSpan PushPullInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long dead members still receive gossip (lan: 30 s).</summary>
    public TimeSpan GossipToTheDeadTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a failed member is kept (Serf's ReconnectTimeout, 24 h): reaped once failed for
    /// longer, with a member-reap event. Longer: a member that comes back after a long outage is
    /// still known (its returning alive is an ordinary recovery), at the price of listing it failed
    /// that long. Shorter: dead entries go sooner (and <c>serf members</c>-style lists shrink).
    /// </summary>
    public TimeSpan ReconnectTimeout { get; init; } = TimeSpan.FromHours(24);

    /// <summary>How long a member that left is kept (Serf's TombstoneTimeout, 24 h), then reaped with a member-reap event.</summary>
    public TimeSpan TombstoneTimeout { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Time between the reaper's passes (Serf's ReapInterval, 15 s): a member is reaped between its timeout and its timeout plus this.</summary>
    public TimeSpan ReapInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Deadline of a whole TCP exchange (lan: 10 s).</summary>
    public TimeSpan TcpTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest a graceful leave waits for its leave intent and dead-self to be gossiped (Serf's BroadcastTimeout: 5 s).</summary>
    public TimeSpan BroadcastTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest datagram this node assembles (memberlist's UDPBufferSize: 1400).</summary>
    public int PacketBytesMax { get; init; } = 1400;

    /// <summary>Most members kept; news of more is ignored and counted.</summary>
    public int MembersMax { get; init; } = 10_000;

    /// <summary>Seed of the node's random choices (gossip targets, probe order, sequence numbers).</summary>
    public int? RandomSeed { get; init; }

    /// <summary>
    /// LZW-compress what this node sends, as memberlist's <c>EnableCompression</c> (on by default in
    /// Serf): push/pull requests always, datagrams when compression makes them smaller. Received
    /// messages are decompressed either way.
    /// </summary>
    public bool EnableCompression { get; init; } = true;

    /// <summary>The Vivaldi client's tuning (Serf's defaults; Serf agents refuse coordinates of another dimensionality).</summary>
    public Rumor.Core.Coordinates.VivaldiOptions Vivaldi { get; init; } = Rumor.Core.Coordinates.VivaldiOptions.Default;
}
