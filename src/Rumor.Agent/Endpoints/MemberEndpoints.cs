using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Rumor.Client;
using Rumor.Core;
using Rumor.Core.FailureDetection;
using Rumor.Hosting;
using Rumor.Transport;
using MemberState = Rumor.Core.Membership.MemberState;

namespace Rumor.Agent.Endpoints;

/// <summary><c>/v1/members</c>, <c>/v1/members/{name}</c>, <c>POST /v1/join</c>, <c>POST /v1/leave</c>.</summary>
internal static class MemberEndpoints
{
    /// <summary>The longest leave a caller may ask for.</summary>
    private static readonly TimeSpan LeaveTimeoutMax = TimeSpan.FromMinutes(5);

    public static IEndpointRouteBuilder MapMemberEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/members", async (RumorNode node, string? state, CancellationToken cancellationToken) =>
        {
            MemberState? filter = null;
            if (!string.IsNullOrEmpty(state))
            {
                if (!Enum.TryParse(state, ignoreCase: true, out MemberState parsed) || !Enum.IsDefined(parsed) || int.TryParse(state, out _))
                {
                    return ApiJson.BadRequest($"state '{state}' is not a member state: expected alive, suspect, dead or left.");
                }

                filter = parsed;
            }

            IReadOnlyList<RumorMember> members = await node.GetMembersAsync(cancellationToken).ConfigureAwait(false);
            return ApiJson.Json(members.Where(m => filter is null || m.State == filter).Select(ApiMapping.ToApi).ToArray(), ApiJson.Options);
        })
        .Produces<MemberDto[]>().ProducesProblem(StatusCodes.Status400BadRequest);

        app.MapGet("/v1/members/{name}", async (RumorNode node, string name, CancellationToken cancellationToken) =>
        {
            RumorMember? member = await node.GetMemberAsync(name, cancellationToken).ConfigureAwait(false);
            if (member is null)
            {
                return ApiJson.NotFound($"No member named '{name}' is known to {node.Name}.");
            }

            IReadOnlyList<VerdictRecord> verdicts = await node.GetVerdictsAsync(name, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<ProbeRecord> probes = await node.GetProbeHistoryAsync(name, cancellationToken).ConfigureAwait(false);
            DateTimeOffset epoch = node.TimeProvider.GetUtcNow() - node.Transport.Now;
            MemberDto m = member.ToApi();
            return ApiJson.Json(
                new MemberDetailDto(m.Name, m.Address, m.State, m.Generation, m.Incarnation, m.Tags, m.StateChangedMs, m.IsLocal, [.. verdicts.Select(v => v.ToApi(epoch))], [.. probes.Select(p => p.ToApi(epoch))]),
                ApiJson.Options);
        })
        .Produces<MemberDetailDto>().ProducesProblem(StatusCodes.Status404NotFound);

        app.MapPost("/v1/join", async (RumorNode node, HttpRequest request, CancellationToken cancellationToken) =>
        {
            (JoinRequest? body, IResult? problem) = await ApiJson.ReadBodyAsync<JoinRequest>(request).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            if (body!.Seeds is not { Count: > 0 } seedTexts)
            {
                return ApiJson.BadRequest("seeds is missing or empty: give at least one address, for example {\"seeds\":[\"127.0.0.1:7946\"]}.");
            }

            List<NodeAddress> seeds = [];
            foreach (string text in seedTexts)
            {
                if (text is null || !NodeAddress.TryParse(text.Trim(), out NodeAddress seed))
                {
                    return ApiJson.BadRequest($"seed '{text}' is not an address: expected IPv4:port (127.0.0.1:7946) or [IPv6]:port ([::1]:7946).");
                }

                seeds.Add(seed);
            }

            JoinResult result = await node.JoinAsync(seeds, cancellationToken).ConfigureAwait(false);
            JoinResponse response = new(
                [.. result.Succeeded.Select(s => new JoinedDto(s.Seed.ToString(), s.MembersLearned))],
                [.. result.Failed.Select(f => new JoinFailedDto(f.Seed.ToString(), f.Reason))]);
            if (!result.Joined)
            {
                return Results.Problem(
                    detail: "No seed answered: " + string.Join("; ", response.Failed.Select(f => $"{f.Seed}: {f.Reason}")) + ".",
                    statusCode: StatusCodes.Status502BadGateway,
                    title: "Join failed",
                    type: "https://rumor.dev/problems/join-failed",
                    extensions: new Dictionary<string, object?> { ["failed"] = response.Failed.ToArray() });
            }

            return ApiJson.Json(response, ApiJson.Options);
        })
        .Accepts<JoinRequest>("application/json").Produces<JoinResponse>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status502BadGateway);

        app.MapPost("/v1/leave", async (RumorNode node, IHostApplicationLifetime lifetime, LeaveShutdown shutdown, HttpRequest request, CancellationToken cancellationToken) =>
        {
            (LeaveRequest? body, IResult? problem) = await ApiJson.ReadBodyAsync<LeaveRequest>(request, optional: true).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            TimeSpan timeout = TimeSpan.FromSeconds(5);
            if (body?.TimeoutMs is { } ms)
            {
                if (ms <= 0 || ms > LeaveTimeoutMax.TotalMilliseconds)
                {
                    return ApiJson.BadRequest($"timeoutMs is {ms}; it must be between 1 and {LeaveTimeoutMax.TotalMilliseconds}.");
                }

                timeout = TimeSpan.FromMilliseconds(ms);
            }

            bool left = await node.LeaveAsync(timeout, cancellationToken).ConfigureAwait(false);
            if (body?.Shutdown == true)
            {
                // Stop once this answer is on its way: the host's shutdown waits for requests in flight.
                shutdown.Requested = true;
                lifetime.StopApplication();
                return ApiJson.Json(new LeaveResponse(left, true), ApiJson.Options);
            }

            return ApiJson.Json(new LeaveResponse(left), ApiJson.Options);
        })
        .Accepts<LeaveRequest>("application/json").Produces<LeaveResponse>().ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }
}

/// <summary>Set when <c>POST /v1/leave</c> asked the agent to stop after leaving (so the shell does not leave again).</summary>
public sealed class LeaveShutdown
{
    private volatile bool _requested;

    /// <summary>True once a leave asked for the stop.</summary>
    public bool Requested { get => _requested; internal set => _requested = value; }
}
