using System.Net;
using System.Text.Json;
using Rumor.Client;

namespace Rumor.Agent.Tests;

/// <summary>
/// A client tells a wrong address from a missing thing (issue 13: errors must blame the right
/// thing): the agent's 404 for a path it does not serve has its own problem type, so
/// <see cref="RumorApiException.NotAnAgent"/> is set for it (rumor exits 3 and names the address),
/// while a 404 about a member or key named sets <see cref="RumorApiException.NotFound"/> (exit 4).
/// </summary>
public sealed class ErrorKindTests
{
    [Fact]
    public async Task An_unknown_path_has_the_no_such_endpoint_type_and_an_unknown_member_does_not()
    {
        await using RumorAgent agent = await Agents.StartAsync("kinds-a");
        using HttpClient http = Agents.Client(agent);

        using HttpResponseMessage path = await http.GetAsync("/v1/nothing");
        using HttpResponseMessage member = await http.GetAsync("/v1/members/ghost");

        Assert.Equal(HttpStatusCode.NotFound, path.StatusCode);
        Assert.Equal(RumorApiException.NoSuchEndpointType, JsonDocument.Parse(await path.Content.ReadAsStringAsync()).RootElement.GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.NotFound, member.StatusCode);
        Assert.NotEqual(RumorApiException.NoSuchEndpointType, JsonDocument.Parse(await member.Content.ReadAsStringAsync()).RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public async Task The_client_calls_a_wrong_prefix_not_an_agent_and_a_missing_member_not_found()
    {
        await using RumorAgent agent = await Agents.StartAsync("kinds-b");
        using RumorClient right = new(agent.Url);
        using RumorClient wrongPrefix = new(new Uri(agent.Url, "/rumor/"));

        RumorApiException missing = await Assert.ThrowsAsync<RumorApiException>(() => right.GetMemberAsync("ghost"));
        RumorApiException wrong = await Assert.ThrowsAsync<RumorApiException>(() => wrongPrefix.GetMembersAsync());

        Assert.True(missing.NotFound);
        Assert.False(missing.NotAnAgent);
        Assert.True(wrong.NotAnAgent);
        Assert.False(wrong.NotFound);
        Assert.Contains("This agent serves no GET /rumor/v1/members", wrong.Message, StringComparison.Ordinal);
    }
}
