using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rumor.Agent.Endpoints;
using Rumor.Agent.EventHandlers;
using Rumor.Agent.Security;
using Rumor.Agent.Streams;
using Rumor.Hosting;

namespace Rumor.Agent;

/// <summary>
/// The agent daemon: a web host running the Rumor node (<see cref="RumorHostedService"/>), the HTTP
/// API of docs/HTTP-API.md, <c>/metrics</c> (OpenTelemetry, <see cref="AgentTelemetry"/>) and the dashboard at <c>/</c>. Endpoint groups live one
/// per file under Endpoints/; adding a group is one Map call in <see cref="MapApi"/>.
/// </summary>
public sealed class RumorAgent : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ApiGuard _guard;
    private readonly bool _httpLoopback;

    private RumorAgent(WebApplication app, Uri url, ApiGuard guard, bool httpLoopback)
    {
        _app = app;
        _guard = guard;
        _httpLoopback = httpLoopback;
        Url = url;
        Node = app.Services.GetRequiredService<RumorNode>();
        EventHandlers = app.Services.GetRequiredService<EventHandlerRunner>();
    }

    /// <summary>True when the agent is stopping because <c>POST /v1/leave</c> (<c>rumor leave</c>) asked it to, after leaving.</summary>
    public bool StoppingAfterLeave => _app.Services.GetRequiredService<LeaveShutdown>().Requested;

    /// <summary>The event handlers (<c>--event-handler</c>): reading the node's events from the start.</summary>
    public EventHandlerRunner EventHandlers { get; }

    /// <summary>Where the HTTP API and dashboard answer (the actual port when 0 was asked for).</summary>
    public Uri Url { get; }

    /// <summary>The node.</summary>
    public RumorNode Node { get; }

    /// <summary>
    /// Replaces the API's read-write and read-only tokens without a restart (a SIGHUP reload of
    /// <c>Token</c>/<c>TokenFile</c>/<c>ReadToken</c>/<c>ReadTokenFile</c>): the next request is checked
    /// against the new ones. Returns null when applied, or why not: removing every token from an API
    /// that listens beyond loopback is refused (it could not have started that way), and the old
    /// tokens stay.
    /// </summary>
    public string? SetApiTokens(string? token, string? readToken)
    {
        if (token is null && readToken is null && !_httpLoopback)
        {
            return "the HTTP API listens beyond loopback and would be left without a token; the old tokens stay";
        }

        if (token is not null && token == readToken)
        {
            return "ReadToken is the same as Token; the old tokens stay";
        }

        _guard.SetTokens(token, readToken);
        return null;
    }

    /// <summary>The host's services (tests read the endpoint data source from here).</summary>
    internal IServiceProvider Services => _app.Services;

    /// <summary>Triggered when the host is stopping (Ctrl+C, a failed required join, <see cref="StopAsync"/>).</summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    /// <summary>
    /// Builds and starts the agent: binds the gossip sockets and the HTTP listener, starts joining.
    /// Throws <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> for invalid options,
    /// <see cref="Transport.TransportBindException"/> when the gossip address is in use and
    /// <see cref="IOException"/> when the HTTP address is.
    /// </summary>
    /// <remarks><paramref name="timeProvider"/> replaces <see cref="TimeProvider.System"/> as the clock of the node and the API (tests pass a fake one).</remarks>
    public static async Task<RumorAgent> StartAsync(AgentSettings settings, Action<ILoggingBuilder>? configureLogging = null, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // appsettings.json (if the working directory has one) is read once, not watched: watching
        // it costs a file-watcher thread and an inotify watch on the working directory per agent,
        // for a reload the agent does not do (SIGHUP reloads its own configuration file).
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"], ApplicationName = typeof(RumorAgent).Assembly.GetName().Name });
        builder.Logging.ClearProviders();
        configureLogging?.Invoke(builder.Logging);
        ApiSettings api = settings.Api;
        ApiHardening.Listen(builder, settings);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = settings.Rumor.LeaveTimeout + TimeSpan.FromSeconds(10));
        if (timeProvider is not null)
        {
            builder.Services.AddSingleton(timeProvider);
        }

        builder.Services.AddRumor(settings.Rumor.CopyTo);
        builder.Services.AddSingleton<LeaveShutdown>();
        builder.Services.AddSingleton(services => new EventHandlerRunner(
            services.GetRequiredService<RumorNode>(),
            settings.EventHandlers,
            settings.EventHandlerOptions,
            services.GetRequiredService<ILoggerFactory>().CreateLogger("Rumor.Agent.EventHandlers")));
        builder.Services.AddAgentTelemetry(settings);
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton(services => new MemoryTrimmer(api.MemoryTrimSlackBytes, services.GetService<TimeProvider>() ?? TimeProvider.System, services.GetRequiredService<ILoggerFactory>().CreateLogger("Rumor.Agent.Memory")));
        builder.Services.AddHostedService(services => services.GetRequiredService<MemoryTrimmer>());
        builder.Services.AddSingleton(services => new StreamHub(services.GetRequiredService<RumorNode>(), api, services.GetRequiredService<ILoggerFactory>().CreateLogger(ApiLog.Category)));
        builder.Services.ConfigureHttpJsonOptions(json => ApiJson.Configure(json.SerializerOptions));
        builder.Services.AddOpenApi(openApi => openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Rumor agent HTTP API";
            document.Info.Description = "The agent's API (docs/HTTP-API.md). Rumor.Client holds its models and a typed client.";
            return Task.CompletedTask;
        }));

        StartupTrace.Mark("host configured");
        WebApplication app = builder.Build();
        StartupTrace.Mark("host built");

        // The gossip node binds and its first join goes out now, before the HTTP pipeline and
        // endpoints are built and Kestrel starts: the join's round trip and the first gossip
        // overlap the rest of the start instead of following it (docs/BENCHMARKS.md, "Where
        // nineteen agents started at once spend their time"). The hosted service finds the node
        // started and awaits the same join. On a loaded machine the start itself can hold the
        // first exchange past the stream timeout ("What the failure is": the local preset's 1 s);
        // then the join is sent once more when the host has started.
        RumorNode node = app.Services.GetRequiredService<RumorNode>();
        try
        {
            await node.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        StartupTrace.Mark("node started (gossip sockets bound)");
        StartupTrace.MarkFirstJoin(node.RunFirstJoinAsync(app.Lifetime.ApplicationStopping, RumorNode.HostStarted(app.Lifetime)));
        StartupTrace.Mark("join sent");
        app.UseExceptionHandler();
        app.UseStatusCodePages(ApiJson.WriteStatusProblemAsync);
        ApiGuard guard = ApiHardening.UseGuards(app, settings);
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (Exception e) when (!context.Response.HasStarted && e is ObjectDisposedException or RumorNodeNotRunningException)
            {
                // The node stopped (or has not started) under the request: say so rather than 500.
                await ApiJson.Unavailable("The node is not running: " + e.Message).ExecuteAsync(context).ConfigureAwait(false);
            }
            catch (InvalidOperationException e) when (!context.Response.HasStarted && ApiLimits.OptionOf(e) is { } option)
            {
                // A bound of the node (QueriesMax, AggregatesMax, WatchesMax): 429 naming it, never a bare 500.
                await ApiLimits.Reached(context, option, null, e.Message).ExecuteAsync(context).ConfigureAwait(false);
            }
        });
        MapApi(app);
        StartupTrace.Mark("endpoints mapped");
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            StartupTrace.Mark("HTTP listening");
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        // The executable's start-up-only pages (Native AOT on Linux; a no-op otherwise), after start-up
        // so that they cost nothing on the way to a healthy API.
        StartupDataRelease.Result released = StartupDataRelease.Release();
        StartupDataRelease.Report(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Rumor.Agent.Memory"), released);
        string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new RumorAgent(app, new Uri(address.Replace("[::]", "[::1]", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal)), guard, System.Net.IPAddress.IsLoopback(settings.Http.ToIPAddress()));
    }

    /// <summary>Every endpoint group of the API.</summary>
    private static void MapApi(WebApplication app)
    {
        app.MapStatusEndpoints();
        app.MapMemberEndpoints();
        app.MapCoordinateEndpoints();
        app.MapKvEndpoints();
        app.MapStreamEndpoints();
        app.MapEventEndpoints();
        app.MapKeyEndpoints();
        app.MapOperatorEndpoints();
        app.MapMetricsEndpoints();
        app.MapDashboardEndpoints();

        // The API's own description, generated from the endpoints above: /openapi/v1.json.
        app.MapOpenApi();
    }

    /// <summary>Waits until the host stops (Ctrl+C is the caller's to wire to <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops the agent: the node leaves gracefully when LeaveOnStop (the default), then everything closes.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await EventHandlers.DisposeAsync().ConfigureAwait(false);
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops (if still running) and releases everything.</summary>
    public async ValueTask DisposeAsync()
    {
        await EventHandlers.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // Already stopped and disposed.
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
