using Rumor.Benchmarks.AgentLoad;
using Rumor.EndToEnd.Tests.Support;

namespace Rumor.EndToEnd.Tests;

/// <summary>
/// Issue 13 item 1 in the suite: three agent processes; on one, 200 <c>/v1/stream</c> clients that
/// never read, 400 writes of 60 KB values and 1,000 concurrent API calls, then 1,000 concurrent
/// queries (<see cref="AgentLoadScenario"/>, the same code as <c>bench agent-load</c>). The bounds
/// are generous on purpose (a loaded two-core CI machine; the measured figures are in
/// docs/BENCHMARKS.md): what must hold exactly is that no member is declared failed, nothing answers
/// 5xx, every call gets an answer, the silent clients are released when they go, and a refusal
/// past QueriesMax is a 429 naming the option.
/// </summary>
public sealed class LoadTests
{
    /// <summary>The API's 99th percentile during the load (queries wait their 500 ms by design): generous, a loaded CI machine.</summary>
    private static readonly TimeSpan P99Bound = TimeSpan.FromSeconds(60);

    /// <summary>
    /// What the loaded agent may keep resident above its baseline within a minute after the load
    /// (the new keys, warmed pools and JIT code): the memory must come back (a peak of 375-430 MB on
    /// a baseline of about 85 MB; the idle trim, MemoryTrimSlackBytes, returns it; docs/BENCHMARKS.md).
    /// </summary>
    private const long RssBoundBytes = 150L * 1024 * 1024;

    [Fact]
    public Task Three_agents_survive_silent_subscribers_large_writes_and_a_thousand_concurrent_calls_without_a_failure_or_a_5xx() => Cluster.RunAsync(async cluster =>
    {
        DirectoryInfo scratch = Directory.CreateTempSubdirectory("rumor-load-");
        try
        {
            // The load must reach the node: the per-client rate limit off, room for the 200 silent clients and the watcher.
            string config = Path.Combine(scratch.FullName, "agent.json");
            await File.WriteAllTextAsync(config, "{\"HttpRateLimit\":0,\"StreamSubscribersMax\":256}");
            // The LAN preset, the agent's default (500 ms probe timeout): the local preset's 200 ms is
            // missed under this load on a loaded two-core machine (docs/BENCHMARKS.md).
            AgentProcess a = await cluster.StartAgentAsync("a", bind: "127.0.13.1:0", http: "127.0.13.1:0", preset: "lan", extra: ["--config", config]);
            AgentProcess b = await cluster.StartAgentAsync("b", join: a.GossipAddress, bind: "127.0.13.2:0", http: "127.0.13.2:0", preset: "lan", extra: ["--config", config]);
            AgentProcess c = await cluster.StartAgentAsync("c", join: a.GossipAddress, bind: "127.0.13.3:0", http: "127.0.13.3:0", preset: "lan", extra: ["--config", config]);
            await cluster.WaitForAllAliveAsync("a", "b", "c");

            AgentLoadResult result = await AgentLoadScenario.RunAsync(
                new LoadAgent("a", a.Process.Id, a.HttpUrl),
                [new LoadAgent("b", b.Process.Id, b.HttpUrl), new LoadAgent("c", c.Process.Id, c.HttpUrl)],
                new AgentLoadSettings { RssReturnBoundBytes = RssBoundBytes });
            string figures = "\n" + result.Describe();

            // No member declared failed, and every view all alive at the end. A suspicion refuted
            // within the suspicion timeout is tolerated here: at a load average of 35-40 on two cores
            // the loaded agent's ack occasionally misses the 500 ms probe timeout and is refuted within
            // half a second (docs/BENCHMARKS.md lists every suspicion the bench saw).
            cluster.Check(result.Failures.Count == 0 && result.NotAliveAtEnd.Count == 0, "a member was declared failed under the load:" + figures);
            cluster.Check(result.ServerErrors == 0, "some calls answered 5xx:" + figures);
            cluster.Check(result.TransportFailures == 0, "some calls got no answer:" + figures);
            cluster.Check(result.QueryStatuses.Keys.All(status => status is 200 or 429), "the concurrent queries answered something other than 200 or 429:" + figures);
            cluster.Check(result.QueryRefusalsNamedTheOption, "a 429 past QueriesMax lacked Retry-After or the option:" + figures);
            cluster.Check(result.SubscribersDuring == 201 && result.SubscribersAfter == 1, "the silent clients were not all subscribed, or not released when they went:" + figures);
            cluster.Check(result.P99Ms < P99Bound.TotalMilliseconds, $"the API's p99 passed {P99Bound.TotalSeconds} s:" + figures);
            cluster.Check(result.RssAfterBytes <= result.RssBaselineBytes + RssBoundBytes, $"the loaded agent kept more than {RssBoundBytes / (1024 * 1024)} MB above its baseline after the load:" + figures);
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    });
}
