namespace Rumor.Core.Tests.Events;

public class EventOptionsTests
{
    private static readonly GossipOptions Valid = GossipOptions.Lan with { Name = "a", AdvertiseAddress = NodeAddress.Parse("10.0.0.1:7946") };

    public static readonly TheoryData<string, Func<GossipOptions, GossipOptions>> BadOptions = new()
    {
        { "BroadcastLowerClassShare", o => o with { BroadcastLowerClassShare = 0.95 } },
        { "BroadcastLowerClassShare", o => o with { BroadcastLowerClassShare = double.NaN } },
        { "EventNameMaxBytes", o => o with { EventNameMaxBytes = 256 } },
        { "EventPayloadMaxBytes", o => o with { EventPayloadMaxBytes = -1 } },
        { "EventCoalesceWindow", o => o with { EventCoalesceWindow = TimeSpan.FromSeconds(-1) } },
        { "EventRetention", o => o with { EventRetention = TimeSpan.Zero } },
        { "EventLogMax", o => o with { EventLogMax = 0 } },
        { "EventSyncInterval", o => o with { EventSyncInterval = TimeSpan.Zero } },
        { "EventRepairMaxMessages", o => o with { EventRepairMaxMessages = -1 } },
        { "QueryPayloadMaxBytes", o => o with { QueryPayloadMaxBytes = 70_000 } },
        { "QueryFilterMaxBytes", o => o with { QueryFilterMaxBytes = -5 } },
        { "QueryResponseMaxBytes", o => o with { QueryResponseMaxBytes = 70_000 } },
        { "QueryResponseCopies", o => o with { QueryResponseCopies = 0 } },
        { "QueryTimeoutMax", o => o with { QueryTimeoutMax = TimeSpan.FromDays(60) } },
        { "QueriesMax", o => o with { QueriesMax = 0 } },
    };

    [Fact]
    public void The_defaults_are_valid() => Assert.Empty(Valid.Validate());

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Each_bad_event_option_gives_one_problem_naming_it(string option, Func<GossipOptions, GossipOptions> spoil)
    {
        string problem = Assert.Single(spoil(Valid).Validate());
        Assert.StartsWith(option, problem, StringComparison.Ordinal);
    }
}
