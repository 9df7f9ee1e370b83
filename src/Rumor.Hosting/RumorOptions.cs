using Rumor.Core;

namespace Rumor.Hosting;

/// <summary>
/// How a hosted Rumor node runs, as bound from configuration (section <see cref="SectionName"/> by
/// default; JSON keys are these property names, case-insensitive). Addresses are text
/// (<c>127.0.0.1:7946</c>, <c>[::1]:7946</c>) so that a bad one is reported with the option's name
/// when the host starts. A preset gives the protocol timings; every nullable property below
/// overrides the preset's value when set. Checked at start by <see cref="RumorOptionsValidator"/>.
/// </summary>
public sealed class RumorOptions
{
    /// <summary>The configuration section <c>AddRumor(IConfiguration)</c> expects by convention.</summary>
    public const string SectionName = "Rumor";

    /// <summary>This member's unique, stable name. Default: the host name.</summary>
    public string? Name { get; set; }

    /// <summary>Where to listen for UDP and TCP (same port). Default <c>0.0.0.0:7946</c>; port 0 picks a free one.</summary>
    public string Bind { get; set; } = "0.0.0.0:7946";

    /// <summary>The address others reach us at. Default: the bind address, or this host's first address when binding 0.0.0.0 / [::].</summary>
    public string? Advertise { get; set; }

    /// <summary>Seed addresses to join through at start. Empty: start a cluster of one (others join us).</summary>
    public List<string> Seeds { get; set; } = [];

    /// <summary>Protocol timings: <c>lan</c> (default), <c>wan</c> or <c>local</c> (memberlist's presets).</summary>
    public string Preset { get; set; } = "lan";

    /// <summary>Tags others see (member metadata as key=value lines).</summary>
    public Dictionary<string, string> Tags { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Where the identity file is kept (generation and incarnation survive restarts). Null: nothing persisted.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>When true and no seed answers the first join, the host is stopped (the CLI agent exits 1). Default false: keep running alone and log it.</summary>
    public bool JoinRequired { get; set; }

    /// <summary>
    /// How many times the first join is tried again when no seed answers (default 0: once only).
    /// The waits double from <see cref="RetryJoinInterval"/> up to <see cref="RetryJoinBackoffMax"/>,
    /// so seeds that start later (a cluster booting in any order) are still joined.
    /// </summary>
    public int RetryJoinMax { get; set; }

    /// <summary>The wait before the first retry of the join (default 1 s); each further wait doubles, at most <see cref="RetryJoinBackoffMax"/>.</summary>
    public TimeSpan RetryJoinInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two join attempts (30 s).</summary>
    public static readonly TimeSpan RetryJoinBackoffMax = TimeSpan.FromSeconds(30);

    /// <summary>The wait before retry <paramref name="attempt"/> (1-based): <see cref="RetryJoinInterval"/> × 2^(attempt−1), at most <see cref="RetryJoinBackoffMax"/>.</summary>
    public TimeSpan RetryJoinWait(int attempt)
    {
        double factor = Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        double ms = Math.Min(RetryJoinInterval.TotalMilliseconds * factor, RetryJoinBackoffMax.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(ms);
    }

    /// <summary>Leave gracefully when the host stops (default true). False stops abruptly: the others see a failure.</summary>
    public bool LeaveOnStop { get; set; } = true;

    /// <summary>How long a graceful stop waits for the leave announcement to spread (default 5 s).</summary>
    public TimeSpan LeaveTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How old a sample of the node's counters and member states a metrics collection may reuse (default 1 s); older, it takes a fresh one. Nothing samples on a timer.</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Overrides the preset's <see cref="GossipOptions.ProbeInterval"/>.</summary>
    public TimeSpan? ProbeInterval { get; set; }

    /// <summary>Overrides the preset's <see cref="GossipOptions.ProbeTimeout"/>.</summary>
    public TimeSpan? ProbeTimeout { get; set; }

    /// <summary>Overrides the preset's <see cref="GossipOptions.IndirectChecks"/>.</summary>
    public int? IndirectChecks { get; set; }

    /// <summary>Overrides the preset's <see cref="GossipOptions.SuspicionMultiplier"/>.</summary>
    public int? SuspicionMultiplier { get; set; }

    /// <summary>Overrides the preset's <see cref="GossipOptions.RetransmitMultiplier"/>.</summary>
    public int? RetransmitMultiplier { get; set; }

    /// <summary>Overrides the preset's <see cref="GossipOptions.GossipInterval"/>.</summary>
    public TimeSpan? GossipInterval { get; set; }

    /// <summary>Overrides the preset's <see cref="GossipOptions.GossipFanout"/>.</summary>
    public int? GossipFanout { get; set; }

    /// <summary>Overrides <see cref="GossipOptions.NetworkCoordinates"/> (default on: acks carry Vivaldi coordinates).</summary>
    public bool? NetworkCoordinates { get; set; }

    /// <summary>Overrides <see cref="GossipOptions.ProximityGossip"/> (default off).</summary>
    public bool? ProximityGossip { get; set; }

    /// <summary>Overrides <see cref="GossipOptions.ProximityUniformShare"/> (default 0.25).</summary>
    public double? ProximityUniformShare { get; set; }

    /// <summary>Overrides <see cref="GossipOptions.ProximityCandidates"/> (default 4).</summary>
    public int? ProximityCandidates { get; set; }

    /// <summary>Overrides the preset's <see cref="GossipOptions.PushPullInterval"/>.</summary>
    public TimeSpan? PushPullInterval { get; set; }

    /// <summary>Overrides the preset's <see cref="GossipOptions.StreamTimeout"/>.</summary>
    public TimeSpan? StreamTimeout { get; set; }

    /// <summary>Overrides the preset's <see cref="GossipOptions.PacketBudgetBytes"/>.</summary>
    public int? PacketBudgetBytes { get; set; }

    /// <summary>Overrides the preset's <see cref="GossipOptions.DeadMemberRetention"/>.</summary>
    public TimeSpan? DeadMemberRetention { get; set; }

    /// <summary>Overrides the preset's <see cref="GossipOptions.StateGossipInterval"/>.</summary>
    public TimeSpan? StateGossipInterval { get; set; }

    /// <summary>Overrides the preset's <see cref="GossipOptions.KeyMaxBytes"/>.</summary>
    public int? KeyMaxBytes { get; set; }

    /// <summary>Overrides the preset's <see cref="GossipOptions.ValueMaxBytes"/>.</summary>
    public int? ValueMaxBytes { get; set; }

    /// <summary>Overrides the preset's <see cref="GossipOptions.Zone"/>.</summary>
    public string? Zone { get; set; }

    /// <summary>Overrides the preset's <see cref="GossipOptions.FailureDetector"/> (<c>Swim</c> or <c>PhiAccrual</c>).</summary>
    public FailureDetectorKind? FailureDetector { get; set; }

    /// <summary>Seed of the node's random source (tests); null draws one from the OS.</summary>
    public ulong? RandomSeed { get; set; }

    /// <summary>Gossip encryption key: base64 of 16, 24 or 32 bytes (`rumor keygen`). Unset with no KeyringFile: plaintext gossip.</summary>
    public string? EncryptKey { get; set; }

    /// <summary>A keyring file: a JSON array of base64 keys, the first primary (Serf's format). Keys from it follow EncryptKey.</summary>
    public string? KeyringFile { get; set; }

    /// <summary>Cluster label authenticated with every encrypted packet (default none).</summary>
    public string? ClusterLabel { get; set; }

    /// <summary>With encryption: refuse plaintext (default true). False accepts it while migrating; changeable at run time (RumorNode.SetGossipEncryptionModeAsync).</summary>
    public bool VerifyIncoming { get; set; } = true;

    /// <summary>With encryption: seal what is sent (default true). False sends plaintext (the first migration step); changeable at run time.</summary>
    public bool EncryptOutgoing { get; set; } = true;

    /// <summary>
    /// Copies every setting onto <paramref name="target"/> (the agent hands its loaded settings to
    /// <c>AddRumor(Action&lt;RumorOptions&gt;)</c> this way). Seeds and tags are copied, not shared.
    /// Written out property by property, without reflection; a test checks that none is forgotten.
    /// </summary>
    public void CopyTo(RumorOptions target)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.Name = Name;
        target.Bind = Bind;
        target.Advertise = Advertise;
        target.Seeds = [.. Seeds];
        target.Preset = Preset;
        target.Tags = new Dictionary<string, string>(Tags, Tags.Comparer);
        target.DataDirectory = DataDirectory;
        target.JoinRequired = JoinRequired;
        target.RetryJoinMax = RetryJoinMax;
        target.RetryJoinInterval = RetryJoinInterval;
        target.LeaveOnStop = LeaveOnStop;
        target.LeaveTimeout = LeaveTimeout;
        target.SampleInterval = SampleInterval;
        target.ProbeInterval = ProbeInterval;
        target.ProbeTimeout = ProbeTimeout;
        target.IndirectChecks = IndirectChecks;
        target.SuspicionMultiplier = SuspicionMultiplier;
        target.RetransmitMultiplier = RetransmitMultiplier;
        target.GossipInterval = GossipInterval;
        target.GossipFanout = GossipFanout;
        target.NetworkCoordinates = NetworkCoordinates;
        target.ProximityGossip = ProximityGossip;
        target.ProximityUniformShare = ProximityUniformShare;
        target.ProximityCandidates = ProximityCandidates;
        target.PushPullInterval = PushPullInterval;
        target.StreamTimeout = StreamTimeout;
        target.PacketBudgetBytes = PacketBudgetBytes;
        target.DeadMemberRetention = DeadMemberRetention;
        target.StateGossipInterval = StateGossipInterval;
        target.KeyMaxBytes = KeyMaxBytes;
        target.ValueMaxBytes = ValueMaxBytes;
        target.Zone = Zone;
        target.FailureDetector = FailureDetector;
        target.RandomSeed = RandomSeed;
        target.EncryptKey = EncryptKey;
        target.KeyringFile = KeyringFile;
        target.ClusterLabel = ClusterLabel;
        target.VerifyIncoming = VerifyIncoming;
        target.EncryptOutgoing = EncryptOutgoing;
    }
}
