using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Rumor.Client;

/// <summary>
/// A typed client for every endpoint of the Rumor agent's HTTP API (docs/HTTP-API.md), built on
/// <see cref="HttpClient"/>, with the models the agent itself serializes (<see cref="RumorJsonContext"/>).
/// Every request is bounded by <see cref="RequestTimeout"/> (plus what a leave or a query waits on
/// purpose); a stream only until its headers arrive, then for as long as the caller's token allows.
/// Failures are two exceptions: nothing answered (<see cref="RumorUnreachableException"/>) or the
/// agent answered with an error or with something that is not the API (<see cref="RumorApiException"/>).
/// </summary>
public sealed class RumorClient : IDisposable
{
    /// <summary>The agent's address when none is configured.</summary>
    public const string DefaultAddress = "http://127.0.0.1:7373";

    /// <summary>The request timeout when none is given.</summary>
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The wait of a leave the caller gives no timeout for (the agent's default).</summary>
    private static readonly TimeSpan DefaultLeaveWait = TimeSpan.FromSeconds(5);

    /// <summary>The wait of a query the caller gives no timeout for (the agent's default).</summary>
    private static readonly TimeSpan DefaultQueryWait = TimeSpan.FromSeconds(2);

    /// <summary>What a join may take beyond the request timeout: push-pull exchanges with the seeds.</summary>
    private static readonly TimeSpan JoinWait = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <summary>Creates a client with its own connection handler (no proxy: the agent is a local control channel).</summary>
    /// <param name="baseAddress">The agent's URL; a trailing <c>/v1</c> is accepted and dropped (see <see cref="NormalizeBaseAddress"/>).</param>
    /// <param name="requestTimeout">The bound of connecting and of each whole request (default <see cref="DefaultRequestTimeout"/>).</param>
    public RumorClient(Uri baseAddress, TimeSpan? requestTimeout = null)
    {
        BaseAddress = NormalizeBaseAddress(baseAddress);
        RequestTimeout = requestTimeout ?? DefaultRequestTimeout;
        SocketsHttpHandler handler = new()
        {
            ConnectTimeout = RequestTimeout,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        };

        // The overall limit is applied per request: streams must be able to run for hours.
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("rumor-client", typeof(RumorClient).Assembly.GetName().Version?.ToString(3) ?? "0"));
        _ownsHttp = true;
    }

    /// <summary>Creates a client over a caller's <see cref="HttpClient"/> (not disposed with the client; its own timeout also applies).</summary>
    /// <param name="http">The HTTP client.</param>
    /// <param name="baseAddress">The agent's URL; <see cref="HttpClient.BaseAddress"/> when null.</param>
    /// <param name="requestTimeout">The bound of each whole request (default <see cref="DefaultRequestTimeout"/>).</param>
    public RumorClient(HttpClient http, Uri? baseAddress = null, TimeSpan? requestTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        BaseAddress = NormalizeBaseAddress(baseAddress ?? http.BaseAddress ?? throw new ArgumentException("Give a base address, or an HttpClient with one.", nameof(baseAddress)));
        RequestTimeout = requestTimeout ?? DefaultRequestTimeout;
    }

    /// <summary>The agent's base URL (ends with a slash; requests go to <c>v1/…</c> under it).</summary>
    public Uri BaseAddress { get; }

    /// <summary>The bound of each request (and of a stream until its headers arrive).</summary>
    public TimeSpan RequestTimeout { get; }

    /// <summary>
    /// The agent's management token, sent as <c>Authorization: Bearer</c> with every request; null
    /// (the default) sends none, which a loopback agent without a token accepts.
    /// </summary>
    public string? Token { get; init; }

    /// <summary>
    /// The base URL requests are resolved against: an absolute http(s) URL without query or fragment,
    /// ending with a slash (so a path prefix such as <c>/rumor/</c> is kept), and without a trailing
    /// <c>v1</c> segment (so <c>http://h:7373/v1/</c> and <c>http://h:7373</c> both reach
    /// <c>http://h:7373/v1/members</c>, never <c>/v1/v1/members</c>).
    /// </summary>
    /// <param name="address">The agent's URL.</param>
    /// <returns>The normalized URL.</returns>
    /// <exception cref="ArgumentException">The address is not an absolute http(s) URL.</exception>
    public static Uri NormalizeBaseAddress(Uri address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!address.IsAbsoluteUri || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps) || string.IsNullOrEmpty(address.Host))
        {
            throw new ArgumentException($"'{address}' is not an agent address: expected an http(s) URL like {DefaultAddress}.", nameof(address));
        }

        string path = address.AbsolutePath;
        if (!path.EndsWith('/'))
        {
            path += "/";
        }

        if (path.EndsWith("/v1/", StringComparison.OrdinalIgnoreCase))
        {
            path = path[..^"v1/".Length];
        }

        return new UriBuilder(address) { Path = path, Query = string.Empty, Fragment = string.Empty }.Uri;
    }

    /// <summary>
    /// Parses an agent address as people type it: an http(s) URL, or a bare <c>host:port</c> taken as
    /// http. False for anything else (another scheme, a query or fragment, no host).
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="address">The normalized base URL.</param>
    /// <returns>True when <paramref name="text"/> is an agent address.</returns>
    public static bool TryParseAddress(string text, out Uri address)
    {
        ArgumentNullException.ThrowIfNull(text);
        address = null!;
        string candidate = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        if (!Uri.TryCreate(candidate, UriKind.Absolute, out Uri? uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host)
            || !string.IsNullOrEmpty(uri.Query)
            || !string.IsNullOrEmpty(uri.Fragment))
        {
            return false;
        }

        address = NormalizeBaseAddress(uri);
        return true;
    }

    /// <summary><c>GET /v1/health</c>: whether the node runs (a 503 <see cref="RumorApiException"/> when it does not).</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The health answer.</returns>
    public Task<HealthDto> GetHealthAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "v1/health", RumorJsonContext.Default.HealthDto, cancellationToken);

    /// <summary><c>GET /v1/status</c>: the node, its counters, health and convergence.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The status.</returns>
    public Task<StatusDto> GetStatusAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "v1/status", RumorJsonContext.Default.StatusDto, cancellationToken);

    /// <summary><c>GET /v1/members</c>: every member the node knows, or those in one state.</summary>
    /// <param name="state">Only members in this state, when given.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The members.</returns>
    public async Task<IReadOnlyList<MemberDto>> GetMembersAsync(MemberState? state = null, CancellationToken cancellationToken = default) =>
        await SendAsync(HttpMethod.Get, ApiPath.With("v1/members", ("state", state is { } s ? JsonNamingPolicy.CamelCase.ConvertName(s.ToString()) : null)), RumorJsonContext.Default.MemberDtoArray, cancellationToken).ConfigureAwait(false);

    /// <summary><c>GET /v1/coordinates</c>: the network coordinate of every member the agent has one for, its own included (agents with <c>--protocol serf</c>).</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The coordinates, by member.</returns>
    public async Task<IReadOnlyList<NodeCoordinateDto>> GetCoordinatesAsync(CancellationToken cancellationToken = default) =>
        await SendAsync(HttpMethod.Get, "v1/coordinates", RumorJsonContext.Default.NodeCoordinateDtoArray, cancellationToken).ConfigureAwait(false);

    /// <summary><c>GET /v1/members/{name}</c>: one member with its verdicts and probes (a 404 <see cref="RumorApiException"/> for an unknown name).</summary>
    /// <param name="name">The member's name.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The member.</returns>
    public Task<MemberDetailDto> GetMemberAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return SendAsync(HttpMethod.Get, "v1/members/" + ApiPath.Segment(name), RumorJsonContext.Default.MemberDetailDto, cancellationToken);
    }

    /// <summary><c>POST /v1/join</c>: joins the cluster through seeds (a 502 <see cref="RumorApiException"/> when none answered; its problem's <c>failed</c> lists why).</summary>
    /// <param name="seeds">Seed addresses, IPv4:port or [IPv6]:port.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The seeds that answered and those that did not.</returns>
    public Task<JoinResponse> JoinAsync(IEnumerable<string> seeds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        // A join waits for push-pull exchanges with every seed: the agent's stream time on top.
        return SendAsync(HttpMethod.Post, "v1/join", Body(new JoinRequest([.. seeds]), RumorJsonContext.Default.JoinRequest), RumorJsonContext.Default.JoinResponse, cancellationToken, JoinWait);
    }

    /// <summary><c>POST /v1/leave</c>: leaves the cluster gracefully; the request waits up to <paramref name="timeout"/> on purpose.</summary>
    /// <param name="timeout">How long to spread the leave (the agent's default, 5 s, when null).</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>Whether the leave was spread in time.</returns>
    public Task<LeaveResponse> LeaveAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) => LeaveAsync(timeout, shutdown: false, cancellationToken);

    /// <summary><c>POST /v1/leave</c>: leaves the cluster gracefully and, with <paramref name="shutdown"/>, stops the agent afterwards.</summary>
    /// <param name="timeout">How long the agent spreads the leave (its default when null).</param>
    /// <param name="shutdown">True: the agent stops after leaving.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>Whether the leave spread in time, and whether the agent is stopping.</returns>
    public Task<LeaveResponse> LeaveAsync(TimeSpan? timeout, bool shutdown, CancellationToken cancellationToken = default)
    {
        HttpContent? body = timeout is not null || shutdown
            ? Body(new LeaveRequest(timeout is { } t ? (long)t.TotalMilliseconds : null, shutdown ? true : null), RumorJsonContext.Default.LeaveRequest)
            : null;
        return SendAsync(HttpMethod.Post, "v1/leave", body, RumorJsonContext.Default.LeaveResponse, cancellationToken, timeout ?? DefaultLeaveWait);
    }

    /// <summary><c>GET /v1/info</c>: the agent itself (name, version, tags, encryption, handlers, runtime).</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The agent's description.</returns>
    public Task<InfoDto> GetInfoAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "v1/info", RumorJsonContext.Default.InfoDto, cancellationToken);

    /// <summary><c>GET /v1/tags</c>: the agent's own tags.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The tags.</returns>
    public Task<TagsDto> GetTagsAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "v1/tags", RumorJsonContext.Default.TagsDto, cancellationToken);

    /// <summary><c>PATCH /v1/tags</c>: sets and deletes the agent's own tags at run time; the change spreads to every member.</summary>
    /// <param name="request">Tags to set and keys to delete.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The tags afterwards.</returns>
    public Task<TagsDto> UpdateTagsAsync(TagsUpdateRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return SendAsync(HttpMethod.Patch, "v1/tags", Body(request, RumorJsonContext.Default.TagsUpdateRequest), RumorJsonContext.Default.TagsDto, cancellationToken);
    }

    /// <summary><c>POST /v1/members/{name}/force-leave</c>: forces a failed member into the left state.</summary>
    /// <param name="name">The member.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>Its state afterwards.</returns>
    public Task<ForceLeaveDto> ForceLeaveAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return SendAsync(HttpMethod.Post, "v1/members/" + Uri.EscapeDataString(name) + "/force-leave", null, RumorJsonContext.Default.ForceLeaveDto, cancellationToken);
    }

    /// <summary><c>GET /v1/kv</c>: every member's keys, optionally under a prefix or of one owner.</summary>
    /// <param name="prefix">Only keys starting with this.</param>
    /// <param name="owner">Only keys of this member.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The entries.</returns>
    public async Task<IReadOnlyList<KvEntryDto>> ListKeysAsync(string? prefix = null, string? owner = null, CancellationToken cancellationToken = default) =>
        await SendAsync(HttpMethod.Get, ApiPath.With("v1/kv", ("prefix", prefix), ("owner", owner)), RumorJsonContext.Default.KvEntryDtoArray, cancellationToken).ConfigureAwait(false);

    /// <summary><c>GET /v1/kv/{key}</c>: a key as every member that has it holds it (a 404 <see cref="RumorApiException"/> when none does).</summary>
    /// <param name="key">The key (slashes allowed).</param>
    /// <param name="owner">Only this member's copy.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The entries, one per owner.</returns>
    public async Task<IReadOnlyList<KvEntryDto>> GetKeyAsync(string key, string? owner = null, CancellationToken cancellationToken = default) =>
        await SendAsync(HttpMethod.Get, ApiPath.With(KeyPath(key), ("owner", owner)), RumorJsonContext.Default.KvEntryDtoArray, cancellationToken).ConfigureAwait(false);

    /// <summary><c>PUT /v1/kv/{key}</c> with a text value.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value, sent as UTF-8 text.</param>
    /// <param name="ttl">A time to live, if the key should expire.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The key's new version.</returns>
    public Task<KvWriteResponse> SetKeyAsync(string key, string value, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        return SetKeyAsync(key, new KvPutRequest(value, null, Milliseconds(ttl)), cancellationToken);
    }

    /// <summary><c>PUT /v1/kv/{key}</c> with a binary value (sent as base64).</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="ttl">A time to live, if the key should expire.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The key's new version.</returns>
    public Task<KvWriteResponse> SetKeyAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? ttl = null, CancellationToken cancellationToken = default) =>
        SetKeyAsync(key, new KvPutRequest(null, Convert.ToBase64String(value.Span), Milliseconds(ttl)), cancellationToken);

    /// <summary><c>PUT /v1/kv/{key}</c> with the request body as given.</summary>
    /// <param name="key">The key.</param>
    /// <param name="request">The body.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The key's new version.</returns>
    public Task<KvWriteResponse> SetKeyAsync(string key, KvPutRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return SendAsync(HttpMethod.Put, KeyPath(key), Body(request, RumorJsonContext.Default.KvPutRequest), RumorJsonContext.Default.KvWriteResponse, cancellationToken);
    }

    /// <summary><c>DELETE /v1/kv/{key}</c>: deletes one of the answering node's keys (a 404 <see cref="RumorApiException"/> when it owns no such key).</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The deletion's version.</returns>
    public Task<KvWriteResponse> DeleteKeyAsync(string key, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, KeyPath(key), RumorJsonContext.Default.KvWriteResponse, cancellationToken);

    /// <summary>
    /// <c>GET /v1/kv/watch</c>: key changes under a prefix. Returns once the agent has registered the
    /// watch (nothing after that is missed); enumerate the result for the changes and dispose it to stop.
    /// </summary>
    /// <param name="prefix">Only keys starting with this (all when null).</param>
    /// <param name="cancellationToken">Stops waiting for the subscription (the enumeration takes its own token).</param>
    /// <returns>The open stream.</returns>
    public Task<RumorEventStream<KvChangeDto>> WatchKeysAsync(string? prefix = null, CancellationToken cancellationToken = default) =>
        OpenStreamAsync(ApiPath.With("v1/kv/watch", ("prefix", prefix)), static (type, data) => type == StreamEvent.ChangeType ? Parse(data, RumorJsonContext.Default.KvChangeDto) : null, cancellationToken);

    /// <summary>
    /// <c>GET /v1/kv/watch</c> as events: key changes under <paramref name="prefix"/> (<see cref="StreamEvent.Kv"/>)
    /// and, when this reader fell behind the agent's bound, how many it lost (<see cref="StreamEvent.Dropped"/>).
    /// Returns once the agent has subscribed; enumerate the result and dispose it to stop.
    /// </summary>
    /// <param name="prefix">Only keys starting with this; all when null.</param>
    /// <param name="cancellationToken">Stops waiting for the subscription.</param>
    /// <returns>The open stream.</returns>
    public Task<RumorEventStream<StreamEvent>> WatchKeyEventsAsync(string? prefix = null, CancellationToken cancellationToken = default) =>
        OpenStreamAsync(ApiPath.With("v1/kv/watch", ("prefix", prefix)), static (type, data) => type switch
        {
            StreamEvent.ChangeType => new StreamEvent { Type = type, Kv = Parse(data, RumorJsonContext.Default.KvChangeDto) },
            StreamEvent.DroppedType => new StreamEvent { Type = type, Dropped = Parse(data, RumorJsonContext.Default.StreamDroppedDto) },
            _ => null,
        }, cancellationToken);

    /// <summary>
    /// <c>GET /v1/stream</c>: member changes, user events and key changes as they happen. Returns once
    /// the agent has subscribed; enumerate the result and dispose it to stop.
    /// </summary>
    /// <param name="kinds">Only these kinds (<c>member</c>, <c>event</c>, <c>kv</c>); all when null or empty.</param>
    /// <param name="cancellationToken">Stops waiting for the subscription.</param>
    /// <returns>The open stream.</returns>
    public Task<RumorEventStream<StreamEvent>> StreamAsync(IEnumerable<string>? kinds = null, CancellationToken cancellationToken = default)
    {
        string? list = kinds is null ? null : string.Join(',', kinds);
        return OpenStreamAsync(ApiPath.With("v1/stream", ("kinds", string.IsNullOrEmpty(list) ? null : list)), ParseStreamEvent, cancellationToken);
    }

    /// <summary><c>POST /v1/events</c>: broadcasts a user event.</summary>
    /// <param name="request">The event.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The event's id and Lamport time.</returns>
    public Task<EventSentDto> SendEventAsync(EventSendRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return SendAsync(HttpMethod.Post, "v1/events", Body(request, RumorJsonContext.Default.EventSendRequest), RumorJsonContext.Default.EventSentDto, cancellationToken);
    }

    /// <summary><c>GET /v1/events</c>: the user events this node received most recently.</summary>
    /// <param name="limit">At most this many (the agent's default, 100, when null).</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The events.</returns>
    public async Task<IReadOnlyList<EventDto>> GetEventsAsync(int? limit = null, CancellationToken cancellationToken = default) =>
        await SendAsync(HttpMethod.Get, ApiPath.With("v1/events", ("limit", limit?.ToString(CultureInfo.InvariantCulture))), RumorJsonContext.Default.EventDtoArray, cancellationToken).ConfigureAwait(false);

    /// <summary><c>POST /v1/query</c>: asks the cluster and waits for the answers (the request waits the query's timeout on purpose).</summary>
    /// <param name="request">The query.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The answers and who did not answer.</returns>
    public Task<QueryResultDto> QueryAsync(QueryPostRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        TimeSpan wait = request.TimeoutMs is > 0 and var ms ? TimeSpan.FromMilliseconds(Math.Min(ms, (long)TimeSpan.FromDays(1).TotalMilliseconds)) : DefaultQueryWait;
        return SendAsync(HttpMethod.Post, "v1/query", Body(request, RumorJsonContext.Default.QueryPostRequest), RumorJsonContext.Default.QueryResultDto, cancellationToken, wait);
    }

    /// <summary><c>GET /v1/keys</c>: every member's gossip keys (a cluster-wide query).</summary>
    /// <param name="timeoutMs">How long the agent waits for the members (default 5000).</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>Each key with its holders, each member's answer and who did not answer.</returns>
    public Task<KeysResponse> ListKeysAsync(long? timeoutMs = null, CancellationToken cancellationToken = default) =>
        SendAsync<KeysResponse>(HttpMethod.Get, ApiPath.With("v1/keys", ("timeoutMs", timeoutMs?.ToString(CultureInfo.InvariantCulture))), null, RumorJsonContext.Default.KeysResponse, cancellationToken, KeyWait(timeoutMs));

    /// <summary><c>POST /v1/keys/{operation}</c>: installs, makes primary (use) or removes a gossip key on every member.</summary>
    /// <param name="operation">install, use or remove.</param>
    /// <param name="request">The key (base64) and an optional wait.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>Each member's answer and who did not answer.</returns>
    public Task<KeysResponse> ChangeKeyAsync(string operation, KeyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(request);
        return SendAsync<KeysResponse>(HttpMethod.Post, "v1/keys/" + ApiPath.Segment(operation), Body(request, RumorJsonContext.Default.KeyRequest), RumorJsonContext.Default.KeysResponse, cancellationToken, KeyWait(request.TimeoutMs));
    }

    private static TimeSpan KeyWait(long? timeoutMs) =>
        TimeSpan.FromMilliseconds(timeoutMs is > 0 and var ms ? Math.Min(ms, (long)TimeSpan.FromDays(1).TotalMilliseconds) : 5000);

    /// <summary><c>GET /v1/aggregates</c>: the aggregates running at the node, with their estimates.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The aggregates, in the order they started there.</returns>
    public async Task<IReadOnlyList<AggregateDto>> ListAggregatesAsync(CancellationToken cancellationToken = default) =>
        await SendAsync(HttpMethod.Get, "v1/aggregates", RumorJsonContext.Default.AggregateDtoArray, cancellationToken).ConfigureAwait(false);

    /// <summary><c>GET /v1/aggregates</c>: the keys of the aggregates the node computes.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The keys.</returns>
    public async Task<IReadOnlyList<string>> GetAggregateKeysAsync(CancellationToken cancellationToken = default) =>
        [.. (await ListAggregatesAsync(cancellationToken).ConfigureAwait(false)).Select(a => a.Key)];

    /// <summary><c>POST /v1/aggregates</c>: starts a cluster-wide aggregate (an aggregate already running is answered as it is).</summary>
    /// <param name="request">The key, function and lifetime.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The node's first estimate.</returns>
    public Task<AggregateDto> StartAggregateAsync(AggregateStartRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return SendAsync(HttpMethod.Post, "v1/aggregates", Body(request, RumorJsonContext.Default.AggregateStartRequest), RumorJsonContext.Default.AggregateDto, cancellationToken);
    }

    /// <summary><c>GET /v1/aggregates/{key}</c>: the node's estimate of one running aggregate (a 404 problem when it does not run there).</summary>
    /// <param name="key">The aggregate's key.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The estimate.</returns>
    public Task<AggregateDto> GetAggregateAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return SendAsync(HttpMethod.Get, "v1/aggregates/" + ApiPath.Key(key), RumorJsonContext.Default.AggregateDto, cancellationToken);
    }

    /// <summary><c>DELETE /v1/aggregates/{key}</c>: stops an aggregate cluster-wide (a 404 problem when it does not run there).</summary>
    /// <param name="key">The aggregate's key.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The confirmation.</returns>
    public Task<AggregateStoppedDto> StopAggregateAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return SendAsync(HttpMethod.Delete, "v1/aggregates/" + ApiPath.Key(key), RumorJsonContext.Default.AggregateStoppedDto, cancellationToken);
    }

    /// <summary>Releases the connections when the client created them.</summary>
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    /// <summary>Why a connection failed, in the words an operator searches for.</summary>
    internal static string Describe(HttpRequestException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused",
                    SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
                    SocketError.TimedOut => "connection timed out",
                    SocketError.NetworkUnreachable or SocketError.HostUnreachable => "unreachable",
                    SocketError.ConnectionReset => "connection reset",
                    _ => socket.Message,
                };
            }
        }

        return e.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => "host not found",
            HttpRequestError.ResponseEnded => "the connection closed before an answer",
            HttpRequestError.SecureConnectionError => "TLS handshake failed",
            HttpRequestError.InvalidResponse => "the answer was not HTTP",
            _ => e.Message,
        };
    }

    private static string KeyPath(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return "v1/kv/" + ApiPath.Key(key);
    }

    private static long? Milliseconds(TimeSpan? span) => span is { } s ? (long)s.TotalMilliseconds : null;

    private static ByteArrayContent Body<T>(T value, JsonTypeInfo<T> type)
    {
        ByteArrayContent content = new(JsonSerializer.SerializeToUtf8Bytes(value, type));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    private static T? Parse<T>(ReadOnlySpan<byte> data, JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(data, type);
        }
        catch (JsonException e)
        {
            throw new RumorApiException($"a stream event's data was not the API's JSON ({e.Message})", e);
        }
    }

    private static StreamEvent? ParseStreamEvent(string type, ReadOnlySpan<byte> data) => type switch
    {
        StreamEvent.MemberType => new StreamEvent { Type = type, Member = Parse(data, RumorJsonContext.Default.MemberEventDto) },
        StreamEvent.UserType => new StreamEvent { Type = type, UserEvent = Parse(data, RumorJsonContext.Default.EventDto) },
        StreamEvent.KvType => new StreamEvent { Type = type, Kv = Parse(data, RumorJsonContext.Default.KvChangeDto) },
        StreamEvent.DroppedType => new StreamEvent { Type = type, Dropped = Parse(data, RumorJsonContext.Default.StreamDroppedDto) },
        // An event type this client does not know (a newer agent): skipped, as EventSource does.
        _ => null,
    };

    private Uri Resolve(string path) => new(BaseAddress, path);

    private Task<T> SendAsync<T>(HttpMethod method, string path, JsonTypeInfo<T> answer, CancellationToken cancellationToken) =>
        SendAsync(method, path, body: null, answer, cancellationToken);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? body, JsonTypeInfo<T> answer, CancellationToken cancellationToken, TimeSpan extraWait = default)
    {
        using HttpRequestMessage request = new(method, Resolve(path)) { Content = body };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        Authorize(request);
        TimeSpan limit = RequestTimeout + extraWait;
        using CancellationTokenSource deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        byte[] content;
        HttpStatusCode status;
        MediaTypeHeaderValue? contentType;
        TimeSpan? retryAfter;
        try
        {
            using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, deadline.Token).ConfigureAwait(false);
            content = await response.Content.ReadAsByteArrayAsync(deadline.Token).ConfigureAwait(false);
            status = response.StatusCode;
            contentType = response.Content.Headers.ContentType;
            retryAfter = RetryAfter(response);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RumorUnreachableException($"no answer within {Seconds(limit)}");
        }
        catch (HttpRequestException e)
        {
            throw new RumorUnreachableException(Describe(e), e);
        }

        if ((int)status is < 200 or > 299)
        {
            throw Problem(method, path, status, contentType, content, retryAfter);
        }

        T? value;
        try
        {
            value = JsonSerializer.Deserialize(content, answer);
        }
        catch (JsonException e)
        {
            throw new RumorApiException($"the answer to {method} /{path} was not JSON of the API ({e.Message.Split(" Path:", 2)[0]}): is something other than a rumor agent listening at {Display(BaseAddress)}?", e) { NotAnAgent = true, Status = (int)status, Method = method.Method, Path = path };
        }

        return value ?? throw new RumorApiException($"the answer to {method} /{path} was JSON null: is something other than a rumor agent listening at {Display(BaseAddress)}?") { NotAnAgent = true, Status = (int)status, Method = method.Method, Path = path };
    }

    private async Task<RumorEventStream<T>> OpenStreamAsync<T>(string path, System.Net.ServerSentEvents.SseItemParser<T?> parse, CancellationToken cancellationToken)
        where T : class
    {
        using HttpRequestMessage request = new(HttpMethod.Get, Resolve(path));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        Authorize(request);
        HttpResponseMessage response;
        using (CancellationTokenSource deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            deadline.CancelAfter(RequestTimeout);
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new RumorUnreachableException($"no answer within {Seconds(RequestTimeout)}");
            }
            catch (HttpRequestException e)
            {
                throw new RumorUnreachableException(Describe(e), e);
            }
        }

        try
        {
            if (!response.IsSuccessStatusCode)
            {
                byte[] content;
                try
                {
                    content = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (HttpRequestException)
                {
                    content = [];
                }

                throw Problem(HttpMethod.Get, path, response.StatusCode, response.Content.Headers.ContentType, content, RetryAfter(response));
            }

            if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
            {
                throw new RumorApiException($"the answer to GET /{path} was not an event stream ({response.Content.Headers.ContentType?.MediaType ?? "no content type"}): is something other than a rumor agent listening at {Display(BaseAddress)}?") { NotAnAgent = true, Status = (int)response.StatusCode, Method = "GET", Path = path };
            }

            Stream stream;
            try
            {
                stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new RumorUnreachableException(Describe(e), e);
            }

            return new RumorEventStream<T>(response, stream, parse);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An error answer as an exception whose message is one sentence: the problem details' detail
    /// (else its title), or, when the body is not a problem document, the status and what was asked.
    /// </summary>
    private RumorApiException Problem(HttpMethod method, string path, HttpStatusCode status, MediaTypeHeaderValue? contentType, byte[] content, TimeSpan? retryAfter)
    {
        ApiProblem? problem = null;
        if (contentType?.MediaType is "application/problem+json" or "application/json" && content.Length > 0)
        {
            try
            {
                problem = JsonSerializer.Deserialize(content, RumorJsonContext.Default.ApiProblem);
            }
            catch (JsonException)
            {
                // Not a problem document after all: described by its status below.
            }
        }

        // Another web server (or a path prefix the agent does not have) answers a wrong address with
        // a 404 or 405 and no problem document; the agent names a path it does not serve by its type.
        bool notAnAgent = (problem is null && status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
            || problem?.Type == RumorApiException.NoSuchEndpointType;
        string message = problem?.Detail is { Length: > 0 } detail ? detail
            : problem?.Title is { Length: > 0 } title ? title
            : notAnAgent ? $"{method} {new Uri(BaseAddress, path).AbsolutePath} answered {(int)status} {ReasonPhrase(status)} ({contentType?.MediaType ?? "no content type"}), not the API's problem document: is something other than a rumor agent listening at {Display(BaseAddress)}?"
            : $"the agent at {Display(BaseAddress)} answered {(int)status} {ReasonPhrase(status)} to {method} /{path}";
        if (status == HttpStatusCode.Unauthorized && Token is not null)
        {
            // The agent's detail says a token is needed or wrong; say which one this client sent.
            message += " (this client sent a token of " + Token.Length.ToString(CultureInfo.InvariantCulture) + " characters)";
        }

        return new RumorApiException(message) { Status = (int)status, Problem = problem, Method = method.Method, Path = path, RetryAfter = retryAfter, NotAnAgent = notAnAgent };
    }

    private static string ReasonPhrase(HttpStatusCode status) => status switch
    {
        HttpStatusCode.NotFound => "Not Found",
        HttpStatusCode.MethodNotAllowed => "Method Not Allowed",
        HttpStatusCode.BadRequest => "Bad Request",
        HttpStatusCode.InternalServerError => "Internal Server Error",
        HttpStatusCode.BadGateway => "Bad Gateway",
        HttpStatusCode.ServiceUnavailable => "Service Unavailable",
        HttpStatusCode.Unauthorized => "Unauthorized",
        HttpStatusCode.Forbidden => "Forbidden",
        HttpStatusCode.TooManyRequests => "Too Many Requests",
        _ => status.ToString(),
    };

    private void Authorize(HttpRequestMessage request)
    {
        if (Token is { } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>The answer's <c>Retry-After</c> as a wait (seconds or a date), when it has one.</summary>
    private static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow > TimeSpan.Zero ? date - DateTimeOffset.UtcNow : TimeSpan.Zero,
        _ => null,
    };

    /// <summary>The address as people type it: without the slash a base URL needs.</summary>
    internal static string Display(Uri address) => address.AbsoluteUri.TrimEnd('/');

    private static string Seconds(TimeSpan span) => $"{span.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s";
}
