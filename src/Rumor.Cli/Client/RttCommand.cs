using System.CommandLine;
using System.Globalization;
using Rumor.Client;
using Rumor.Core.Coordinates;

namespace Rumor.Cli.Client;

/// <summary>
/// <c>rumor rtt A [B]</c>: the round trip between members A and B (B defaults to the agent's own
/// node) estimated from their network coordinates, as <c>serf rtt</c> does: no packet is sent, the
/// agent's last known coordinates (<c>GET /v1/coordinates</c>) are compared. Works in both
/// dialects (in Rumor mode unless NetworkCoordinates is off).
/// </summary>
internal static class RttCommand
{
    public static readonly ClientCommand Command = new(
        "rtt",
        "Estimates the round trip between two members from their network coordinates, as 'serf rtt' (B defaults to the agent's own node).",
        () =>
        [
            new Argument<string>("A") { Description = "A member." },
            new Argument<string?>("B") { Description = "Another member (default: the agent's own node).", Arity = ArgumentArity.ZeroOrOne },
        ],
        RunAsync);

    private static async Task<int> RunAsync(ClientContext context)
    {
        IReadOnlyList<NodeCoordinateDto> all;
        try
        {
            all = await context.Agent.GetCoordinatesAsync(context.Stop).ConfigureAwait(false);
        }
        catch (RumorApiException e) when (e.Status == 404)
        {
            throw new RumorApiException($"this agent keeps no network coordinates ({e.Message}); turn NetworkCoordinates on (docs/CONFIGURATION.md).") { Status = e.Status };
        }

        string a = context.Args.Positionals[0];
        string? b = context.Args.Positionals.Count > 1 ? context.Args.Positionals[1] : all.FirstOrDefault(c => c.IsLocal)?.Node;
        NetworkCoordinate first = Find(all, a);
        NetworkCoordinate second = Find(all, b ?? throw new RumorApiException("the agent did not report its own coordinate; name both members."));
        double ms = first.DistanceSeconds(second) * 1000.0;
        if (context.Json)
        {
            await context.WriteJsonAsync(new RttEstimateDto(a, b, ms)).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        await context.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Estimated {Format.Cell(a)} <-> {Format.Cell(b)} rtt: {ms:F3} ms")).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static NetworkCoordinate Find(IReadOnlyList<NodeCoordinateDto> all, string name)
    {
        CoordinateDto c = all.FirstOrDefault(n => n.Node == name)?.Coordinate
            ?? throw new RumorApiException($"could not find a coordinate for node '{name}' (the agent has one only for members it has pinged).");
        NetworkCoordinate coordinate = new(c.Vec, c.Error, c.Adjustment, c.Height);
        return coordinate.IsValid ? coordinate : throw new RumorApiException($"the coordinate of '{name}' is not valid.");
    }
}
