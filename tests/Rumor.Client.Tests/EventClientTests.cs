using Rumor.Agent;

namespace Rumor.Client.Tests;

/// <summary>User events, the whole stream, queries and aggregates through <see cref="RumorClient"/>.</summary>
public sealed class EventClientTests
{
    [Fact]
    public async Task An_event_sent_is_listed_and_streamed_typed()
    {
        await using RumorAgent a = await Agents.StartAsync("ev-a");
        using RumorClient client = Agents.Client(a);
        await using RumorEventStream<StreamEvent> stream = await client.StreamAsync(["event", "kv"]);
        await using IAsyncEnumerator<StreamEvent> items = stream.GetAsyncEnumerator();

        EventSentDto sent = await client.SendEventAsync(new EventSendRequest("deploy", "v42", null, null));
        await client.SetKeyAsync("k", "v");
        StreamEvent user = await Agents.NextAsync(items, e => e.Type == StreamEvent.UserType);
        StreamEvent kv = await Agents.NextAsync(items, e => e.Type == StreamEvent.KvType);
        IReadOnlyList<EventDto> listed = await client.GetEventsAsync(limit: 10);

        Assert.Equal("deploy", sent.Name);
        Assert.StartsWith("ev-a/", sent.Id, StringComparison.Ordinal);
        Assert.Equal(sent.Id, user.UserEvent!.Id);
        Assert.Equal("v42", user.UserEvent.Payload);
        Assert.Same(user.UserEvent, user.Data);
        Assert.Equal("k", kv.Kv!.Key);
        Assert.Null(kv.Member);
        EventDto only = Assert.Single(listed);
        Assert.Equal(("deploy", "ev-a", "v42"), (only.Name, only.Origin, only.Payload));
    }

    [Fact]
    public async Task The_stream_carries_member_changes()
    {
        await using RumorAgent a = await Agents.StartAsync("st-a");
        using RumorClient client = Agents.Client(a);
        await using RumorEventStream<StreamEvent> stream = await client.StreamAsync(["member"]);
        await using IAsyncEnumerator<StreamEvent> items = stream.GetAsyncEnumerator();

        await using RumorAgent b = await Agents.StartAsync("st-b", a);
        StreamEvent joined = await Agents.NextAsync(items, e => e.Member?.Name == "st-b");

        Assert.Equal(StreamEvent.MemberType, joined.Type);
        Assert.Equal(MemberChangeKind.Joined, joined.Member!.Kind);
        Assert.Equal(MemberState.Alive, joined.Member.State);
        Assert.Equal(b.Node.Address.ToString(), joined.Member.Address);
    }

    [Fact]
    public async Task An_unknown_stream_kind_is_a_400_problem_before_the_stream()
    {
        await using RumorAgent a = await Agents.StartAsync("st-bad");
        using RumorClient client = Agents.Client(a);

        RumorApiException e = await Assert.ThrowsAsync<RumorApiException>(() => client.StreamAsync(["gossip"]));

        Assert.Equal(400, e.Status);
        Assert.Equal("kind 'gossip' is not streamed: expected a comma-separated list of member, event, kv.", e.Detail);
    }

    [Fact]
    public async Task A_query_gets_typed_answers_and_a_bad_one_a_problem()
    {
        await using RumorAgent a = await Agents.StartAsync("q-a");
        await using RumorAgent b = await Agents.StartAsync("q-b", a);
        using RumorClient client = Agents.Client(a);
        await Agents.WaitForAliveAsync(client, 2);

        QueryResultDto result = await client.QueryAsync(new QueryPostRequest("rumor.ping", null, null, null, 5000));
        RumorApiException bad = await Assert.ThrowsAsync<RumorApiException>(() => client.QueryAsync(new QueryPostRequest(null, null, null, null, null)));

        Assert.Equal("rumor.ping", result.Name);
        Assert.Equal(["q-a", "q-b"], result.Responses.Select(r => r.From).Order(StringComparer.Ordinal));
        Assert.All(result.Responses, r => Assert.Equal(r.From, r.Payload));
        Assert.True(result.Done);
        Assert.Empty(result.Missing);
        Assert.Equal(400, bad.Status);
        Assert.StartsWith("name is missing", bad.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Aggregates_are_listed_and_estimated()
    {
        await using RumorAgent a = await Agents.StartAsync("agg-a");
        using RumorClient client = Agents.Client(a);
        await client.SetKeyAsync("load", "0.5");

        RumorApiException notRunning = await Assert.ThrowsAsync<RumorApiException>(() => client.GetAggregateAsync("load"));
        AggregateDto started = await client.StartAggregateAsync(new AggregateStartRequest("load", "min", 60_000));
        AggregateDto estimate = await client.GetAggregateAsync("load");
        IReadOnlyList<string> keys = await client.GetAggregateKeysAsync();
        IReadOnlyList<AggregateDto> listed = await client.ListAggregatesAsync();
        AggregateStoppedDto stopped = await client.StopAggregateAsync("load");

        Assert.Equal(404, notRunning.Status);
        Assert.Equal("min", started.Function);
        Assert.Equal("load", estimate.Key);
        Assert.Equal("agg-a", estimate.Initiator);
        Assert.Equal("number", estimate.Input);
        Assert.Contains("load", keys);
        Assert.Equal("min", Assert.Single(listed).Function);
        Assert.True(stopped.Stopped);
        Assert.Empty(await client.ListAggregatesAsync());
    }
}
