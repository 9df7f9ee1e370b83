using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Rumor.Core;

namespace Rumor.Hosting;

/// <summary>
/// <see cref="RumorOptions"/> turned into what the transport takes: the node's
/// <see cref="GossipOptions"/> (preset, overrides, tags, seeds), the bind address and the preset's name.
/// </summary>
/// <param name="Options">The protocol options (advertise port 0 is filled in by the transport at bind).</param>
/// <param name="Bind">Where to bind.</param>
/// <param name="Preset">lan, wan or local (lower case).</param>
public sealed record ResolvedRumorOptions(GossipOptions Options, NodeAddress Bind, string Preset)
{
    /// <summary>The seeds given as DNS names (<c>dns:NAME[:PORT]</c>), resolved at the first join and whenever the node rejoins.</summary>
    public IReadOnlyList<DnsSeed> DnsSeeds { get; init; } = [];

    /// <summary>
    /// Resolves <paramref name="options"/>, collecting every problem (each naming its option, as
    /// <c>Rumor:Bind</c> would be written in configuration) instead of stopping at the first.
    /// Null with <paramref name="problems"/> filled when something is wrong.
    /// </summary>
    public static ResolvedRumorOptions? TryResolve(RumorOptions options, out IReadOnlyList<string> problems)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string> found = [];
        GossipOptions baseline = GossipOptions.Lan;
        string preset = (options.Preset ?? string.Empty).Trim().ToLowerInvariant();
        try
        {
            baseline = GossipOptions.Preset(preset);
        }
        catch (ArgumentException)
        {
            found.Add($"Preset '{options.Preset}' is unknown: expected lan, wan or local.");
        }

        NodeAddress bind = ParseAddress(found, "Bind", options.Bind);
        NodeAddress advertise = default;
        if (!string.IsNullOrWhiteSpace(options.Advertise))
        {
            advertise = ParseAddress(found, "Advertise", options.Advertise);
        }
        else if (!bind.IsEmpty)
        {
            advertise = ChooseAdvertiseAddress(found, bind);
        }

        List<NodeAddress> seeds = [];
        List<DnsSeed> dnsSeeds = [];
        for (int i = 0; i < options.Seeds.Count; i++)
        {
            if (DnsSeed.IsDnsSeed(options.Seeds[i]))
            {
                if (DnsSeed.TryParse(options.Seeds[i], out DnsSeed dnsSeed, out string? problem))
                {
                    dnsSeeds.Add(dnsSeed);
                }
                else
                {
                    found.Add($"Seeds[{i}] '{options.Seeds[i]}' is not a DNS seed (dns:NAME[:PORT]): {problem}.");
                }

                continue;
            }

            NodeAddress seed = ParseAddress(found, $"Seeds[{i}]", options.Seeds[i]);
            if (!seed.IsEmpty)
            {
                seeds.Add(seed);
            }
        }

        byte[] metadata = [];
        try
        {
            metadata = Core.Membership.MemberTags.Encode(options.Tags.OrderBy(tag => tag.Key, StringComparer.Ordinal));
        }
        catch (ArgumentException e)
        {
            found.Add("Tags: " + ExceptionText.WithoutParameter(e));
        }

        if (options.LeaveTimeout <= TimeSpan.Zero)
        {
            found.Add($"LeaveTimeout is {options.LeaveTimeout}; it must be positive.");
        }

        if (options.RetryJoinMax is < 0 or > 100_000)
        {
            found.Add($"RetryJoinMax is {options.RetryJoinMax}; it must be from 0 (no retry) to 100000.");
        }

        if (options.RetryJoinInterval < TimeSpan.FromMilliseconds(10) || options.RetryJoinInterval > TimeSpan.FromHours(1))
        {
            found.Add($"RetryJoinInterval is {options.RetryJoinInterval}; it must be from 10 ms to 1 h.");
        }

        if (options.SampleInterval < TimeSpan.FromMilliseconds(50))
        {
            found.Add($"SampleInterval is {options.SampleInterval}; it must be at least 50 ms.");
        }

        if (options.DataDirectory is { } directory && string.IsNullOrWhiteSpace(directory))
        {
            found.Add("DataDirectory is empty; leave it unset to persist nothing.");
        }

        Core.Security.GossipKeyring? keyring = ResolveKeyring(found, options);
        GossipOptions gossip = baseline with
        {
            Keyring = keyring,
            VerifyIncoming = options.VerifyIncoming,
            EncryptOutgoing = options.EncryptOutgoing,
            Name = string.IsNullOrWhiteSpace(options.Name) ? Environment.MachineName : options.Name,
            AdvertiseAddress = advertise,
            Seeds = seeds,
            Metadata = metadata,
            ProbeInterval = options.ProbeInterval ?? baseline.ProbeInterval,
            ProbeTimeout = options.ProbeTimeout ?? baseline.ProbeTimeout,
            IndirectChecks = options.IndirectChecks ?? baseline.IndirectChecks,
            SuspicionMultiplier = options.SuspicionMultiplier ?? baseline.SuspicionMultiplier,
            RetransmitMultiplier = options.RetransmitMultiplier ?? baseline.RetransmitMultiplier,
            GossipInterval = options.GossipInterval ?? baseline.GossipInterval,
            GossipFanout = options.GossipFanout ?? baseline.GossipFanout,
            NetworkCoordinates = options.NetworkCoordinates ?? baseline.NetworkCoordinates,
            ProximityGossip = options.ProximityGossip ?? baseline.ProximityGossip,
            ProximityUniformShare = options.ProximityUniformShare ?? baseline.ProximityUniformShare,
            ProximityCandidates = options.ProximityCandidates ?? baseline.ProximityCandidates,
            PushPullInterval = options.PushPullInterval ?? baseline.PushPullInterval,
            StreamTimeout = options.StreamTimeout ?? baseline.StreamTimeout,
            PacketBudgetBytes = options.PacketBudgetBytes ?? baseline.PacketBudgetBytes,
            DeadMemberRetention = options.DeadMemberRetention ?? baseline.DeadMemberRetention,
            StateGossipInterval = options.StateGossipInterval ?? baseline.StateGossipInterval,
            KeyMaxBytes = options.KeyMaxBytes ?? baseline.KeyMaxBytes,
            ValueMaxBytes = options.ValueMaxBytes ?? baseline.ValueMaxBytes,
            Zone = options.Zone ?? baseline.Zone,
            FailureDetector = options.FailureDetector ?? baseline.FailureDetector,
        };

        // The transport fills an empty advertise address or port 0 at bind: check the rest with a stand-in.
        GossipOptions check = gossip.AdvertiseAddress.IsEmpty || gossip.AdvertiseAddress.Port == 0
            ? gossip with { AdvertiseAddress = NodeAddress.From(IPAddress.Loopback, 1) }
            : gossip;
        found.AddRange(check.Validate());
        problems = found;
        return found.Count == 0 ? new ResolvedRumorOptions(gossip, bind, preset) { DnsSeeds = dnsSeeds } : null;
    }

    /// <summary>As <see cref="TryResolve"/>, throwing a <see cref="GossipOptionsException"/> listing every problem.</summary>
    public static ResolvedRumorOptions Resolve(RumorOptions options) =>
        TryResolve(options, out IReadOnlyList<string> problems) ?? throw new GossipOptionsException(problems);

    /// <summary>The keyring from EncryptKey and KeyringFile (a JSON array of base64 keys, Serf's format); null for plaintext.</summary>
    private static Core.Security.GossipKeyring? ResolveKeyring(List<string> problems, RumorOptions options)
    {
        List<byte[]> keys = [];
        if (!string.IsNullOrWhiteSpace(options.EncryptKey))
        {
            try
            {
                keys.Add(Core.Security.GossipKeyring.ParseKey(options.EncryptKey));
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                problems.Add("EncryptKey: " + MessageOf(e));
            }
        }

        if (!string.IsNullOrWhiteSpace(options.KeyringFile))
        {
            try
            {
                string[] texts = System.Text.Json.JsonSerializer.Deserialize(File.ReadAllText(options.KeyringFile), HostingJsonContext.Default.StringArray) ?? [];
                foreach (string text in texts)
                {
                    keys.Add(Core.Security.GossipKeyring.ParseKey(text));
                }

                if (texts.Length == 0)
                {
                    problems.Add($"KeyringFile '{options.KeyringFile}' holds no key: expected a JSON array of base64 keys.");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or FormatException or ArgumentException)
            {
                problems.Add($"KeyringFile '{options.KeyringFile}': {MessageOf(e)}");
            }
        }

        if (keys.Count == 0)
        {
            return null;
        }

        try
        {
            return new Core.Security.GossipKeyring(keys, options.ClusterLabel ?? string.Empty);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            problems.Add("Encryption: " + MessageOf(e));
            return null;
        }
    }

    private static string MessageOf(Exception e) => e is ArgumentException argument ? ExceptionText.WithoutParameter(argument) : e.Message;

    private static NodeAddress ParseAddress(List<string> problems, string option, string? text)
    {
        if (text is not null && NodeAddress.TryParse(text.Trim(), out NodeAddress address))
        {
            return address;
        }

        problems.Add($"{option} '{text}' is not an address: expected IPv4:port (127.0.0.1:7946) or [IPv6]:port ([::1]:7946).");
        return default;
    }

    /// <summary>
    /// When bound to every interface (0.0.0.0 or [::]) the bind address means nothing to others:
    /// advertise this host's first usable address of the same family instead, as memberlist does.
    /// Otherwise leave it empty: the transport advertises the bound address.
    /// </summary>
    private static NodeAddress ChooseAdvertiseAddress(List<string> problems, NodeAddress bind)
    {
        IPAddress ip = bind.ToIPAddress();
        if (!ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any))
        {
            return default;
        }

        AddressFamily family = ip.AddressFamily;
        IPAddress? chosen = NetworkInterface.GetAllNetworkInterfaces()
            .Where(nic => nic.OperationalStatus == OperationalStatus.Up && nic.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(nic => nic.GetIPProperties().UnicastAddresses)
            .Select(unicast => unicast.Address)
            .FirstOrDefault(address => address.AddressFamily == family && !address.IsIPv6LinkLocal && !IPAddress.IsLoopback(address));
        if (chosen is null)
        {
            problems.Add($"Bind {bind} listens on every interface and this host has no other address to advertise: set Advertise.");
            return default;
        }

        return NodeAddress.From(chosen, bind.Port);
    }
}
