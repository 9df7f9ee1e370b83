using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rumor.Agent.Security;
using Rumor.Client;
using Rumor.Core;
using Rumor.Serf;
using Rumor.Serf.Wire;

namespace Rumor.Agent.Serf;

/// <summary>
/// The agent with <c>Protocol = Serf</c>: a <see cref="SerfNode"/> (memberlist + Serf on the wire)
/// behind the part of the HTTP API that Serf can carry: health, members, join, leave, and user
/// events (send and recent), queries (as <c>serf query</c>) and key rotation. Rumor-only features
/// (replicated KV, aggregates, the event stream, status counters) answer 501 with a problem saying so (docs/INTEROP.md). This is a
/// separate small host rather than a mode of <see cref="RumorAgent"/> because the Rumor host is
/// built around Rumor.Hosting's node; the API models are the same, so <c>rumor members</c> and
/// <c>rumor event</c> work unchanged.
/// </summary>
public sealed class SerfModeAgent : IAsyncDisposable
{
    /// <summary>How many received events <c>GET /v1/events</c> can return.</summary>
    public const int RecentEventsMax = 256;

    private WebApplication _app = null!;
    private readonly ConcurrentQueue<EventDto> _recent = new();
    private readonly TimeProvider _time = TimeProvider.System;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _changedAt = new(StringComparer.Ordinal);

    private SerfModeAgent(SerfNode node, AgentSettings settings)
    {
        Node = node;
        Settings = settings;
        node.UserEventReceived += e =>
        {
            _recent.Enqueue(new EventDto(e.LTime.ToString(CultureInfo.InvariantCulture), e.Name, ApiJson.TryText(e.Payload), Convert.ToBase64String(e.Payload), "", e.LTime, _time.GetUtcNow()));
            while (_recent.Count > RecentEventsMax && _recent.TryDequeue(out _))
            {
            }
        };
        node.MemberChanged += e =>
        {
            if (e.Kind == SerfMemberEventKind.Reap)
            {
                _changedAt.TryRemove(e.Member.Name, out _);
            }
            else
            {
                _changedAt[e.Member.Name] = _time.GetUtcNow();
            }
        };
        node.QueryHandler = AnswerBuiltInQuery;
    }

    /// <summary>The built-in queries a Serf-mode agent answers (<c>serf query rumor.ping</c>): rumor.ping (the name), rumor.status (name and members known), rumor.tags (key=value lines).</summary>
    public static readonly IReadOnlyList<string> BuiltInQueries = ["rumor.ping", "rumor.status", "rumor.tags"];

    private byte[]? AnswerBuiltInQuery(SerfQuery query) => query.Name switch
    {
        "rumor.ping" => Encoding.UTF8.GetBytes(Node.Name),
        "rumor.status" => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{Node.Name} members={Node.Members.Count(m => m.Status == SerfMemberStatus.Alive)} protocol=serf")),
        "rumor.tags" => Encoding.UTF8.GetBytes(string.Join('\n', Node.Members.First(m => m.Name == Node.Name).Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"))),
        _ => null,
    };

    /// <summary>The node.</summary>
    public SerfNode Node { get; }

    /// <summary>The event handlers (<c>--event-handler</c>), run as Serf's agent runs them.</summary>
    public SerfEventHandlerRunner EventHandlers { get; private set; } = null!;

    /// <summary>The settings it runs with.</summary>
    public AgentSettings Settings { get; }

    /// <summary>Where the HTTP API answers.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>The HTTP host's services (tests).</summary>
    internal IServiceProvider Services => _app.Services;

    /// <summary>
    /// Maps the agent's options to a Serf node's. Throws <see cref="AgentConfigurationException"/>
    /// for what Serf mode does not support yet (encryption, DNS seeds, a wildcard bind without an advertise address).
    /// </summary>
    public static SerfNodeOptions ToSerfOptions(AgentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        SerfKeyring? keyring = Keyring(settings);
        if (!NodeAddress.TryParse(settings.Rumor.Bind, out NodeAddress bind))
        {
            throw new AgentConfigurationException($"Bind '{settings.Rumor.Bind}' is not an address.");
        }

        IPAddress? advertise = null;
        if (settings.Rumor.Advertise is { Length: > 0 } advertiseText)
        {
            if (!NodeAddress.TryParse(advertiseText, out NodeAddress a) || a.Port != bind.Port && bind.Port != 0)
            {
                throw new AgentConfigurationException($"Advertise '{advertiseText}' must be an address with the bind port (Serf uses one port for UDP and TCP).");
            }

            advertise = a.ToIPAddress();
        }
        else if (bind.ToIPAddress().Equals(IPAddress.Any) || bind.ToIPAddress().Equals(IPAddress.IPv6Any))
        {
            throw new AgentConfigurationException($"with --protocol serf, bind a specific address (not {bind}) or give --advertise: Serf members must know where to reach this node.");
        }

        (TimeSpan probe, TimeSpan probeTimeout, int indirect, int suspicion, int retransmit, TimeSpan gossip, int fanout, TimeSpan pushPull, TimeSpan tcp) = settings.Rumor.Preset.ToLowerInvariant() switch
        {
            "wan" => (TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(3), 3, 6, 4, TimeSpan.FromMilliseconds(500), 4, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30)),
            "local" => (TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(200), 1, 3, 2, TimeSpan.FromMilliseconds(100), 3, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(1)),
            "lan" => (TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500), 3, 4, 4, TimeSpan.FromMilliseconds(200), 3, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10)),
            _ => throw new AgentConfigurationException($"unknown preset '{settings.Rumor.Preset}': expected lan, wan or local."),
        };
        return new SerfNodeOptions
        {
            Name = string.IsNullOrEmpty(settings.Rumor.Name) ? Environment.MachineName : settings.Rumor.Name,
            Bind = new IPEndPoint(bind.ToIPAddress(), bind.Port),
            Advertise = advertise,
            Keyring = keyring,
            KeyringFile = keyring is null || string.IsNullOrEmpty(settings.Rumor.KeyringFile) ? null : settings.Rumor.KeyringFile,
            Tags = new Dictionary<string, string>(settings.Rumor.Tags, StringComparer.Ordinal),
            ProbeInterval = settings.Rumor.ProbeInterval ?? probe,
            ProbeTimeout = settings.Rumor.ProbeTimeout ?? probeTimeout,
            IndirectChecks = settings.Rumor.IndirectChecks ?? indirect,
            SuspicionMult = settings.Rumor.SuspicionMultiplier ?? suspicion,
            RetransmitMult = settings.Rumor.RetransmitMultiplier ?? retransmit,
            GossipInterval = settings.Rumor.GossipInterval ?? gossip,
            GossipNodes = settings.Rumor.GossipFanout ?? fanout,
            PushPullInterval = settings.Rumor.PushPullInterval ?? pushPull,
            GossipToTheDeadTime = pushPull,
            TcpTimeout = settings.Rumor.StreamTimeout ?? tcp,
            BroadcastTimeout = settings.Rumor.LeaveTimeout,
            EventImmediatePush = settings.SerfNode.EventImmediatePush,
            MemberImmediatePush = settings.SerfNode.MemberImmediatePush,
            ReconnectTimeout = settings.SerfNode.ReconnectTimeout,
            TombstoneTimeout = settings.SerfNode.TombstoneTimeout,
            ReapInterval = settings.SerfNode.ReapInterval,
        };
    }

    /// <summary>
    /// Serf's keyring from <c>KeyringFile</c> (a JSON array of base64 keys, Serf's keyring file
    /// format; its first key is the primary, as Serf writes it after a rotation) and
    /// <c>EncryptKey</c> (<c>--encrypt</c>, base64 of 16, 24 or 32 bytes: a key from
    /// <c>serf keygen</c> works). Without a file the key encrypts; with both, the file's order wins
    /// and the key is added after its keys when absent (Serf refuses both; accepting them keeps a
    /// node restarted with its original --encrypt on the rotated ring). Null when neither is set.
    /// Key changes by key queries rewrite the file (<see cref="SerfNodeOptions.KeyringFile"/>).
    /// </summary>
    public static SerfKeyring? Keyring(AgentSettings settings)
    {
        List<string> keys = [];
        if (!string.IsNullOrEmpty(settings.Rumor.KeyringFile))
        {
            try
            {
                keys.AddRange(System.Text.Json.JsonSerializer.Deserialize(File.ReadAllText(settings.Rumor.KeyringFile), Client.RumorJsonContext.Default.StringArray) ?? []);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
            {
                throw new AgentConfigurationException($"keyring file {settings.Rumor.KeyringFile}: {e.Message}", e);
            }
        }

        if (!string.IsNullOrEmpty(settings.Rumor.EncryptKey) && !keys.Contains(settings.Rumor.EncryptKey, StringComparer.Ordinal))
        {
            keys.Add(settings.Rumor.EncryptKey);
        }

        if (keys.Count == 0)
        {
            return null;
        }

        try
        {
            return new SerfKeyring(keys.Select(Convert.FromBase64String));
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new AgentConfigurationException("gossip key: every key must be base64 of 16, 24 or 32 bytes (serf keygen or rumor keygen prints one).", e);
        }
    }

    /// <summary>The seeds as endpoints; DNS seeds are refused in Serf mode.</summary>
    public static IReadOnlyList<IPEndPoint> Seeds(AgentSettings settings)
    {
        List<IPEndPoint> seeds = [];
        foreach (string seed in settings.Rumor.Seeds)
        {
            if (!NodeAddress.TryParse(seed, out NodeAddress address))
            {
                throw new AgentConfigurationException($"seed '{seed}': only ADDR:PORT seeds are supported with --protocol serf.");
            }

            seeds.Add(new IPEndPoint(address.ToIPAddress(), address.Port));
        }

        return seeds;
    }

    /// <summary>
    /// Binds the Serf node and the HTTP API. Throws <see cref="AgentConfigurationException"/>,
    /// <see cref="System.Net.Sockets.SocketException"/> (gossip address in use) or
    /// <see cref="IOException"/> (HTTP address in use).
    /// </summary>
    public static Task<SerfModeAgent> StartAsync(AgentSettings settings, CancellationToken cancellationToken = default) => StartAsync(settings, beforeJoin: null, join: false, cancellationToken);

    /// <summary>
    /// Binds the Serf node, sends the first join through the configured seeds when <paramref name="join"/>
    /// says so, and starts the HTTP API. Throws as <see cref="StartAsync(AgentSettings, CancellationToken)"/>.
    /// </summary>
    /// <param name="settings">The agent's settings.</param>
    /// <param name="beforeJoin">Called with the agent once its node is bound and its listeners (event handlers, recent events) are subscribed, before the first join goes out and before the HTTP API exists: subscribe to the node here to see every member and event the join brings.</param>
    /// <param name="join">Send the first join through the configured seeds at once (see <see cref="FirstJoin"/>); false: the caller joins with <see cref="JoinAsync"/>.</param>
    /// <param name="cancellationToken">Cancels the start and the first join.</param>
    public static async Task<SerfModeAgent> StartAsync(AgentSettings settings, Action<SerfModeAgent>? beforeJoin, bool join, CancellationToken cancellationToken = default)
    {
        SerfNodeOptions options = ToSerfOptions(settings);
        IReadOnlyList<IPEndPoint> seeds = Seeds(settings);
        SerfNode node = SerfNode.Start(options);
        StartupTrace.Mark("serf node bound");
        SerfModeAgent agent = new(node, settings);
        WebApplication? app = null;
        try
        {
            // The HTTP host's logging has no providers (below), so the runner logs only through its
            // Logged event, as before it was created ahead of the host.
            agent.EventHandlers = new SerfEventHandlerRunner(node, settings.EventHandlers, settings.EventHandlerOptions, settings.SerfCoalesce, NullLogger<SerfEventHandlerRunner>.Instance);
            beforeJoin?.Invoke(agent);
            if (join && seeds.Count > 0)
            {
                // The first join goes out now, before the HTTP API is built and started: its
                // push/pull waits on the network while the API's start uses the CPU, so the two
                // overlap and the cluster learns of this node sooner (issue 14, mixed-cluster
                // convergence; BENCHMARKS, session 14: with nine agents started at once the join
                // now leaves 10-40 ms earlier). The exchange's timeout is the preset's TcpTimeout
                // (10 s for lan and wan, 1 s for local, as memberlist's profiles).
                agent.FirstJoin = node.JoinAsync(seeds, cancellationToken);
                StartupTrace.Mark("join sent");
                StartupTrace.MarkFirstJoin(agent.FirstJoin);
            }

            // As RumorAgent: no watch of appsettings.json in the working directory (a file-watcher
            // thread waking an idle agent); the agent reads its own configuration once.
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"], ApplicationName = typeof(SerfModeAgent).Assembly.GetName().Name });
            builder.Logging.ClearProviders();
            ApiHardening.Listen(builder, settings);
            builder.Services.AddProblemDetails();
            builder.Services.ConfigureHttpJsonOptions(json => ApiJson.Configure(json.SerializerOptions));

            // The rumor-protocol agent's memory trim: memory given back after a load, and a small
            // idle agent settled (MemoryTrimSlackBytes). This host logs nowhere (ClearProviders),
            // so the trims are silent here.
            builder.Services.AddHostedService(_ => new MemoryTrimmer(settings.Api.MemoryTrimSlackBytes, TimeProvider.System, NullLogger.Instance));
            app = builder.Build();
            app.UseStatusCodePages(ApiJson.WriteStatusProblemAsync);
            ApiHardening.UseGuards(app, settings);
            agent._app = app;
            agent.Map(app);
            StartupTrace.Mark("host built");
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            StartupTrace.Mark("http api started");
            string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            agent.Url = new Uri(address.Replace("[::]", "[::1]", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
            return agent;
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }

            if (agent.EventHandlers is not null)
            {
                await agent.EventHandlers.DisposeAsync().ConfigureAwait(false);
            }

            await node.DisposeAsync().ConfigureAwait(false);
            if (agent.FirstJoin is { } pending)
            {
                // The start failed; the join's own outcome no longer matters (the node is gone).
                await ((Task)pending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            throw;
        }
    }

    /// <summary>
    /// The first join, sent by <see cref="StartAsync(AgentSettings, Action{SerfModeAgent}?, bool, CancellationToken)"/> with <c>join: true</c> when seeds are
    /// configured (null otherwise): how many seeds answered, or <see cref="IOException"/> when none did.
    /// </summary>
    public Task<int>? FirstJoin { get; private set; }

    /// <summary>Joins through the configured seeds; returns how many answered (throws <see cref="IOException"/> when none did).</summary>
    public Task<int> JoinAsync(CancellationToken cancellationToken = default) => Node.JoinAsync(Seeds(Settings), cancellationToken);

    private void Map(WebApplication app)
    {
        app.MapGet("/v1/health", () => ApiJson.Json(new HealthDto("ok"), ApiJson.Options));
        app.MapGet("/v1/members", (string? state) =>
        {
            Client.MemberState? filter = null;
            if (state is not null)
            {
                if (!Enum.TryParse(state, ignoreCase: true, out Client.MemberState parsed))
                {
                    return ApiJson.BadRequest($"state '{state}' is not a state: expected alive, suspect, dead or left.");
                }

                filter = parsed;
            }

            return ApiJson.Json(Node.Members.Select(ToApi).Where(m => filter is null || m.State == filter).ToArray(), ApiJson.Options);
        });
        app.MapGet("/v1/members/{name}", (string name) => Node.FindMember(name) is { } m
            ? ApiJson.Json(ToDetail(ToApi(m)), ApiJson.Options)
            : ApiJson.NotFound($"no member named '{name}'."));
        app.MapGet("/v1/coordinates", () => ApiJson.Json(
            Node.Coordinates.OrderBy(c => c.Key, StringComparer.Ordinal)
                .Select(c => new NodeCoordinateDto(c.Key, new CoordinateDto([.. c.Value.Vec], c.Value.Error, c.Value.Adjustment, c.Value.Height), c.Key == Node.Name))
                .ToArray(),
            ApiJson.Options));
        app.MapPost("/v1/events", async (HttpRequest request) =>
        {
            (EventSendRequest? body, IResult? problem) = await ApiJson.ReadBodyAsync<EventSendRequest>(request).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            if (string.IsNullOrEmpty(body!.Name))
            {
                return ApiJson.BadRequest("name is missing: an event needs a name, for example {\"name\":\"deploy\",\"payload\":\"v42\"}.");
            }

            if (!ApiJson.TryBytes(body.Payload, body.PayloadBase64, "payload", required: false, out byte[] payload, out IResult? payloadProblem))
            {
                return payloadProblem!;
            }

            try
            {
                ulong lTime = Node.EventClock;
                Node.SendUserEvent(body.Name, payload, body.Coalesce ?? false);
                return ApiJson.Json(new EventSentDto(lTime.ToString(CultureInfo.InvariantCulture), body.Name, lTime), ApiJson.Options);
            }
            catch (ArgumentException e)
            {
                return ApiJson.BadRequest(e);
            }
        });
        app.MapGet("/v1/events", (int? limit) =>
        {
            int wanted = limit ?? 100;
            if (wanted is <= 0 or > RecentEventsMax)
            {
                return ApiJson.BadRequest($"limit is {wanted}; it must be between 1 and {RecentEventsMax}.");
            }

            return ApiJson.Json(_recent.Reverse().Take(wanted).ToArray(), ApiJson.Options);
        });
        app.MapPost("/v1/join", async (HttpRequest request, CancellationToken cancellationToken) =>
        {
            (JoinRequest? body, IResult? problem) = await ApiJson.ReadBodyAsync<JoinRequest>(request).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            List<JoinedDto> joined = [];
            List<JoinFailedDto> failed = [];
            foreach (string seed in body!.Seeds ?? [])
            {
                if (!NodeAddress.TryParse(seed, out NodeAddress address))
                {
                    failed.Add(new JoinFailedDto(seed, "only ADDR:PORT seeds are supported with --protocol serf"));
                    continue;
                }

                try
                {
                    await Node.JoinAsync([new IPEndPoint(address.ToIPAddress(), address.Port)], cancellationToken).ConfigureAwait(false);
                    joined.Add(new JoinedDto(seed, Node.Members.Count));
                }
                catch (IOException e)
                {
                    failed.Add(new JoinFailedDto(seed, e.Message));
                }
            }

            return ApiJson.Json(new JoinResponse(joined, failed), ApiJson.Options, statusCode: joined.Count > 0 ? 200 : 502);
        });
        app.MapPost("/v1/leave", async () =>
        {
            await Node.LeaveAsync().ConfigureAwait(false);
            return ApiJson.Json(new LeaveResponse(true), ApiJson.Options);
        });

        // Key rotation of the whole (mixed) cluster through Serf's key queries, as `serf keys`.
        app.MapGet("/v1/keys", (long? timeoutMs, CancellationToken cancellationToken) => KeysAsync("list", null, timeoutMs, cancellationToken));
        app.MapPost("/v1/keys/{operation}", async (string operation, HttpRequest request, CancellationToken cancellationToken) =>
        {
            if (operation is not ("install" or "use" or "remove"))
            {
                return ApiJson.NotFound($"no key operation '{operation}': expected install, use or remove.");
            }

            (KeyRequest? body, IResult? problem) = await ApiJson.ReadBodyAsync<KeyRequest>(request).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            KeyRequest keyRequest = body!;
            byte[] key;
            try
            {
                key = Convert.FromBase64String(keyRequest.Key ?? "");
            }
            catch (FormatException)
            {
                key = [];
            }

            return key.Length is 16 or 24 or 32
                ? await KeysAsync(operation, key, keyRequest.TimeoutMs, cancellationToken).ConfigureAwait(false)
                : ApiJson.BadRequest("key: expected base64 of 16, 24 or 32 bytes (rumor keygen or serf keygen prints one).");
        });

        // A Serf query (as `serf query`): acks and answers from Serf agents' handlers and ours.
        app.MapPost("/v1/query", async (HttpRequest request, CancellationToken cancellationToken) =>
        {
            (QueryPostRequest? body, IResult? problem) = await ApiJson.ReadBodyAsync<QueryPostRequest>(request).ConfigureAwait(false);
            return problem ?? await QueryAsync(body!, cancellationToken).ConfigureAwait(false);
        });

        // What Serf cannot carry: a clear refusal instead of a 404.
        foreach (string pattern in new[] { "/v1/kv", "/v1/kv/{**key}", "/v1/aggregates", "/v1/aggregates/{**key}", "/v1/stream", "/v1/status" })
        {
            app.Map(pattern, (HttpContext context) => ApiJson.Problem(StatusCodes.Status501NotImplemented, "Not available in Serf mode",
                $"{context.Request.Path} is a Rumor-only feature; this agent runs with --protocol serf, which speaks only what Serf agents understand: members, join, leave, user events, queries and keys (docs/INTEROP.md)."));
        }
    }

    // POST /v1/query in Serf mode: the body's tag filter values are Serf's regular expressions
    // (unanchored, as `serf query -tag`), Nodes is Serf's -node, RelayFactor its -relay-factor;
    // the default timeout is Serf's. Expected: the alive members the filters select.
    private async Task<IResult> QueryAsync(QueryPostRequest body, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(body.Name))
        {
            return ApiJson.BadRequest("name is missing: a query needs a name, for example {\"name\":\"rumor.ping\"}.");
        }

        if (body.Name.StartsWith("_serf_", StringComparison.Ordinal))
        {
            return ApiJson.BadRequest("query names starting with '_serf_' are Serf's internal queries; Serf's agent refuses them too (rumor keys drives the key queries).");
        }

        if (!ApiJson.TryBytes(body.Payload, body.PayloadBase64, "payload", required: false, out byte[] payload, out IResult? payloadProblem))
        {
            return payloadProblem!;
        }

        if (body.RelayFactor is { } relay && relay is < 0 or > 5)
        {
            return ApiJson.BadRequest($"relayFactor is {relay}; Serf allows 0 to 5.");
        }

        TimeSpan? timeout = null;
        if (body.TimeoutMs is { } ms)
        {
            if (ms <= 0)
            {
                return ApiJson.BadRequest($"timeoutMs is {ms}; a query waits a positive time.");
            }

            timeout = TimeSpan.FromMilliseconds(Math.Min(ms, (long)TimeSpan.FromMinutes(10).TotalMilliseconds));
        }

        SerfQueryParameters parameters = new(body.Name, payload)
        {
            Nodes = body.Nodes,
            Tags = body.Filter,
            RelayFactor = (byte)(body.RelayFactor ?? 0),
            Timeout = timeout,
        };
        SerfQueryResult result;
        try
        {
            result = await Node.QueryAsync(parameters, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            return ApiJson.BadRequest(e);
        }
        catch (InvalidOperationException e)
        {
            return ApiJson.Problem(StatusCodes.Status503ServiceUnavailable, "Query refused", e.Message);
        }

        List<QueryAnswerDto> answers = [.. result.Responses.Select(r => new QueryAnswerDto(r.From, ApiJson.TryText(r.Payload), ApiJson.TryText(r.Payload) is null ? Convert.ToBase64String(r.Payload) : null))];
        List<string> missing = [.. result.Expected.Where(e => !result.Responses.Any(r => r.From == e))];
        return ApiJson.Json(new QueryResultDto(string.Create(CultureInfo.InvariantCulture, $"{Node.Name}/{result.LTime}.{result.Id}"), body.Name, result.Expected, answers, missing, missing.Count == 0, result.Acks), ApiJson.Options);
    }

    // Sends Serf's key query to every member and reports each answer as the Rumor-mode endpoint
    // does (KeysResponse), so `rumor keys` reads both the same way.
    private async Task<IResult> KeysAsync(string operation, byte[]? key, long? timeoutMs, CancellationToken cancellationToken)
    {
        if (timeoutMs is { } t && t is < 1 or > 60_000)
        {
            return ApiJson.BadRequest($"timeoutMs is {t}; it must be between 1 and 60000.");
        }

        if (!Node.IsEncrypted)
        {
            return ApiJson.Problem(StatusCodes.Status409Conflict, "Encryption is off",
                "this agent runs without a gossip key (--encrypt), so it has no keyring to rotate; Serf members answer the same.");
        }

        List<string> expected = [.. Node.Members.Where(m => m.Status == SerfMemberStatus.Alive).Select(m => m.Name).Order(StringComparer.Ordinal)];
        (string name, byte[] payload) = SerfNode.KeyQuery(operation, key);
        IReadOnlyList<SerfQueryResponse> responses;
        try
        {
            responses = await Node.QueryAsync(name, payload, TimeSpan.FromMilliseconds(timeoutMs ?? 5000), expected, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            return ApiJson.Problem(StatusCodes.Status503ServiceUnavailable, "Query refused", e.Message);
        }

        List<KeyAnswerDto> answers = [];
        Dictionary<string, string> primaries = new(StringComparer.Ordinal);
        foreach (SerfQueryResponse response in responses.OrderBy(r => r.From, StringComparer.Ordinal))
        {
            if (KeyResponseMessage.TryDecode(response.Payload, out KeyResponseMessage answer))
            {
                answers.Add(new KeyAnswerDto(response.From, answer.Result, answer.Result ? null : answer.Message, null, operation == "list" && answer.Result ? answer.Keys : null));
                primaries[response.From] = answer.PrimaryKey;
            }
            else
            {
                answers.Add(new KeyAnswerDto(response.From, false, "the answer was not a key response", null, null));
            }
        }

        List<string> missing = [.. expected.Where(e => !answers.Any(a => a.Member == e))];
        List<KeyHoldingDto> holdings = operation != "list" ? [] : [.. answers.Where(a => a.Keys is not null)
            .SelectMany(a => (a.Keys ?? []).Select(k => (Key: k, Primary: primaries.GetValueOrDefault(a.Member) == k)))
            .GroupBy(x => x.Key, StringComparer.Ordinal)
            .Select(g => new KeyHoldingDto(g.Key, g.Count(), g.Count(x => x.Primary)))
            .OrderByDescending(h => h.Members).ThenBy(h => h.Key, StringComparer.Ordinal)];
        bool succeeded = missing.Count == 0 && answers.All(a => a.Ok);
        return ApiJson.Json(new KeysResponse(operation, expected, answers, missing, holdings, succeeded), ApiJson.Options);
    }

    private MemberDto ToApi(SerfMember m) => new(
        m.Name,
        $"{m.Address}:{m.Port}",
        m.Status switch
        {
            SerfMemberStatus.Failed => Client.MemberState.Dead,
            SerfMemberStatus.Left => Client.MemberState.Left,
            _ when m.MemberlistState == Rumor.Serf.Wire.MemberlistState.Suspect => Client.MemberState.Suspect,
            _ => Client.MemberState.Alive,
        },
        0,
        m.Incarnation,
        m.Tags,
        _changedAt.TryGetValue(m.Name, out DateTimeOffset at) ? (long)(_time.GetUtcNow() - at).TotalMilliseconds : 0,
        m.Name == Node.Name);

    private static MemberDetailDto ToDetail(MemberDto m) => new(m.Name, m.Address, m.State, m.Generation, m.Incarnation, m.Tags, m.StateChangedMs, m.IsLocal, [], []);

    /// <summary>Stops the HTTP API and the node (without leaving: call <see cref="SerfNode.LeaveAsync"/> first for a graceful exit).</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        if (EventHandlers is not null)
        {
            await EventHandlers.DisposeAsync().ConfigureAwait(false);
        }

        await Node.DisposeAsync().ConfigureAwait(false);
    }
}
