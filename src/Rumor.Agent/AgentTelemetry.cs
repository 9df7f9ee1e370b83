using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Rumor.Hosting;

namespace Rumor.Agent;

/// <summary>
/// The agent's OpenTelemetry: the <c>Rumor</c> meter (<see cref="RumorMetrics"/>) served at
/// <c>/metrics</c> by the Prometheus exporter (built at the first scrape, <see cref="PrometheusScrape"/>), and, when an OTLP endpoint is configured
/// (<see cref="AgentSettings.OtlpEndpoint"/>, or the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>),
/// the meter and the <c>Rumor</c> activity source (<see cref="RumorActivities"/>: joins, queries,
/// leaves) pushed over OTLP. The resource names the service <c>rumor-agent</c> and the instance by
/// the node's name.
/// </summary>
internal static class AgentTelemetry
{
    /// <summary>The resource's <c>service.name</c>.</summary>
    public const string ServiceName = "rumor-agent";

    public static IServiceCollection AddAgentTelemetry(this IServiceCollection services, AgentSettings settings)
    {
        Uri? otlp = settings.OtlpEndpoint;
        if (otlp is null)
        {
            // No push: the meter provider and the Prometheus exporter wait for the first scrape
            // (PrometheusScrape), which loses no measurement.
            services.AddSingleton(provider => new PrometheusScrape(provider, settings, hostProvider: null));
            return services;
        }

        // OTLP pushes on its own schedule from the start: the host builds the provider at start,
        // and /metrics serves the same one. The view needs the host's IMeterFactory, so it is
        // added once the host's services exist.
        services.ConfigureOpenTelemetryMeterProvider((provider, builder) => DropOtherHosts(builder, provider.GetRequiredService<IMeterFactory>()));
        services.AddOpenTelemetry()
            .WithMetrics(metrics => ConfigureMetrics(metrics, settings).AddOtlpExporter(otlpOptions => Point(otlpOptions, otlp, "v1/metrics")))
            .WithTracing(tracing => tracing
                .ConfigureResource(resource => Describe(resource, settings))
                .AddSource(RumorActivities.SourceName)
                .AddOtlpExporter(otlpOptions => Point(otlpOptions, otlp, "v1/traces")));
        services.AddSingleton(provider => new PrometheusScrape(provider, settings, provider.GetRequiredService<MeterProvider>));
        return services;
    }

    /// <summary>The <c>Rumor</c> meter, the resource, and the Prometheus exporter.</summary>
    public static MeterProviderBuilder ConfigureMetrics(MeterProviderBuilder builder, AgentSettings settings) => builder
        .ConfigureResource(resource => Describe(resource, settings))
        .AddMeter(RumorMetrics.MeterName)
        .AddPrometheusExporter(prometheus =>
        {
            // Every scrape reads the node afresh (the endpoint takes a new sample first).
            prometheus.ScrapeResponseCacheDurationMilliseconds = 0;

            // No otel_scope_* labels on every series: there is one meter, and the series
            // keep the label sets they had before the exporter was OpenTelemetry's.
            prometheus.ScopeInfoEnabled = false;
        });

    /// <summary>
    /// Keeps only this host's <c>Rumor</c> meter (<paramref name="own"/>): the meter provider listens
    /// to every meter named Rumor in the process, and several agents in one process (the tests)
    /// each create theirs through their own IMeterFactory.
    /// </summary>
    public static MeterProviderBuilder DropOtherHosts(MeterProviderBuilder builder, IMeterFactory own) => builder.AddView(instrument =>
        instrument.Meter.Name == RumorMetrics.MeterName && !ReferenceEquals(instrument.Meter.Scope, own)
            ? MetricStreamConfiguration.Drop
            : null);

    /// <summary>The resource: service <c>rumor-agent</c>, the instance by the node's name.</summary>
    private static ResourceBuilder Describe(ResourceBuilder resource, AgentSettings settings) => resource.AddService(
        ServiceName,
        serviceVersion: typeof(AgentTelemetry).Assembly.GetName().Version?.ToString(),
        serviceInstanceId: string.IsNullOrWhiteSpace(settings.Rumor.Name) ? Environment.MachineName : settings.Rumor.Name);

    /// <summary>
    /// Aims the exporter at <paramref name="endpoint"/>. gRPC (the default protocol) takes the
    /// endpoint as is; http/protobuf (<c>OTEL_EXPORTER_OTLP_PROTOCOL</c>) wants the signal's path,
    /// appended here as the standard variable's rules do.
    /// </summary>
    private static void Point(OtlpExporterOptions options, Uri endpoint, string signalPath)
    {
        options.Endpoint = options.Protocol == OtlpExportProtocol.HttpProtobuf
            ? new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/" + signalPath)
            : endpoint;
    }
}
