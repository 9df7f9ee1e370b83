using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Rumor.Agent.Endpoints;

/// <summary>The dashboard: <c>GET /</c> and its script and stylesheet, served from the assembly's embedded resources.</summary>
internal static class DashboardEndpoints
{
    private static readonly (string Path, string Resource, string ContentType)[] Files =
    [
        ("/", "dashboard/index.html", "text/html; charset=utf-8"),
        ("/dashboard/app.js", "dashboard/app.js", "text/javascript; charset=utf-8"),
        ("/dashboard/app.css", "dashboard/app.css", "text/css; charset=utf-8"),
    ];

    public static IEndpointRouteBuilder MapDashboardEndpoints(this IEndpointRouteBuilder app)
    {
        foreach ((string path, string resource, string contentType) in Files)
        {
            byte[] content = Load(resource);
            // Static files of the dashboard, not the API: left out of /openapi/v1.json.
            app.MapGet(path, () => Results.Bytes(content, contentType)).ExcludeFromDescription();
        }

        return app;
    }

    private static byte[] Load(string resource)
    {
        using Stream stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The dashboard resource {resource} is missing from the assembly.");
        using MemoryStream copy = new();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
