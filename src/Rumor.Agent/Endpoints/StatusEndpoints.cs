using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Rumor.Agent.Streams;
using Rumor.Client;
using Rumor.Hosting;

namespace Rumor.Agent.Endpoints;

/// <summary><c>GET /v1/health</c> and <c>GET /v1/status</c>.</summary>
internal static class StatusEndpoints
{
    public static IEndpointRouteBuilder MapStatusEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/health", (RumorNode node) => node.IsRunning
            ? ApiJson.Json(new HealthDto("ok"), ApiJson.Options)
            : ApiJson.Unavailable(node.IsStopping ? "The node is leaving or has left the cluster." : "The node is not running."))
            .Produces<HealthDto>().ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        app.MapGet("/v1/status", async (RumorNode node, StreamHub hub, CancellationToken cancellationToken) =>
        {
            RumorSample s = await node.SampleAsync(cancellationToken).ConfigureAwait(false);
            Rumor.Transport.GossipTransport transport = node.Transport;
            NodeCounterValues c = s.Counters;
            CountersDto counters = new(
                c.PacketsSent,
                c.PacketsReceived,
                c.PacketBytesSent + c.StreamBytesSent,
                c.PacketBytesReceived + c.StreamBytesReceived,
                c.StreamsOpened,
                c.StreamsAccepted,
                c.StreamFailures,
                c.DecodeFailures,
                c.ProbesSent,
                c.ProbesFailed,
                c.SuspicionsRaised,
                c.Refutations,
                c.BroadcastsQueued,
                c.BroadcastsDropped,
                c.StateDeltasSent,
                c.StateEntriesApplied,
                transport.Counters.EventsDropped + node.EventsDropped);
            return ApiJson.Json(
                new StatusDto(
                    node.Name,
                    node.Address.ToString(),
                    typeof(RumorNode).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
                    node.GossipOptions.Generation,
                    s.Incarnation,
                    node.Preset,
                    (long)(node.TimeProvider.GetUtcNow() - node.StartedAt).TotalMilliseconds,
                    new MemberCountsDto(s.Alive, s.Suspect, s.Dead, s.Left),
                    new HealthScoreDto(s.LocalHealthScore, s.LocalHealthMax),
                    s.Convergence.ToApi(s.Now),
                    counters,
                    s.PendingBroadcasts,
                    s.KeyCount,
                    node.RecentProbeRoundTrips)
                {
                    Security = new SecurityCountersDto(c.PacketsUnauthenticated, c.PlaintextRefused, c.PlaintextAccepted, c.ReplaysRefused, c.OutOfBoundsRefused, c.ReflectionsRefused),
                    Api = new ApiCountersDto(hub.Count, hub.Max, hub.Dropped),
                },
                ApiJson.Options);
        })
        .Produces<StatusDto>();
        return app;
    }
}
