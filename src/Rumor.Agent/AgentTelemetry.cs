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
/// <c>/metrics</c> by the Prometheus exporter, and, when an OTLP endpoint is configured
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

        // The meter provider listens to every meter named Rumor in the process; several agents in
        // one process (the tests) each create theirs through their own IMeterFactory, so keep only
        // this host's and drop the others'.
        services.ConfigureOpenTelemetryMeterProvider((provider, builder) =>
        {
            IMeterFactory own = provider.GetRequiredService<IMeterFactory>();
            builder.AddView(instrument =>
                instrument.Meter.Name == RumorMetrics.MeterName && !ReferenceEquals(instrument.Meter.Scope, own)
                    ? MetricStreamConfiguration.Drop
                    : null);
        });
        OpenTelemetryBuilder telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                ServiceName,
                serviceVersion: typeof(AgentTelemetry).Assembly.GetName().Version?.ToString(),
                serviceInstanceId: string.IsNullOrWhiteSpace(settings.Rumor.Name) ? Environment.MachineName : settings.Rumor.Name))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(RumorMetrics.MeterName);
                metrics.AddPrometheusExporter(prometheus =>
                {
                    // Every scrape reads the node afresh (the endpoint takes a new sample first).
                    prometheus.ScrapeResponseCacheDurationMilliseconds = 0;

                    // No otel_scope_* labels on every series: there is one meter, and the series
                    // keep the label sets they had before the exporter was OpenTelemetry's.
                    prometheus.ScopeInfoEnabled = false;
                });
                if (otlp is not null)
                {
                    metrics.AddOtlpExporter(otlpOptions => Point(otlpOptions, otlp, "v1/metrics"));
                }
            });
        if (otlp is not null)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(RumorActivities.SourceName)
                .AddOtlpExporter(otlpOptions => Point(otlpOptions, otlp, "v1/traces")));
        }

        return services;
    }

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
