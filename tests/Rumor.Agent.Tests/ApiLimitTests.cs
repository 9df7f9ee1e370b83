using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rumor.Agent.Streams;
using Rumor.Client;
using Rumor.Hosting;

namespace Rumor.Agent.Tests;

/// <summary>
/// Every limit the API reaches answers 429 with a problem naming its option (issue 13 item 2), and
/// <c>/v1/stream</c> subscribers are bounded in number and, each, in events and bytes (item 1).
/// </summary>
public sealed class ApiLimitTests
{
    [Fact]
    public async Task Stream_subscribers_are_bounded_and_released_when_a_client_goes()
    {
        await using RumorAgent agent = await Agents.StartAsync("subs-a", api: new ApiSettings { StreamSubscribersMax = 2 });
        using HttpClient first = Agents.Client(agent);
        using HttpClient second = Agents.Client(agent);
        using HttpClient third = Agents.Client(agent);
        using HttpClient http = Agents.Client(agent);

        HttpResponseMessage one = await OpenStreamAsync(first);
        using HttpResponseMessage two = await OpenStreamAsync(second);
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.Equal(HttpStatusCode.OK, two.StatusCode);
        Assert.Equal(2, (await Agents.GetJsonAsync(http, "/v1/status")).GetProperty("api").GetProperty("streamSubscribers").GetInt32());

        using (HttpResponseMessage refused = await OpenStreamAsync(third))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            JsonElement problem = await ApiSecurityTests.ProblemAsync(refused);
            Assert.Equal("StreamSubscribersMax", problem.GetProperty("option").GetString());
            Assert.Equal(2, problem.GetProperty("limit").GetInt32());
            Assert.Contains("StreamSubscribersMax", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // The first client goes: its place (and its queue) is released without any event having to flow.
        one.Dispose();
        first.Dispose();
        await Agents.EventuallyAsync("the first subscriber released", async () =>
            (await Agents.GetJsonAsync(http, "/v1/status")).GetProperty("api").GetProperty("streamSubscribers").GetInt32() == 1 ? "released" : null);
        using HttpResponseMessage again = await OpenStreamAsync(third);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Stream_clients_that_never_read_cost_a_bounded_queue_and_never_stall_the_node()
    {
        const int QueueBytes = 256 * 1024;
        await using RumorAgent agent = await Agents.StartAsync("idle-a", api: new ApiSettings { StreamQueueMaxBytes = QueueBytes });
        StreamHub hub = agent.Services.GetRequiredService<StreamHub>();
        List<TcpClient> idle = [];
        try
        {
            // Twenty clients subscribe and then never read a byte (a tiny receive window).
            for (int i = 0; i < 20; i++)
            {
                TcpClient client = new() { ReceiveBufferSize = 1024 };
                idle.Add(client);
                await client.ConnectAsync(IPAddress.Loopback, agent.Url.Port);
                await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"GET /v1/stream?kinds=kv HTTP/1.1\r\nHost: 127.0.0.1:{agent.Url.Port}\r\n\r\n"));
            }

            await Agents.EventuallyAsync("20 idle subscribers", () => Task.FromResult(hub.Count == 20 ? "subscribed" : null));

            // A burst of writes of 60 KB through the API: more events for each of them than the
            // kernel's largest send buffer (tcp_wmem) plus Kestrel's and our queue hold, so their
            // queues fill and drop.
            using HttpClient http = Agents.Client(agent);
            string value = new('v', 60_000);
            int writes = Math.Max(100, (int)(SendBufferMaxBytes() / 60_000) + 30);
            for (int i = 0; i < writes; i++)
            {
                using HttpResponseMessage put = await http.PutAsJsonAsync($"/v1/kv/burst/{i:0000}", new { value });
                Assert.Equal(HttpStatusCode.OK, put.StatusCode);
                Assert.True(hub.LargestQueueBytes <= QueueBytes, $"a queue holds {hub.LargestQueueBytes} bytes");
            }

            // The node's loop still serves: a sample runs on it, the API answers, every write is there.
            RumorSample sample = await agent.Node.SampleAsync().WaitAsync(Agents.Bound);
            Assert.Equal(writes, (await agent.Node.ListAsync("burst/")).Count);
            Assert.True(sample.Alive >= 1);
            JsonElement status = await Agents.GetJsonAsync(http, "/v1/status");
            Assert.Equal(20, status.GetProperty("api").GetProperty("streamSubscribers").GetInt32());
            Assert.True(hub.LargestQueueBytes <= QueueBytes, $"a queue holds {hub.LargestQueueBytes} bytes");
            await Agents.EventuallyAsync("events dropped for the idle clients", () => Task.FromResult(hub.Dropped > 0 ? "dropped" : null));
        }
        finally
        {
            foreach (TcpClient client in idle)
            {
                client.Dispose();
            }
        }

        // They go: every queue is released.
        await Agents.EventuallyAsync("the idle subscribers released", () => Task.FromResult(hub.Count == 0 ? "released" : null));
        Assert.Equal(0, hub.LargestQueueBytes);
    }

    [Fact]
    public async Task A_kv_watch_that_never_reads_is_bounded_in_bytes_and_told_what_it_lost()
    {
        const int QueueBytes = 256 * 1024;
        await using RumorAgent agent = await Agents.StartAsync("watch-idle-a", api: new ApiSettings { StreamQueueMaxBytes = QueueBytes });
        StreamHub hub = agent.Services.GetRequiredService<StreamHub>();
        using TcpClient client = new() { ReceiveBufferSize = 1024 };
        await client.ConnectAsync(IPAddress.Loopback, agent.Url.Port);
        NetworkStream stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /v1/kv/watch?prefix=burst/ HTTP/1.1\r\nHost: 127.0.0.1:{agent.Url.Port}\r\n\r\n"));
        StringBuilder received = new();
        using (CancellationTokenSource subscribing = new(Agents.Bound))
        {
            await ReadUntilAsync(stream, received, ": subscribed", subscribing.Token);
        }

        // 60 KB changes while the client reads nothing: more than the kernel's buffers hold, so the
        // watch's queue fills to its byte bound and drops its oldest (it used to hold up to 1,024
        // changes, 60 MB, per watch, and to count nothing).
        string value = new('v', 60_000);
        int writes = Math.Max(100, (int)(SendBufferMaxBytes() / 60_000) + 30);
        for (int i = 0; i < writes; i++)
        {
            await agent.Node.SetAsync($"burst/{i:0000}", Encoding.UTF8.GetBytes(value));
        }

        await Agents.EventuallyAsync("changes dropped for the idle watch", () => Task.FromResult(hub.Dropped > 0 ? "dropped" : null));

        // When it reads again, it is told how many it lost and why, then gets the newest changes.
        using CancellationTokenSource reading = new(TimeSpan.FromSeconds(120));
        await ReadUntilAsync(stream, received, $"\"key\":\"burst/{writes - 1:0000}\"", reading.Token);
        string text = received.ToString();
        Assert.Matches("event: dropped\ndata: \\{\"dropped\":[0-9]+,\"option\":\"StreamQueueMaxBytes\"\\}", text);
        Assert.Contains("event: change\ndata: {", text, StringComparison.Ordinal);
    }

    private static async Task ReadUntilAsync(NetworkStream stream, StringBuilder received, string wanted, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[64 * 1024];
        int searched = 0;
        while (true)
        {
            // Only the new text (and what a match could straddle) is searched: the stream runs to megabytes.
            int from = Math.Max(0, searched - wanted.Length);
            if (received.ToString(from, received.Length - from).Contains(wanted, StringComparison.Ordinal))
            {
                return;
            }

            searched = received.Length;
            int read = await stream.ReadAsync(buffer, cancellationToken);
            Assert.True(read > 0, $"the watch ended before '{wanted}'");
            received.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }
    }

    [Fact]
    public async Task A_limit_and_a_refusal_are_logged_with_their_event_ids()
    {
        using CapturedLog log = new();
        RumorOptions options = new() { Name = "log-a", Bind = "127.0.0.1:0", Preset = "local", LeaveTimeout = TimeSpan.FromSeconds(2) };
        await using RumorAgent agent = await RumorAgent.StartAsync(
            new AgentSettings(options, Core.NodeAddress.Parse("127.0.0.1:0")) { Api = new ApiSettings { StreamSubscribersMax = 1 } },
            logging => logging.AddProvider(log));
        using HttpClient first = Agents.Client(agent);
        using HttpClient second = Agents.Client(agent);
        using HttpResponseMessage open = await OpenStreamAsync(first);
        using HttpResponseMessage refused = await OpenStreamAsync(second);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);

        using HttpRequestMessage foreign = new(HttpMethod.Get, "/v1/kv");
        foreign.Headers.Add("Origin", "http://evil.example");
        using HttpResponseMessage forbidden = await first.SendAsync(foreign);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);

        Assert.Contains(log.Lines, line => line.EventId == 2000 && line.Level == LogLevel.Warning && line.Category == "Rumor.Agent.Api" && line.Message.Contains("StreamSubscribersMax", StringComparison.Ordinal));
        Assert.Contains(log.Lines, line => line.EventId == 2001 && line.Message.Contains("403", StringComparison.Ordinal) && line.Message.Contains("evil.example", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_slow_reader_loses_its_oldest_events_and_is_told_how_many()
    {
        await using RumorAgent agent = await Agents.StartAsync("slow-a", api: new ApiSettings { StreamQueueMax = 8, StreamQueueMaxBytes = 64 * 1024 });
        StreamHub hub = agent.Services.GetRequiredService<StreamHub>();
        using StreamSubscriber reader = hub.TrySubscribe(StreamKinds.Kv, "test")!;

        // 20 key changes while the reader reads nothing: it keeps the newest 8.
        for (int i = 0; i < 20; i++)
        {
            await agent.Node.SetAsync($"slow/{i:00}", Encoding.UTF8.GetBytes("v" + i));
        }

        await Agents.EventuallyAsync("the 20 changes offered", () => Task.FromResult(hub.Dropped + reader.Queued == 20 ? "offered" : null));
        Assert.Equal(8, reader.Queued);
        Assert.Equal(12, hub.Dropped);

        using CancellationTokenSource bound = new(Agents.Bound);
        string notice = Encoding.UTF8.GetString((await reader.ReadAsync(bound.Token))!);
        Assert.Equal("event: dropped\ndata: {\"dropped\":12,\"option\":\"StreamQueueMax\"}\n\n", notice);
        for (int i = 12; i < 20; i++)
        {
            string frame = Encoding.UTF8.GetString((await reader.ReadAsync(bound.Token))!);
            Assert.StartsWith("event: kv\ndata: {", frame, StringComparison.Ordinal);
            Assert.Contains($"\"key\":\"slow/{i:00}\"", frame, StringComparison.Ordinal);
        }

        // Large values: the byte bound (64 KiB) holds two 30 KB changes, never more.
        for (int i = 0; i < 5; i++)
        {
            await agent.Node.SetAsync($"large/{i}", Encoding.UTF8.GetBytes(new string('x', 30_000)));
        }

        await Agents.EventuallyAsync("the 5 large changes offered", () => Task.FromResult(hub.Dropped + reader.Queued == 12 + 5 ? "offered" : null));
        Assert.Equal(2, reader.Queued);
        Assert.True(reader.QueuedBytes <= 64 * 1024, $"{reader.QueuedBytes} bytes queued");
        string bytesNotice = Encoding.UTF8.GetString((await reader.ReadAsync(bound.Token))!);
        Assert.Equal("event: dropped\ndata: {\"dropped\":3,\"option\":\"StreamQueueMaxBytes\"}\n\n", bytesNotice);

        using HttpClient http = Agents.Client(agent);
        Assert.Equal(15, (await Agents.GetJsonAsync(http, "/v1/status")).GetProperty("api").GetProperty("streamEventsDropped").GetInt64());
    }

    [Fact]
    public async Task The_dropped_notice_reaches_a_client_as_a_typed_event()
    {
        await using RumorAgent agent = await Agents.StartAsync("notice-a", api: new ApiSettings { StreamQueueMax = 1 });
        StreamHub hub = agent.Services.GetRequiredService<StreamHub>();
        using RumorClient client = new(agent.Url);
        using CancellationTokenSource bound = new(Agents.Bound);
        await using RumorEventStream<StreamEvent> stream = await client.StreamAsync(cancellationToken: bound.Token);
        Assert.Equal(1, hub.Count);

        // Two changes in one batch to a queue of one: the first is dropped before anyone can read it.
        hub.OfferToAll(
            StreamKinds.Kv,
            StreamItem.Create(StreamEvent.KvType, "{\"owner\":\"x\",\"key\":\"a\",\"newValue\":\"1\",\"version\":1,\"deleted\":false}"u8.ToArray()),
            StreamItem.Create(StreamEvent.KvType, "{\"owner\":\"x\",\"key\":\"b\",\"newValue\":\"2\",\"version\":1,\"deleted\":false}"u8.ToArray()));

        List<StreamEvent> received = [];
        await foreach (StreamEvent item in stream.WithCancellation(bound.Token))
        {
            received.Add(item);
            if (received.Count == 2)
            {
                break;
            }
        }

        Assert.Equal(StreamEvent.DroppedType, received[0].Type);
        Assert.Equal(1, received[0].Dropped!.Dropped);
        Assert.Equal("StreamQueueMax", received[0].Dropped!.Option);
        Assert.Equal("b", received[1].Kv!.Key);
        Assert.Equal(1, hub.Dropped);
    }

    [Fact]
    public async Task Queries_past_QueriesMax_answer_429_naming_the_option()
    {
        await using RumorAgent agent = await Agents.StartAsync("qmax-a");
        using CancellationTokenSource waiting = new();
        List<Task> pending = [];

        // 256 queries nobody answers (QueriesMax, the default) keep every slot taken for two minutes.
        for (int i = 0; i < 256; i++)
        {
            pending.Add(agent.Node.QueryAsync("nobody-answers", [], null, TimeSpan.FromMinutes(2), waiting.Token));
        }

        using HttpClient http = Agents.Client(agent);
        HttpResponseMessage? full = null;
        DateTime deadline = DateTime.UtcNow + Agents.Bound;
        while (full is null && DateTime.UtcNow < deadline)
        {
            HttpResponseMessage answer = await http.PostAsJsonAsync("/v1/query", new { name = "nobody-answers", timeoutMs = 1 });
            if (answer.StatusCode == HttpStatusCode.OK)
            {
                answer.Dispose();
                continue;
            }

            full = answer;
        }

        Assert.NotNull(full);
        using (full)
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, full.StatusCode);
            JsonElement problem = await ApiSecurityTests.ProblemAsync(full);
            Assert.Equal("QueriesMax", problem.GetProperty("option").GetString());
            Assert.Contains("QueriesMax", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal("Limit reached", problem.GetProperty("title").GetString());
        }

        await waiting.CancelAsync();
        await Task.WhenAll(pending.Select(task => task.ContinueWith(_ => { }, TaskScheduler.Default)));
    }

    [Fact]
    public async Task Aggregates_past_AggregatesMax_answer_429_naming_the_option_and_reads_never_start_one()
    {
        await using RumorAgent agent = await Agents.StartAsync("amax-a");
        using HttpClient http = Agents.Client(agent);

        // Issue 13: GET /v1/aggregates/k1 … k70 once started 70 aggregates and then answered 500s; a read starts nothing now.
        for (int i = 1; i <= 70; i++)
        {
            using HttpResponseMessage read = await http.GetAsync("/v1/aggregates/k" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        }

        // AggregatesMax is 64 by default: 64 starts succeed, the 65th is a 429 problem naming the option.
        for (int i = 1; i <= 64; i++)
        {
            using HttpResponseMessage started = await http.PostAsJsonAsync("/v1/aggregates", new { key = "k" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), lifetimeMs = 600_000 });
            Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        }

        using HttpResponseMessage full = await http.PostAsJsonAsync("/v1/aggregates", new { key = "k65", lifetimeMs = 600_000 });
        Assert.Equal(HttpStatusCode.TooManyRequests, full.StatusCode);
        JsonElement problem = await ApiSecurityTests.ProblemAsync(full);
        Assert.Equal("AggregatesMax", problem.GetProperty("option").GetString());
        Assert.Contains("AggregatesMax", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watches_past_WatchesMax_answer_429_naming_the_option()
    {
        await using RumorAgent agent = await Agents.StartAsync("wmax-a");
        List<RumorSubscription> watches = [];
        try
        {
            // The node's own stream watch takes one slot; fill the rest (WatchesMax is 256 by default).
            for (int i = 0; i < 300; i++)
            {
                try
                {
                    watches.Add(await agent.Node.OpenWatchAsync("w/"));
                }
                catch (InvalidOperationException e) when (e.Message.Contains("WatchesMax", StringComparison.Ordinal))
                {
                    break;
                }
            }

            Assert.InRange(watches.Count, 1, 299);
            using HttpClient http = Agents.Client(agent);
            using HttpResponseMessage refused = await http.GetAsync("/v1/kv/watch?prefix=w/", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            JsonElement problem = await ApiSecurityTests.ProblemAsync(refused);
            Assert.Equal("WatchesMax", problem.GetProperty("option").GetString());
        }
        finally
        {
            foreach (RumorSubscription watch in watches)
            {
                await watch.DisposeAsync();
            }
        }
    }

    /// <summary>The kernel's largest TCP send buffer (the third number of tcp_wmem; 4 MiB when it cannot be read).</summary>
    private static long SendBufferMaxBytes()
    {
        try
        {
            string[] fields = File.ReadAllText("/proc/sys/net/ipv4/tcp_wmem").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return fields.Length == 3 && long.TryParse(fields[2], out long max) ? max : 4 * 1024 * 1024;
        }
        catch (IOException)
        {
            return 4 * 1024 * 1024;
        }
    }

    private static Task<HttpResponseMessage> OpenStreamAsync(HttpClient client) =>
        client.GetAsync("/v1/stream", HttpCompletionOption.ResponseHeadersRead);
}
