namespace Rumor.Agent.Tests;

/// <summary>The API's enums (Rumor.Client) against the core's: the agent maps them by name, so every core value needs its twin.</summary>
public sealed class ApiMappingTests
{
    [Fact]
    public void Every_core_enum_value_has_an_api_twin()
    {
        AssertSameNames<Rumor.Core.Membership.MemberState, Rumor.Client.MemberState>();
        AssertSameNames<Rumor.Core.MemberChangeKind, Rumor.Client.MemberChangeKind>();
        AssertSameNames<Rumor.Core.FailureDetection.VerdictKind, Rumor.Client.VerdictKind>();
        AssertSameNames<Rumor.Core.FailureDetection.VerdictSource, Rumor.Client.VerdictSource>();
        AssertSameNames<Rumor.Core.FailureDetection.ProbeOutcome, Rumor.Client.ProbeOutcome>();
    }

    private static void AssertSameNames<TCore, TApi>()
        where TCore : struct, Enum
        where TApi : struct, Enum
    {
        Assert.Equal(Enum.GetNames<TCore>().Order(StringComparer.Ordinal), Enum.GetNames<TApi>().Order(StringComparer.Ordinal));
        foreach (TCore value in Enum.GetValues<TCore>())
        {
            Assert.Equal(value.ToString(), ApiMapping.MapEnum<TCore, TApi>(value).ToString());
        }
    }
}
