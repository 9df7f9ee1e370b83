using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Rumor.Agent.EventHandlers;
using Rumor.Client;
using Rumor.Core.Wire.Messages;
using Rumor.Hosting;
using MemberState = Rumor.Core.Membership.MemberState;

namespace Rumor.Agent.Endpoints;

/// <summary>
/// What an operator asks of a running agent (Serf's info, tags and force-leave):
/// <c>GET /v1/info</c>, <c>GET /v1/tags</c>, <c>PATCH /v1/tags</c>, <c>POST /v1/members/{name}/force-leave</c>.
/// </summary>
internal static class OperatorEndpoints
{
    public static IEndpointRouteBuilder MapOperatorEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/info", async (RumorNode node, EventHandlerRunner handlers, CancellationToken cancellationToken) =>
        {
            IReadOnlyDictionary<string, string> tags = await node.GetTagsAsync(cancellationToken).ConfigureAwait(false);
            int aggregates = (await node.GetAggregateKeysAsync(cancellationToken).ConfigureAwait(false)).Count;
            int members = (await node.Transport.GetMembersAsync(cancellationToken).ConfigureAwait(false)).Count(m => m.State is MemberState.Alive or MemberState.Suspect);
            return ApiJson.Json(
                new InfoDto(
                    node.Name,
                    node.Address.ToString(),
                    AgentVersion,
                    ProtocolVersions.Current.ProtocolCurrent,
                    node.Preset,
                    tags,
                    node.GossipOptions.Keyring is not null,
                    [.. handlers.Handlers.Select(h => h.Text)],
                    aggregates,
                    members,
                    (long)(node.TimeProvider.GetUtcNow() - node.StartedAt).TotalMilliseconds,
                    $"{RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription} ({RuntimeInformation.ProcessArchitecture})"),
                ApiJson.Options);
        })
        .Produces<InfoDto>();

        app.MapGet("/v1/tags", async (RumorNode node, CancellationToken cancellationToken) =>
            ApiJson.Json(new TagsDto(await node.GetTagsAsync(cancellationToken).ConfigureAwait(false)), ApiJson.Options))
            .Produces<TagsDto>();

        app.MapPatch("/v1/tags", async (RumorNode node, HttpRequest request, CancellationToken cancellationToken) =>
        {
            (TagsUpdateRequest? body, IResult? problem) = await ApiJson.ReadBodyAsync<TagsUpdateRequest>(request).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            Dictionary<string, string> set = body!.Set ?? [];
            IReadOnlyList<string> delete = body.Delete ?? [];
            if (set.Count == 0 && delete.Count == 0)
            {
                return ApiJson.BadRequest("Nothing to change: give set ({\"role\":\"web\"}) and/or delete ([\"role\"]).");
            }

            if (set.Keys.FirstOrDefault(delete.Contains) is { } both)
            {
                return ApiJson.BadRequest($"tag '{both}' is both set and deleted.");
            }

            try
            {
                return ApiJson.Json(new TagsDto(await node.UpdateTagsAsync(set, [.. delete], cancellationToken).ConfigureAwait(false)), ApiJson.Options);
            }
            catch (ArgumentException e)
            {
                return ApiJson.BadRequest(e);
            }
        })
        .Accepts<TagsUpdateRequest>("application/json").Produces<TagsDto>().ProducesProblem(StatusCodes.Status400BadRequest);

        app.MapPost("/v1/members/{name}/force-leave", async (RumorNode node, string name, CancellationToken cancellationToken) =>
        {
            if (name == node.Name)
            {
                return ApiJson.Problem(StatusCodes.Status409Conflict, "Conflict", $"'{name}' is this agent: use POST /v1/leave ('rumor leave') to leave.");
            }

            MemberState? state = await node.ForceLeaveAsync(name, cancellationToken).ConfigureAwait(false);
            return state switch
            {
                null => ApiJson.NotFound($"No member named '{name}' is known to this agent."),
                MemberState.Alive => ApiJson.Problem(StatusCodes.Status409Conflict, "Conflict", $"'{name}' is alive: force-leave is for failed members; a live member leaves with 'rumor leave' on its own agent."),
                { } s => ApiJson.Json(new ForceLeaveDto(name, s.ToApi()), ApiJson.Options),
            };
        })
        .Produces<ForceLeaveDto>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    /// <summary>The agent's version, as <c>GET /v1/status</c> and <c>rumor version</c> give it.</summary>
    public static string AgentVersion => typeof(RumorNode).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}
