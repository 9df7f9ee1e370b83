namespace Rumor.Core.Tests;

public class GossipOptionsTests
{
    private static readonly NodeAddress Address = NodeAddress.Parse("10.0.0.1:7946");

    public static readonly TheoryData<string> PresetNames = new() { "lan", "wan", "local", "LAN", "Wan" };

    [Theory]
    [MemberData(nameof(PresetNames))]
    public void Presets_validate_once_identity_is_set(string preset)
    {
        GossipOptions options = GossipOptions.Preset(preset) with { Name = "n1", AdvertiseAddress = Address };
        Assert.Empty(options.Validate());
        options.ThrowIfInvalid();
    }

    [Fact]
    public void Presets_differ_where_memberlist_differs()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), GossipOptions.Lan.ProbeInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), GossipOptions.Wan.ProbeInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(200), GossipOptions.Local.ProbeTimeout);
        Assert.Equal(1400, GossipOptions.Lan.PacketBudgetBytes);
        Assert.Throws<ArgumentException>(() => GossipOptions.Preset("mars"));
    }

    [Fact]
    public void Preset_without_identity_names_Name_and_AdvertiseAddress()
    {
        IReadOnlyList<string> problems = GossipOptions.Lan.Validate();
        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("Name", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("AdvertiseAddress", StringComparison.Ordinal));
    }

    public static readonly TheoryData<string, Func<GossipOptions, GossipOptions>> BadOptions = new()
    {
        { "Name", o => o with { Name = string.Empty } },
        { "Name", o => o with { Name = new string('é', 128) } },
        { "AdvertiseAddress", o => o with { AdvertiseAddress = default } },
        { "AdvertiseAddress", o => o with { AdvertiseAddress = new NodeAddress(0x0A000001, 0) } },
        { "ProbeTimeout", o => o with { ProbeTimeout = TimeSpan.FromSeconds(1) } },
        { "ProbeTimeout", o => o with { ProbeTimeout = TimeSpan.FromSeconds(2) } },
        { "ProbeTimeout", o => o with { ProbeTimeout = TimeSpan.Zero } },
        { "ProbeInterval", o => o with { ProbeInterval = TimeSpan.Zero } },
        { "IndirectChecks", o => o with { IndirectChecks = -1 } },
        { "SuspicionMultiplier", o => o with { SuspicionMultiplier = 0 } },
        { "SuspicionMaxTimeoutMultiplier", o => o with { SuspicionMaxTimeoutMultiplier = 0 } },
        { "RetransmitMultiplier", o => o with { RetransmitMultiplier = 0 } },
        { "GossipInterval", o => o with { GossipInterval = TimeSpan.Zero } },
        { "GossipFanout", o => o with { GossipFanout = 0 } },
        { "GossipToTheDeadTime", o => o with { GossipToTheDeadTime = TimeSpan.FromSeconds(-1) } },
        { "PushPullInterval", o => o with { PushPullInterval = TimeSpan.Zero } },
        { "SeedContactEveryRounds", o => o with { SeedContactEveryRounds = -1 } },
        { "StreamTimeout", o => o with { StreamTimeout = TimeSpan.Zero } },
        { "PacketBudgetBytes", o => o with { PacketBudgetBytes = 100 } },
        { "PacketBudgetBytes", o => o with { PacketBudgetBytes = 70_000 } },
        { "StreamMaxBytes", o => o with { StreamMaxBytes = 1000 } },
        { "MetadataMaxBytes", o => o with { MetadataMaxBytes = 5000 } },
        { "Metadata", o => o with { Metadata = new byte[513] } },
        { "DeadMemberRetention", o => o with { DeadMemberRetention = TimeSpan.Zero } },
        { "MembersMax", o => o with { MembersMax = 1 } },
        { "BroadcastQueueMax", o => o with { BroadcastQueueMax = 0 } },
        { "Seeds", o => o with { Seeds = [new NodeAddress(0x0A000002, 0)] } },
        { "ProximityUniformShare", o => o with { ProximityUniformShare = 0 } },
        { "ProximityUniformShare", o => o with { ProximityUniformShare = 1.5 } },
        { "ProximityUniformShare", o => o with { ProximityUniformShare = double.NaN } },
        { "ProximityCandidates", o => o with { ProximityCandidates = 1 } },
        { "ProximityCandidates", o => o with { ProximityCandidates = 33 } },
        { "ProximityGossip", o => o with { ProximityGossip = true, NetworkCoordinates = false } },
        { "Vivaldi.Dimensionality", o => o with { Vivaldi = new Coordinates.VivaldiOptions { Dimensionality = 17 } } },
        { "Vivaldi.ErrorGain", o => o with { Vivaldi = new Coordinates.VivaldiOptions { ErrorGain = double.PositiveInfinity } } },
        { "Vivaldi.LatencyFilterSize", o => o with { Vivaldi = new Coordinates.VivaldiOptions { LatencyFilterSize = 0 } } },
        { "Vivaldi", o => o with { Vivaldi = null! } },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Each_bad_option_gives_one_problem_naming_it(string option, Func<GossipOptions, GossipOptions> spoil)
    {
        GossipOptions options = spoil(GossipOptions.Lan with { Name = "n1", AdvertiseAddress = Address });
        string problem = Assert.Single(options.Validate());
        Assert.StartsWith(option, problem, StringComparison.Ordinal);
        GossipOptionsException error = Assert.Throws<GossipOptionsException>(options.ThrowIfInvalid);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ThrowIfInvalid_lists_every_problem()
    {
        GossipOptions options = GossipOptions.Lan with
        {
            Name = string.Empty,
            ProbeTimeout = TimeSpan.FromSeconds(3),
            GossipFanout = 0,
            PacketBudgetBytes = 100,
        };
        IReadOnlyList<string> problems = options.Validate();
        Assert.Equal(5, problems.Count); // the four above and the missing AdvertiseAddress
        GossipOptionsException error = Assert.Throws<GossipOptionsException>(options.ThrowIfInvalid);
        Assert.Equal(problems, error.Problems);
        foreach (string option in new[] { "Name", "AdvertiseAddress", "ProbeTimeout", "GossipFanout", "PacketBudgetBytes" })
        {
            Assert.Contains(option, error.Message, StringComparison.Ordinal);
        }

        foreach (string problem in problems)
        {
            Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        }
    }
}
