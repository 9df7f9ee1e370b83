using Rumor.Agent;

namespace Rumor.Client.Tests;

/// <summary>Health, status, members, member detail, join and leave through <see cref="RumorClient"/>.</summary>
public sealed class MembershipClientTests
{
    [Fact]
    public async Task Health_status_members_and_detail_are_typed()
    {
        await using RumorAgent a = await Agents.StartAsync("cl-a");
        await using RumorAgent b = await Agents.StartAsync("cl-b", a, tags: new() { ["role"] = "web" });
        using RumorClient client = Agents.Client(a);
        await Agents.WaitForAliveAsync(client, 2);

        HealthDto health = await client.GetHealthAsync();
        StatusDto status = await client.GetStatusAsync();
        IReadOnlyList<MemberDto> members = await client.GetMembersAsync();
        MemberDetailDto detail = await client.GetMemberAsync("cl-b");

        Assert.Equal("ok", health.Status);
        Assert.Equal("cl-a", status.Name);
        Assert.Equal("local", status.Preset);
        Assert.Equal(a.Node.Address.ToString(), status.Address);
        Assert.Equal(2, status.Members.Alive);
        Assert.Equal(16, status.Convergence.Checksum.Length);
        Assert.Equal(["cl-a", "cl-b"], members.Select(m => m.Name).Order(StringComparer.Ordinal));
        Assert.True(members.Single(m => m.Name == "cl-a").IsLocal);
        Assert.All(members, m => Assert.Equal(MemberState.Alive, m.State));
        Assert.Equal("cl-b", detail.Name);
        Assert.Equal("web", detail.Tags["role"]);
        Assert.False(detail.IsLocal);
        Assert.Empty(await client.GetMembersAsync(MemberState.Dead));
    }

    [Fact]
    public async Task An_unknown_member_is_a_404_problem()
    {
        await using RumorAgent a = await Agents.StartAsync("cl-404");
        using RumorClient client = Agents.Client(a);

        RumorApiException e = await Assert.ThrowsAsync<RumorApiException>(() => client.GetMemberAsync("nobody"));

        Assert.Equal(404, e.Status);
        Assert.Equal("Not found", e.Title);
        Assert.Equal("No member named 'nobody' is known to cl-404.", e.Detail);
        Assert.Equal(e.Detail, e.Message);
        Assert.Equal("GET", e.Method);
        Assert.Equal("v1/members/nobody", e.Path);
    }

    [Fact]
    public async Task Join_through_a_seed_then_leave()
    {
        await using RumorAgent a = await Agents.StartAsync("cl-join-a");
        await using RumorAgent b = await Agents.StartAsync("cl-join-b");
        using RumorClient client = Agents.Client(b);

        JoinResponse joined = await client.JoinAsync([a.Node.Address.ToString()]);
        Assert.Equal(a.Node.Address.ToString(), Assert.Single(joined.Joined).Seed);
        Assert.Empty(joined.Failed);
        await Agents.WaitForAliveAsync(client, 2);

        LeaveResponse left = await client.LeaveAsync(TimeSpan.FromSeconds(2));
        Assert.True(left.Left);
    }

    [Fact]
    public async Task A_join_no_seed_answers_is_a_502_problem_listing_the_failures()
    {
        await using RumorAgent a = await Agents.StartAsync("cl-join-fail");
        using RumorClient client = Agents.Client(a);

        RumorApiException e = await Assert.ThrowsAsync<RumorApiException>(() => client.JoinAsync(["127.0.0.1:1"]));

        Assert.Equal(502, e.Status);
        Assert.Equal("Join failed", e.Title);
        Assert.StartsWith("No seed answered: 127.0.0.1:1: ", e.Detail, StringComparison.Ordinal);
        Assert.Equal("127.0.0.1:1", e.Problem!.Extensions!["failed"][0].GetProperty("seed").GetString());
    }

    [Fact]
    public async Task A_bad_seed_is_a_400_problem()
    {
        await using RumorAgent a = await Agents.StartAsync("cl-join-bad");
        using RumorClient client = Agents.Client(a);

        RumorApiException e = await Assert.ThrowsAsync<RumorApiException>(() => client.JoinAsync(["not an address"]));

        Assert.Equal(400, e.Status);
        Assert.Equal("Bad request", e.Title);
        Assert.Contains("seed 'not an address' is not an address", e.Detail, StringComparison.Ordinal);
    }
}
