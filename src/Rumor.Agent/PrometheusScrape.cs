using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Rumor.Hosting;

namespace Rumor.Agent;

/// <summary>
/// What answers <c>GET /metrics</c>: OpenTelemetry's Prometheus exporter, built at the first scrape
/// rather than at start. Building a meter provider (its own service container, the resource
/// detectors, the exporter) was about a sixth of an agent's start-up CPU (docs/BENCHMARKS.md,
/// "Agent footprint") and most agents are never scraped in their first seconds, or at all.
/// Nothing is lost by the wait: every <c>Rumor</c> instrument but one is observable, read from the
/// node's counters when collected, so the first scrape reads everything counted since the start;
/// the probe round-trip histogram keeps what it saw meanwhile (<see cref="RumorMetrics.RecordPendingRoundTrips"/>,
/// called here right after the provider is built, before its first collection).
/// With an OTLP endpoint configured the provider pushes on its own schedule, so it is built at start
/// by the host (<see cref="AgentTelemetry"/>) and this only wraps it.
/// </summary>
internal sealed class PrometheusScrape : IDisposable
{
    private readonly Lazy<(MeterProvider Provider, RequestDelegate Exporter, bool Owned)> _built;

    /// <summary>Builds its own provider at the first scrape (<paramref name="hostProvider"/> null) or serves the host's.</summary>
    public PrometheusScrape(IServiceProvider services, AgentSettings settings, Func<MeterProvider>? hostProvider)
    {
        RumorMetrics metrics = (RumorMetrics)services.GetService(typeof(RumorMetrics))!;
        IMeterFactory own = (IMeterFactory)services.GetService(typeof(IMeterFactory))!;
        _built = new(() =>
        {
            bool owned = hostProvider is null;
            MeterProvider provider = hostProvider?.Invoke() ?? AgentTelemetry.DropOtherHosts(AgentTelemetry.ConfigureMetrics(Sdk.CreateMeterProviderBuilder(), settings), own).Build();
            metrics.RecordPendingRoundTrips();

            // The exporter's middleware is internal to its package: a pipeline of its own that
            // runs it for every request it is given (the /metrics route chose them already).
            ApplicationBuilder pipeline = new(services);
            pipeline.UseOpenTelemetryPrometheusScrapingEndpoint(provider, predicate: _ => true, path: null, configureBranchedPipeline: null, optionsName: null);
            return (provider, pipeline.Build(), owned);
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>True once the exporter exists (the first scrape came, or the host built it).</summary>
    public bool Built => _built.IsValueCreated;

    /// <summary>Writes one scrape (the exporter chooses the Prometheus text or OpenMetrics format by the Accept header).</summary>
    public Task InvokeAsync(HttpContext context) => _built.Value.Exporter(context);

    /// <inheritdoc />
    public void Dispose()
    {
        if (_built.IsValueCreated && _built.Value.Owned)
        {
            _built.Value.Provider.Dispose();
        }
    }
}
