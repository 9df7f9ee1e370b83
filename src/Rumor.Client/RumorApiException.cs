namespace Rumor.Client;

/// <summary>
/// The agent answered, but not with what was asked: an error status (with its problem details when
/// the answer was a problem document), or a success whose body is not the API's (something other
/// than a Rumor agent is listening). The message is the problem's detail (else its title), or a
/// description of the answer.
/// </summary>
public sealed class RumorApiException : Exception
{
    /// <summary>Creates the exception with a message only.</summary>
    public RumorApiException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public RumorApiException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public RumorApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The HTTP status of the answer (a 2xx when the status was fine but the body was not the API's).</summary>
    public int Status { get; init; }

    /// <summary>The problem document's title, when the answer was one.</summary>
    public string? Title => Problem?.Title;

    /// <summary>The problem document's detail, when the answer was one.</summary>
    public string? Detail => Problem?.Detail;

    /// <summary>The problem document, when the answer was one.</summary>
    public ApiProblem? Problem { get; init; }

    /// <summary>The request's method.</summary>
    public string Method { get; init; } = string.Empty;

    /// <summary>The request's path relative to the agent's base address (<c>v1/members</c>).</summary>
    public string Path { get; init; } = string.Empty;

    /// <summary>How long the agent asked to wait before retrying (<c>Retry-After</c> of a 429 or 503), when it said.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>
    /// The problem type of the agent's answer to a path it does not serve (routing's 404 and 405),
    /// as opposed to a 404 about a thing the request named (a member, a key, an aggregate).
    /// </summary>
    public const string NoSuchEndpointType = "https://rumor.dev/problems/no-such-endpoint";

    /// <summary>
    /// True when what answered is not a Rumor agent's API: a success whose body is not the API's
    /// JSON or event stream, or a 404/405 without a problem document (another web server, or a
    /// path prefix in the address that the agent does not have), or the agent's own answer that it
    /// serves no such path (<see cref="NoSuchEndpointType"/>). The address is wrong, not the request.
    /// </summary>
    public bool NotAnAgent { get; init; }

    /// <summary>
    /// True when the agent answered 404 about the thing the request named (no such member, key or
    /// aggregate): a problem document that is not <see cref="NoSuchEndpointType"/>.
    /// </summary>
    public bool NotFound => Status == 404 && Problem is not null && !NotAnAgent;

    /// <summary>The option that sets the limit a 429 or 503 answer reached (the problem's <c>option</c> member), when it names one.</summary>
    public string? Option => Problem?.Extensions is { } extensions && extensions.TryGetValue("option", out System.Text.Json.JsonElement option) && option.ValueKind == System.Text.Json.JsonValueKind.String ? option.GetString() : null;
}

/// <summary>
/// No agent answered at the address: connection refused, host not found, the connection dropped
/// before an answer, or no answer within the request timeout. The message says which, in the words
/// an operator searches for ("connection refused").
/// </summary>
public sealed class RumorUnreachableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RumorUnreachableException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">Why nothing answered.</param>
    public RumorUnreachableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">Why nothing answered.</param>
    /// <param name="innerException">The cause.</param>
    public RumorUnreachableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
