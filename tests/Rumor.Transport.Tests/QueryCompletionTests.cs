using Rumor.Core;
using Rumor.Core.Events;
using Rumor.Transport.Tests.Support;

namespace Rumor.Transport.Tests;

/// <summary>
/// <see cref="GossipTransport.QueryAsync"/> completes every query on the loop. The agent used to wait
/// for the query's completion through the bounded event channel and, past one second after the
/// deadline, to ask the node, which keeps only QueriesMax results: under 1,000 concurrent queries
/// (<c>bench agent-load</c>) a finished query's completion could lag or be dropped and its result be
/// forgotten, and the agent answered a bare 500 ("Query N is no longer known to the node").
/// </summary>
public sealed class QueryCompletionTests
{
    [Fact]
    public async Task Every_query_gets_its_result_although_nobody_reads_the_events_and_the_node_forgot_the_oldest()
    {
        // QueriesMax 3: the node keeps three results and refuses a fourth pending query; an event
        // channel of one entry that nobody reads: every completion after the first is dropped there.
        await using GossipTransport node = await GossipTransport.StartAsync(
            LocalCluster.FastOptions("asker") with { QueriesMax = 3 },
            new GossipTransportSettings { EventQueueMax = 1 });

        List<QueryResult> results = [];
        for (int wave = 0; wave < 8; wave++)
        {
            // Nobody answers these (no handler for the name on the only member): each ends at its deadline.
            Task<QueryResult>[] queries = [.. Enumerable.Range(0, 3).Select(i => node.QueryAsync("nobody.answers", [], null, TimeSpan.FromMilliseconds(100 + (30 * i))))];
            results.AddRange(await Task.WhenAll(queries).WaitAsync(TimeSpan.FromSeconds(30)));
        }

        Assert.Equal(24, results.Select(r => r.Id).Distinct().Count());
        Assert.All(results, result =>
        {
            Assert.True(result.Done, $"query {result.Id} returned before it was done");
            Assert.Equal("nobody.answers", result.Name);
            Assert.Empty(result.Responses);
            Assert.Equal(["asker"], result.Missing);
        });

        // The two ways the agent used to rely on would have lost them: the channel dropped the
        // completions, and the node no longer knows the oldest queries.
        Assert.True(node.Counters.EventsDropped >= 20, $"the event channel dropped {node.Counters.EventsDropped} events; the test needs it to drop the completions");
        Assert.Null(await node.InvokeAsync(n => n.GetQueryResult(results[0].Id)));
    }

    [Fact]
    public async Task A_query_pending_when_the_transport_stops_fails_with_ObjectDisposedException()
    {
        GossipTransport node = await GossipTransport.StartAsync(LocalCluster.FastOptions("stopping"));
        Task<QueryResult> pending = node.QueryAsync("nobody.answers", [], null, TimeSpan.FromMinutes(5));
        await node.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
