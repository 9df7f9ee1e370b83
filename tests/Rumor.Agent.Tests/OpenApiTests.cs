using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Rumor.Agent.Tests;

/// <summary>
/// <c>/openapi/v1.json</c> against the endpoints the app actually maps (its EndpointDataSource), so
/// an endpoint added without a description fails here instead of going unnoticed.
/// </summary>
public sealed class OpenApiTests
{
    /// <summary>Mapped routes that are not part of the described API, each with its reason.</summary>
    private static readonly Dictionary<string, string> NotDescribed = new(StringComparer.Ordinal)
    {
        ["GET /"] = "the dashboard's page (a static file, not the API)",
        ["GET /dashboard/app.js"] = "the dashboard's script (a static file)",
        ["GET /dashboard/app.css"] = "the dashboard's stylesheet (a static file)",
        ["GET /openapi/{documentName}.json"] = "the document itself",
        ["GET /metrics"] = "OpenTelemetry's Prometheus exporter, a middleware branch rather than a route handler (no handler method for the describer to read); Prometheus text, documented in HTTP-API.md",
    };

    [Fact]
    public async Task The_document_lists_every_endpoint_the_app_maps()
    {
        await using RumorAgent agent = await Agents.StartAsync("openapi");
        using HttpClient client = Agents.Client(agent);

        JsonElement document = await Agents.GetJsonAsync(client, "/openapi/v1.json");
        HashSet<string> described = [.. document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => $"{operation.Name.ToUpperInvariant()} {path.Name}"))];
        List<string> mapped = [.. agent.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .SelectMany(endpoint => (endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(method => $"{method} {Normalize(endpoint.RoutePattern.RawText ?? string.Empty)}"))];

        Assert.Contains("GET /v1/status", mapped);
        Assert.Contains("PUT /v1/kv/{key}", mapped);
        List<string> missing = [.. mapped.Where(route => !described.Contains(route) && !NotDescribed.ContainsKey(route))];
        Assert.True(missing.Count == 0, "Mapped but not in /openapi/v1.json: " + string.Join(", ", missing));
        List<string> stale = [.. NotDescribed.Keys.Where(route => !mapped.Contains(route))];
        Assert.True(stale.Count == 0, "Excluded but no longer mapped: " + string.Join(", ", stale));
        Assert.Equal("3.1.1", document.GetProperty("openapi").GetString());
    }

    [Fact]
    public async Task The_document_describes_the_shared_models()
    {
        await using RumorAgent agent = await Agents.StartAsync("openapi-models");
        using HttpClient client = Agents.Client(agent);

        JsonElement document = await Agents.GetJsonAsync(client, "/openapi/v1.json");
        JsonElement schemas = document.GetProperty("components").GetProperty("schemas");

        Assert.True(schemas.TryGetProperty("StatusDto", out JsonElement status), schemas.GetRawText());
        Assert.True(status.GetProperty("properties").TryGetProperty("probeRttMs", out _));
        Assert.True(schemas.TryGetProperty("KvPutRequest", out _));
    }

    /// <summary>A route pattern as OpenAPI writes a path: a catch-all <c>{**key}</c> is a plain <c>{key}</c>.</summary>
    private static string Normalize(string pattern) =>
        "/" + pattern.TrimStart('/').Replace("{**", "{", StringComparison.Ordinal).Replace("{*", "{", StringComparison.Ordinal);
}
