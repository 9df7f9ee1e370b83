using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace Rumor.Chaos;

internal enum OpKind
{
    Set,
    Delete,
    Event,
    Query,
}

/// <summary>
/// Ok: the agent acknowledged. Fail: it certainly did not apply it (connection refused, an error
/// answer). Unknown: no answer (timeout, reset): it may or may not have been applied.
/// </summary>
internal enum Outcome
{
    Ok,
    Fail,
    Unknown,
}

/// <summary>One operation of the history, stamped with the checker's clock at start and end.</summary>
internal sealed record Op(string Node, int Epoch, long Seq, OpKind Kind, string Key, string? Value, double Start)
{
    public double End { get; set; }

    public Outcome Outcome { get; set; }

    public ulong Version { get; set; }

    public string? EventId { get; set; }

    public string? Note { get; set; }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"[{Start,8:0.000}..{End,8:0.000}] {Node}#{Epoch} {Seq,5} {Kind,-6} {Key} {Value ?? "-"} -> {Outcome}{(Version > 0 ? " v" + Version : string.Empty)}{(EventId is null ? string.Empty : " id " + EventId)}{(Note is null ? string.Empty : " (" + Note + ")")}");
}

/// <summary>The workload: on every agent in turn, key sets and deletes, user events, and a query now and then.</summary>
internal sealed class Workload
{
    public const string KeyPrefix = "chaos/";
    public const int KeysPerNode = 8;
    public const string EventName = "chaos";

    private readonly ChaosOptions _options;
    private readonly FaultLog _faults;
    private readonly Stopwatch _clock;
    private readonly HttpClient _http;
    private readonly Lock _gate = new();
    private readonly List<Op> _history = [];

    public Workload(ChaosOptions options, FaultLog faults, Stopwatch clock, HttpClient http)
    {
        _options = options;
        _faults = faults;
        _clock = clock;
        _http = http;
    }

    public IReadOnlyList<Op> History
    {
        get
        {
            lock (_gate)
            {
                return [.. _history];
            }
        }
    }

    public Task RunAsync(CancellationToken stop) =>
        Task.WhenAll(_options.Agents.Select((agent, index) => Task.WhenAll(
            Task.Run(() => KeyValueLoopAsync(agent, index, stop), CancellationToken.None),
            Task.Run(() => EventLoopAsync(agent, index, stop), CancellationToken.None))));

    private async Task KeyValueLoopAsync(Agent agent, int index, CancellationToken stop)
    {
        Random random = new(unchecked((_options.Seed * 7919) + index));
        long seq = 0;
        while (!stop.IsCancellationRequested)
        {
            await DelayAsync(_options.OpInterval, stop);
            (bool reachable, int epoch) = _faults.StateOf(agent.Name);
            if (!reachable || stop.IsCancellationRequested)
            {
                continue;
            }

            seq++;
            string key = KeyPrefix + "k" + random.Next(KeysPerNode).ToString(CultureInfo.InvariantCulture);
            int dice = random.Next(100);
            if (dice < 70)
            {
                string value = string.Create(CultureInfo.InvariantCulture, $"{agent.Name}.{epoch}.{seq}");
                Op op = Start(agent, epoch, seq, OpKind.Set, key, value);
                await SendAsync(op, () => _http.PutAsJsonAsync(new Uri(agent.Api, "/v1/kv/" + key), new { value }), body => op.Version = body.GetProperty("version").GetUInt64());
            }
            else if (dice < 93)
            {
                Op op = Start(agent, epoch, seq, OpKind.Delete, key, null);
                await SendAsync(op, () => _http.DeleteAsync(new Uri(agent.Api, "/v1/kv/" + key)), body => op.Version = body.GetProperty("version").GetUInt64());
            }
            else
            {
                Op op = Start(agent, epoch, seq, OpKind.Query, "rumor.ping", null);
                await SendAsync(op, () => _http.PostAsJsonAsync(new Uri(agent.Api, "/v1/query"), new { name = "rumor.ping", timeoutMs = 1000 }), body =>
                    op.Note = string.Create(CultureInfo.InvariantCulture, $"{body.GetProperty("responses").GetArrayLength()} answered, {body.GetProperty("missing").GetArrayLength()} missing"));
            }
        }
    }

    private async Task EventLoopAsync(Agent agent, int index, CancellationToken stop)
    {
        Random random = new(unchecked((_options.Seed * 104729) + index));
        long seq = 0;
        // Spread the first events over one interval so the agents do not send in lock step.
        await DelayAsync(TimeSpan.FromMilliseconds(random.Next((int)_options.EventInterval.TotalMilliseconds)), stop);
        while (!stop.IsCancellationRequested)
        {
            (bool reachable, int epoch) = _faults.StateOf(agent.Name);
            if (reachable)
            {
                seq++;
                string payload = string.Create(CultureInfo.InvariantCulture, $"{agent.Name}.{epoch}.e{seq}");
                Op op = Start(agent, epoch, seq, OpKind.Event, EventName, payload);
                await SendAsync(op, () => _http.PostAsJsonAsync(new Uri(agent.Api, "/v1/events"), new { name = EventName, payload }), body => op.EventId = body.GetProperty("id").GetString());
            }

            await DelayAsync(_options.EventInterval, stop);
        }
    }

    private Op Start(Agent agent, int epoch, long seq, OpKind kind, string key, string? value)
    {
        Op op = new(agent.Name, epoch, seq, kind, key, value, _clock.Elapsed.TotalSeconds);
        lock (_gate)
        {
            _history.Add(op);
        }

        return op;
    }

    private async Task SendAsync(Op op, Func<Task<HttpResponseMessage>> send, Action<JsonElement> onOk)
    {
        try
        {
            using HttpResponseMessage response = await send();
            string text = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode)
            {
                using JsonDocument document = JsonDocument.Parse(text);
                onOk(document.RootElement);
                op.Outcome = Outcome.Ok;
            }
            else
            {
                // An answer that is not a success: the agent refused, nothing was applied (a delete
                // of a key this node does not hold answers 404: there was nothing to delete).
                op.Outcome = Outcome.Fail;
                op.Note = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
            }
        }
        catch (HttpRequestException e) when (IsRefused(e))
        {
            op.Outcome = Outcome.Fail;
            op.Note = "refused";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            op.Outcome = Outcome.Unknown;
            op.Note = e.GetType().Name;
        }

        op.End = _clock.Elapsed.TotalSeconds;
    }

    private static bool IsRefused(HttpRequestException e) =>
        e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable };

    private static async Task DelayAsync(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, stop);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }
}

/// <summary>Reads every agent's <c>/v1/stream?kinds=member</c> and records the member changes each one reports, stamped with the checker's clock.</summary>
internal sealed class MemberObserver
{
    private readonly ChaosOptions _options;
    private readonly Stopwatch _clock;
    private readonly HttpClient _http;
    private readonly Lock _gate = new();
    private readonly List<MemberChange> _changes = [];

    public MemberObserver(ChaosOptions options, Stopwatch clock, HttpClient http)
    {
        _options = options;
        _clock = clock;
        _http = http;
    }

    public IReadOnlyList<MemberChange> Changes
    {
        get
        {
            lock (_gate)
            {
                return [.. _changes];
            }
        }
    }

    public Task RunAsync(CancellationToken stop) =>
        Task.WhenAll(_options.Agents.Select(agent => Task.Run(() => WatchAsync(agent, stop), CancellationToken.None)));

    private async Task WatchAsync(Agent agent, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using HttpRequestMessage request = new(HttpMethod.Get, new Uri(agent.Api, "/v1/stream?kinds=member"));
                using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop);
                response.EnsureSuccessStatusCode();
                using StreamReader reader = new(await response.Content.ReadAsStreamAsync(stop));
                string? eventName = null;
                while (!stop.IsCancellationRequested && await reader.ReadLineAsync(stop) is { } line)
                {
                    if (line.StartsWith("event:", StringComparison.Ordinal))
                    {
                        eventName = line[6..].Trim();
                    }
                    else if (line.StartsWith("data:", StringComparison.Ordinal) && eventName == "member")
                    {
                        using JsonDocument document = JsonDocument.Parse(line[5..]);
                        JsonElement root = document.RootElement;
                        MemberChange change = new(
                            _clock.Elapsed.TotalSeconds,
                            agent.Name,
                            root.GetProperty("name").GetString() ?? "?",
                            root.GetProperty("kind").GetString() ?? "?",
                            root.TryGetProperty("state", out JsonElement state) ? state.GetString() ?? "?" : "?");
                        lock (_gate)
                        {
                            _changes.Add(change);
                        }
                    }
                    else if (line.Length == 0)
                    {
                        eventName = null;
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException or OperationCanceledException or KeyNotFoundException or InvalidOperationException)
            {
                // The agent is down, paused or restarting: reconnect below.
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

/// <summary>A member change one agent reported: at the checker's time <paramref name="At"/>, <paramref name="Observer"/> saw <paramref name="Subject"/> change (<paramref name="Kind"/>).</summary>
internal sealed record MemberChange(double At, string Observer, string Subject, string Kind, string State)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"[{At,8:0.000}] {Observer} sees {Subject} {Kind} ({State})");
}

/// <summary>Small JSON readers of the agent's API.</summary>
internal static class Api
{
    public static async Task<JsonDocument?> GetAsync(HttpClient http, Uri uri)
    {
        try
        {
            using HttpResponseMessage response = await http.GetAsync(uri);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return null;
            }

            return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or JsonException)
        {
            return null;
        }
    }
}
