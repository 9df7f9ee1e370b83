using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Rumor.Benchmarks.AgentLoad;

/// <summary>One running agent process the scenario talks to: its name, process id (for its RSS) and HTTP API.</summary>
public sealed record LoadAgent(string Name, int ProcessId, Uri Http);

/// <summary>The sizes of one load run (issue 13 item 1 by default).</summary>
public sealed record AgentLoadSettings
{
    /// <summary><c>/v1/stream</c> clients on the target that subscribe and then never read a byte.</summary>
    public int SilentSubscribers { get; init; } = 200;

    /// <summary>Writes of large values in the burst.</summary>
    public int LargeWrites { get; init; } = 400;

    /// <summary>Distinct keys the large writes go to (each written <see cref="LargeWrites"/> / this many times).</summary>
    public int LargeKeys { get; init; } = 100;

    /// <summary>Bytes of each large value (60 KB: under the default ValueMaxBytes of 64 KiB).</summary>
    public int LargeValueBytes { get; init; } = 60_000;

    /// <summary>Concurrent API calls started at once during the burst: a quarter each of member reads, key reads, small writes and queries.</summary>
    public int ConcurrentCalls { get; init; } = 1_000;

    /// <summary>Concurrent <c>POST /v1/query</c> calls of the second phase (past QueriesMax on purpose).</summary>
    public int ConcurrentQueries { get; init; } = 1_000;

    /// <summary>How long each query waits for answers.</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long to wait, after the load, for the target's resident memory to come back under <see cref="RssReturnBoundBytes"/> above its baseline.</summary>
    public TimeSpan RssSettleMax { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The resident memory the target may keep above its baseline after the load (the new key state, warmed pools and JIT code included).</summary>
    public long RssReturnBoundBytes { get; init; } = 150L * 1024 * 1024;

    /// <summary>
    /// When positive, the target's resident memory is read once more this long after the silent
    /// clients went, whatever the settle wait saw (<see cref="AgentLoadResult.RssObservedBytes"/>):
    /// the figure that shows what an idle trim gives back after the first sample under the bound.
    /// </summary>
    public TimeSpan RssObserveAfter { get; init; } = TimeSpan.Zero;

    /// <summary>A bound on each phase's waits, so a broken agent fails the run rather than hanging it.</summary>
    public TimeSpan StepBound { get; init; } = TimeSpan.FromSeconds(120);
}

/// <summary>What one load run measured.</summary>
public sealed record AgentLoadResult
{
    public required long RssBaselineBytes { get; init; }

    public required long RssPeakBytes { get; init; }

    /// <summary>The target's resident memory when the settle wait ended (first sample under the bound, or the last one).</summary>
    public required long RssAfterBytes { get; init; }

    /// <summary>How long after the subscribers went <see cref="RssAfterBytes"/> was read.</summary>
    public required TimeSpan RssSettledAfter { get; init; }

    /// <summary>The target's resident memory <see cref="AgentLoadSettings.RssObserveAfter"/> after the subscribers went (0 when not asked).</summary>
    public long RssObservedBytes { get; init; }

    /// <summary>When <see cref="RssObservedBytes"/> was read, after the subscribers went.</summary>
    public TimeSpan RssObservedAfter { get; init; }

    /// <summary>Latencies of the mixed calls and large writes, milliseconds.</summary>
    public required double P50Ms { get; init; }

    public required double P99Ms { get; init; }

    public required double MaxMs { get; init; }

    /// <summary>The same, without the queries (which wait their whole timeout by design).</summary>
    public required double P99WithoutQueriesMs { get; init; }

    /// <summary>Status code → count over every call of both phases.</summary>
    public required IReadOnlyDictionary<int, int> Statuses { get; init; }

    /// <summary>Status code → count of the second phase (concurrent queries) alone.</summary>
    public required IReadOnlyDictionary<int, int> QueryStatuses { get; init; }

    /// <summary>Whether every 429 of the query phase carried <c>Retry-After</c> and named QueriesMax.</summary>
    public required bool QueryRefusalsNamedTheOption { get; init; }

    /// <summary>Calls that failed without an HTTP answer (timeouts, resets), with the first reason.</summary>
    public required int TransportFailures { get; init; }

    public required string? FirstTransportFailure { get; init; }

    /// <summary>The body of the first 5xx answer, if any.</summary>
    public required string? FirstServerError { get; init; }

    /// <summary>Member events of kind suspected or failed that any agent's stream carried during the run (observer: text).</summary>
    public required IReadOnlyList<string> Suspicions { get; init; }

    /// <summary>The members declared failed (dead) during the run: the subset of <see cref="Suspicions"/> no refutation undid in time.</summary>
    public IReadOnlyList<string> Failures => [.. Suspicions.Where(s => s.Contains("\"kind\":\"failed\"", StringComparison.Ordinal) || !s.Contains("\"kind\":", StringComparison.Ordinal))];

    /// <summary>Members not alive in some agent's view at the end (observer sees name state).</summary>
    public required IReadOnlyList<string> NotAliveAtEnd { get; init; }

    /// <summary><c>/v1/stream</c> subscribers the target counted while the silent clients were connected, and after they went.</summary>
    public required int SubscribersDuring { get; init; }

    public required int SubscribersAfter { get; init; }

    /// <summary>Events the target dropped for slow stream readers (its <c>api.streamEventsDropped</c>).</summary>
    public required long StreamDropped { get; init; }

    public required TimeSpan Elapsed { get; init; }

    public int ServerErrors => Statuses.Where(s => s.Key >= 500).Sum(s => s.Value);

    /// <summary>The figures as lines of text (the bench command prints them; a failing test shows them).</summary>
    public string Describe()
    {
        StringBuilder text = new();
        text.AppendLine(CultureInfo.InvariantCulture, $"RSS of the target: baseline {Mb(RssBaselineBytes)} MB, peak {Mb(RssPeakBytes)} MB, after {Mb(RssAfterBytes)} MB ({RssSettledAfter.TotalSeconds:0.0} s after the subscribers went)");
        if (RssObservedBytes > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"RSS of the target {RssObservedAfter.TotalSeconds:0.0} s after the subscribers went: {Mb(RssObservedBytes)} MB");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"API latency (mixed calls and large writes): p50 {P50Ms:0} ms, p99 {P99Ms:0} ms, max {MaxMs:0} ms; p99 without queries {P99WithoutQueriesMs:0} ms");
        text.AppendLine("statuses, all calls: " + Format(Statuses));
        text.AppendLine("statuses, concurrent queries: " + Format(QueryStatuses) + (QueryRefusalsNamedTheOption ? " (every 429 names QueriesMax, with Retry-After)" : " (some 429 lacked Retry-After or the option)"));
        if (FirstServerError is not null)
        {
            text.AppendLine("first 5xx answer: " + FirstServerError);
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"transport failures: {TransportFailures}{(FirstTransportFailure is null ? string.Empty : " (first: " + FirstTransportFailure + ")")}");
        text.AppendLine(CultureInfo.InvariantCulture, $"stream subscribers on the target: {SubscribersDuring} during, {SubscribersAfter} after; events dropped for slow readers: {StreamDropped}");
        text.AppendLine("suspicions seen: " + (Suspicions.Count == 0 ? "none" : string.Join("; ", Suspicions)));
        text.AppendLine("not alive at the end: " + (NotAliveAtEnd.Count == 0 ? "none" : string.Join("; ", NotAliveAtEnd)));
        text.Append(CultureInfo.InvariantCulture, $"elapsed: {Elapsed.TotalSeconds:0.0} s");
        return text.ToString();
    }

    private static string Mb(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("0", CultureInfo.InvariantCulture);

    private static string Format(IReadOnlyDictionary<int, int> statuses) =>
        string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => string.Create(CultureInfo.InvariantCulture, $"{(s.Key == 0 ? "no answer" : s.Key.ToString(CultureInfo.InvariantCulture))} x{s.Value}")));
}

/// <summary>
/// Issue 13 item 1 against real agent processes: on one agent (the target) of three, subscribers of
/// <c>/v1/stream</c> that never read, a burst of large writes, and many concurrent API calls (member
/// reads, key reads, small writes, queries), then as many concurrent queries as the API can be asked
/// (past QueriesMax). Meanwhile every agent's own member stream is read for a suspicion, and the
/// target's resident memory is sampled; after the silent clients go, the run waits for the memory
/// to come back. It measures and reports; the end-to-end test and the bench command judge.
/// Used by <c>bench agent-load</c> and by the end-to-end suite (linked there), so both run the same load.
/// </summary>
public static class AgentLoadScenario
{
    public static async Task<AgentLoadResult> RunAsync(LoadAgent target, IReadOnlyList<LoadAgent> others, AgentLoadSettings settings, CancellationToken cancellationToken = default)
    {
        Stopwatch elapsed = Stopwatch.StartNew();
        using SocketsHttpHandler handler = new() { UseProxy = false, MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using HttpClient http = new(handler) { Timeout = settings.StepBound };
        using CancellationTokenSource stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // The cluster first agrees (every agent sees every other alive), then every agent's own member
        // stream is read as it comes: a suspicion anywhere from then on is recorded.
        LoadAgent[] everyone = [target, .. others];
        await WaitForAllAliveAsync(http, everyone, settings.StepBound, stop.Token).ConfigureAwait(false);
        List<string> suspicions = [];
        List<Task> watchers = [.. everyone.Select(agent => WatchMembersAsync(http, agent, suspicions, stop.Token))];
        await WaitForSubscribersAsync(http, target, 1, settings.StepBound, stop.Token).ConfigureAwait(false);

        long baseline = Rss(target.ProcessId);
        long peak = baseline;
        Task sampler = Task.Run(
            async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    peak = Math.Max(peak, Rss(target.ProcessId));
                    await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
                }
            },
            CancellationToken.None);

        List<Socket> silent = [];
        Dictionary<int, int> statuses = [];
        Dictionary<int, int> queryStatuses = [];
        List<double> latencies = [];
        List<double> latenciesWithoutQueries = [];
        int transportFailures = 0;
        string? firstFailure = null;
        string? firstServerError = null;
        bool refusalsNamed = true;
        int subscribersDuring;
        try
        {
            // The silent subscribers: raw sockets with a small receive buffer that send the request and never read.
            for (int i = 0; i < settings.SilentSubscribers; i++)
            {
                silent.Add(await OpenSilentStreamAsync(target.Http, stop.Token).ConfigureAwait(false));
            }

            subscribersDuring = await WaitForSubscribersAsync(http, target, settings.SilentSubscribers + 1, settings.StepBound, stop.Token).ConfigureAwait(false);

            // Phase 1: the large-write burst and the mixed calls, all started at once.
            byte[] large = new byte[settings.LargeValueBytes];
            new Random(13).NextBytes(large);
            string largeBody = JsonSerializer.Serialize(new Dictionary<string, string> { ["valueBase64"] = Convert.ToBase64String(large) });
            List<Task<Call>> calls = [];
            for (int i = 0; i < settings.LargeWrites; i++)
            {
                calls.Add(TimeAsync(http, HttpMethod.Put, new Uri(target.Http, $"v1/kv/load/big-{i % settings.LargeKeys}"), largeBody, isQuery: false, stop.Token));
            }

            string queryBody = JsonSerializer.Serialize(new Dictionary<string, object> { ["name"] = "load", ["timeoutMs"] = (int)settings.QueryTimeout.TotalMilliseconds });
            for (int i = 0; i < settings.ConcurrentCalls; i++)
            {
                calls.Add((i % 4) switch
                {
                    0 => TimeAsync(http, HttpMethod.Get, new Uri(target.Http, "v1/members"), null, isQuery: false, stop.Token),
                    1 => TimeAsync(http, HttpMethod.Get, new Uri(target.Http, $"v1/kv/load/big-{i % settings.LargeKeys}"), null, isQuery: false, stop.Token),
                    2 => TimeAsync(http, HttpMethod.Put, new Uri(target.Http, $"v1/kv/load/small-{i}"), "{\"value\":\"v\"}", isQuery: false, stop.Token),
                    _ => TimeAsync(http, HttpMethod.Post, new Uri(target.Http, "v1/query"), queryBody, isQuery: true, stop.Token),
                });
            }

            foreach (Call call in await Task.WhenAll(calls).ConfigureAwait(false))
            {
                Count(statuses, call.Status);
                firstServerError ??= call.Status >= 500 ? call.Body : null;
                if (call.Failure is not null)
                {
                    transportFailures++;
                    firstFailure ??= call.Failure;
                    continue;
                }

                latencies.Add(call.Milliseconds);
                if (!call.IsQuery)
                {
                    latenciesWithoutQueries.Add(call.Milliseconds);
                }
            }

            // Phase 2: as many concurrent queries, past QueriesMax: 200 or 429, never 5xx.
            List<Task<Call>> queries = [.. Enumerable.Range(0, settings.ConcurrentQueries).Select(_ => TimeAsync(http, HttpMethod.Post, new Uri(target.Http, "v1/query"), queryBody, isQuery: true, stop.Token))];
            foreach (Call call in await Task.WhenAll(queries).ConfigureAwait(false))
            {
                Count(statuses, call.Status);
                Count(queryStatuses, call.Status);
                firstServerError ??= call.Status >= 500 ? call.Body : null;
                if (call.Failure is not null)
                {
                    transportFailures++;
                    firstFailure ??= call.Failure;
                }

                if (call.Status == 429 && !(call.RetryAfter && call.Body.Contains("\"option\":\"QueriesMax\"", StringComparison.Ordinal)))
                {
                    refusalsNamed = false;
                }
            }
        }
        finally
        {
            foreach (Socket socket in silent)
            {
                socket.Dispose();
            }
        }

        // The silent clients are gone: their queues must go with them, and the memory after.
        Stopwatch settle = Stopwatch.StartNew();
        int subscribersAfter = await WaitForSubscribersAsync(http, target, 1, settings.StepBound, stop.Token).ConfigureAwait(false);
        long after = Rss(target.ProcessId);
        while (after > baseline + settings.RssReturnBoundBytes && settle.Elapsed < settings.RssSettleMax)
        {
            await Task.Delay(500, stop.Token).ConfigureAwait(false);
            after = Rss(target.ProcessId);
        }

        TimeSpan settledAfter = settle.Elapsed;
        long observed = 0;
        TimeSpan observedAfter = TimeSpan.Zero;
        if (settings.RssObserveAfter > TimeSpan.Zero)
        {
            TimeSpan left = settings.RssObserveAfter - settle.Elapsed;
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left, stop.Token).ConfigureAwait(false);
            }

            observed = Rss(target.ProcessId);
            observedAfter = settle.Elapsed;
        }

        JsonElement status = await GetJsonAsync(http, new Uri(target.Http, "v1/status"), stop.Token).ConfigureAwait(false);
        long dropped = status.GetProperty("api").TryGetProperty("streamEventsDropped", out JsonElement d) ? d.GetInt64() : -1;

        // A suspicion could still be on its way: look at every view once more, then stop the watchers.
        List<string> notAlive = [];
        foreach (LoadAgent observer in everyone)
        {
            JsonElement members = await GetJsonAsync(http, new Uri(observer.Http, "v1/members"), stop.Token).ConfigureAwait(false);
            foreach (JsonElement member in members.EnumerateArray())
            {
                string state = member.GetProperty("state").GetString() ?? "?";
                if (state != "alive")
                {
                    notAlive.Add($"{observer.Name} sees {member.GetProperty("name").GetString()} {state}");
                }
            }
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await sampler.ConfigureAwait(false);
        await Task.WhenAll(watchers).ConfigureAwait(false);

        latencies.Sort();
        latenciesWithoutQueries.Sort();
        lock (suspicions)
        {
            return new AgentLoadResult
            {
                RssBaselineBytes = baseline,
                RssPeakBytes = peak,
                RssAfterBytes = after,
                RssSettledAfter = settledAfter,
                RssObservedBytes = observed,
                RssObservedAfter = observedAfter,
                P50Ms = Percentile(latencies, 0.50),
                P99Ms = Percentile(latencies, 0.99),
                MaxMs = latencies.Count == 0 ? 0 : latencies[^1],
                P99WithoutQueriesMs = Percentile(latenciesWithoutQueries, 0.99),
                Statuses = statuses,
                QueryStatuses = queryStatuses,
                QueryRefusalsNamedTheOption = refusalsNamed,
                TransportFailures = transportFailures,
                FirstTransportFailure = firstFailure,
                FirstServerError = firstServerError,
                Suspicions = [.. suspicions],
                NotAliveAtEnd = notAlive,
                SubscribersDuring = subscribersDuring,
                SubscribersAfter = subscribersAfter,
                StreamDropped = dropped,
                Elapsed = elapsed.Elapsed,
            };
        }
    }

    /// <summary>The resident set of a process, from <c>/proc/PID/status</c> (Linux).</summary>
    public static long Rss(int processId)
    {
        foreach (string line in File.ReadLines($"/proc/{processId}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/{processId}/status has no VmRSS line.");
    }

    private sealed record Call(int Status, double Milliseconds, bool IsQuery, bool RetryAfter, string Body, string? Failure);

    private static async Task<Call> TimeAsync(HttpClient http, HttpMethod method, Uri uri, string? json, bool isQuery, CancellationToken cancellationToken)
    {
        Stopwatch watch = Stopwatch.StartNew();
        try
        {
            using HttpRequestMessage request = new(method, uri);
            if (json is not null)
            {
                request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            }

            using HttpResponseMessage response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            string body = (int)response.StatusCode is 429 or >= 500 ? await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false) : string.Empty;
            if (body.Length == 0)
            {
                // Read the answer to its end: the latency is the whole answer's.
                await response.Content.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            }

            return new Call((int)response.StatusCode, watch.Elapsed.TotalMilliseconds, isQuery, response.Headers.RetryAfter is not null, body, null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            // The inner exceptions say what happened (a reset, a refused connection, a timeout); the outer one rarely does.
            StringBuilder failure = new($"{method} {uri.AbsolutePath} after {watch.Elapsed.TotalMilliseconds:F0} ms: {e.GetType().Name}: {e.Message}");
            for (Exception? inner = e.InnerException; inner is not null; inner = inner.InnerException)
            {
                failure.Append(CultureInfo.InvariantCulture, $" <- {inner.GetType().Name}: {inner.Message}");
            }

            return new Call(0, watch.Elapsed.TotalMilliseconds, isQuery, false, string.Empty, failure.ToString());
        }
    }

    private static async Task<Socket> OpenSilentStreamAsync(Uri http, CancellationToken cancellationToken)
    {
        Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(http.Host), http.Port), cancellationToken).ConfigureAwait(false);
            byte[] request = Encoding.ASCII.GetBytes($"GET /v1/stream HTTP/1.1\r\nHost: {http.Host}:{http.Port}\r\nAccept: text/event-stream\r\n\r\n");
            await socket.SendAsync(request, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Waits until the target counts <paramref name="expected"/> stream subscribers (bounded) and returns the count it last saw.</summary>
    private static async Task<int> WaitForSubscribersAsync(HttpClient http, LoadAgent target, int expected, TimeSpan bound, CancellationToken cancellationToken)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (true)
        {
            JsonElement status = await GetJsonAsync(http, new Uri(target.Http, "v1/status"), cancellationToken).ConfigureAwait(false);
            int count = status.GetProperty("api").GetProperty("streamSubscribers").GetInt32();
            if (count == expected || waited.Elapsed > bound)
            {
                return count;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task WaitForAllAliveAsync(HttpClient http, LoadAgent[] everyone, TimeSpan bound, CancellationToken cancellationToken)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (true)
        {
            int alive = 0;
            foreach (LoadAgent observer in everyone)
            {
                JsonElement members = await GetJsonAsync(http, new Uri(observer.Http, "v1/members?state=alive"), cancellationToken).ConfigureAwait(false);
                alive += members.GetArrayLength();
            }

            if (alive == everyone.Length * everyone.Length)
            {
                return;
            }

            if (waited.Elapsed > bound)
            {
                throw new InvalidOperationException($"the {everyone.Length} agents did not all see each other alive within {bound.TotalSeconds} s ({alive} of {everyone.Length * everyone.Length} views).");
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads one agent's <c>/v1/stream?kinds=member</c> until stopped, recording each suspected or failed member.</summary>
    private static async Task WatchMembersAsync(HttpClient http, LoadAgent agent, List<string> suspicions, CancellationToken stop)
    {
        try
        {
            using HttpRequestMessage request = new(HttpMethod.Get, new Uri(agent.Http, "v1/stream?kinds=member"));
            using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            using StreamReader reader = new(await response.Content.ReadAsStreamAsync(stop).ConfigureAwait(false));
            while (await reader.ReadLineAsync(stop).ConfigureAwait(false) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal) && (line.Contains("\"kind\":\"suspected\"", StringComparison.Ordinal) || line.Contains("\"kind\":\"failed\"", StringComparison.Ordinal)))
                {
                    lock (suspicions)
                    {
                        suspicions.Add($"{agent.Name}: {line[6..]}");
                    }
                }
            }

            lock (suspicions)
            {
                suspicions.Add($"{agent.Name}: its member stream ended before the run did");
            }
        }
        catch (Exception e) when (e is OperationCanceledException && stop.IsCancellationRequested)
        {
            // The run is over.
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            if (!stop.IsCancellationRequested)
            {
                lock (suspicions)
                {
                    suspicions.Add($"{agent.Name}: its member stream failed ({e.Message})");
                }
            }
        }
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, Uri uri, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await http.GetAsync(uri, cancellationToken).ConfigureAwait(false);
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET {uri} answered {(int)response.StatusCode}: {body}");
        }

        using JsonDocument document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }

    private static void Count(Dictionary<int, int> counts, int status) => counts[status] = counts.GetValueOrDefault(status) + 1;

    private static double Percentile(List<double> sorted, double fraction) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(fraction * sorted.Count) - 1)];
}
