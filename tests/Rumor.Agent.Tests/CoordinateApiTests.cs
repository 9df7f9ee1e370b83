using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Rumor.Client;
using Rumor.Core.Coordinates;

namespace Rumor.Agent.Tests;

/// <summary>
/// <c>GET /v1/coordinates</c> in Rumor mode (Endpoints/CoordinateEndpoints.cs): a coordinate for
/// every member once probes have measured them, the agent's own marked local, from which a pair's
/// round trip can be estimated; with NetworkCoordinates off, a 404 saying so.
/// </summary>
public sealed class CoordinateApiTests
{
    private static async Task<NodeCoordinateDto[]> CoordinatesAsync(HttpClient client)
    {
        using HttpResponseMessage response = await client.GetAsync("/v1/coordinates");
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync(RumorJsonContext.Default.NodeCoordinateDtoArray) ?? [];
    }

    private static NetworkCoordinate ToCoordinate(NodeCoordinateDto dto) =>
        new([.. dto.Coordinate.Vec], dto.Coordinate.Error, dto.Coordinate.Adjustment, dto.Coordinate.Height);

    [Fact]
    public async Task Every_member_gets_a_coordinate_and_a_pair_can_be_estimated()
    {
        await using RumorAgent a = await Agents.StartAsync("coord-a");
        await using RumorAgent b = await Agents.StartAsync("coord-b", a);
        await using RumorAgent c = await Agents.StartAsync("coord-c", a);
        using HttpClient client = Agents.Client(a);
        await Agents.WaitForAliveAsync(client, 3);

        // a learns b's and c's coordinates from the acks of its own probes (one a second at the local preset).
        NodeCoordinateDto[] all = await Agents.EventuallyAsync("coordinates of all three members", async () =>
        {
            NodeCoordinateDto[] now = await CoordinatesAsync(client);
            return now.Length == 3 ? now : null;
        });

        Assert.Equal(["coord-a", "coord-b", "coord-c"], all.Select(x => x.Node));
        Assert.Equal(["coord-a"], all.Where(x => x.IsLocal).Select(x => x.Node));
        foreach (NodeCoordinateDto one in all)
        {
            Assert.Equal(VivaldiOptions.Default.Dimensionality, one.Coordinate.Vec.Count);
            Assert.True(ToCoordinate(one).IsValid, $"{one.Node}: {JsonSerializer.Serialize(one.Coordinate.Vec)}");
            Assert.InRange(one.Coordinate.Error, 0, VivaldiOptions.Default.ErrorMax);
        }

        // The local coordinate has moved off the origin (a measured some round trips), and the
        // estimate between b and c, as `rumor rtt coord-b coord-c` computes it, is a loopback round trip:
        // positive and well under a second.
        Assert.Contains(all.Single(x => x.IsLocal).Coordinate.Vec, v => v != 0);
        double estimate = ToCoordinate(all[1]).DistanceSeconds(ToCoordinate(all[2]));
        Assert.InRange(estimate, 1e-9, 1.0);
    }

    [Fact]
    public async Task With_network_coordinates_off_the_endpoint_answers_404_saying_so()
    {
        await using RumorAgent a = await Agents.StartAsync("coord-off", networkCoordinates: false);
        using HttpClient client = Agents.Client(a);
        using HttpResponseMessage response = await client.GetAsync("/v1/coordinates");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("coord-off keeps no network coordinates: NetworkCoordinates is off in its configuration.", problem.GetProperty("detail").GetString());
    }
}
