using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rumor.Client;

/// <summary>
/// An RFC 9457 problem document, as the agent answers every error (<c>application/problem+json</c>).
/// The client's reading of it; the agent writes it with ASP.NET Core's <c>ProblemDetails</c>.
/// </summary>
public sealed record ApiProblem
{
    /// <summary>A URI naming the kind of problem.</summary>
    public string? Type { get; init; }

    /// <summary>A short summary of the kind of problem ("Bad request").</summary>
    public string? Title { get; init; }

    /// <summary>The HTTP status.</summary>
    public int? Status { get; init; }

    /// <summary>What exactly was wrong, in one sentence.</summary>
    public string? Detail { get; init; }

    /// <summary>The request it is about, if given.</summary>
    public string? Instance { get; init; }

    /// <summary>Further members of the document (for example <c>failed</c> of a join, <c>traceId</c>).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extensions { get; set; }
}
