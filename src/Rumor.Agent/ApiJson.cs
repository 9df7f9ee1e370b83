using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Rumor.Client;
using Rumor.Hosting;

namespace Rumor.Agent;

/// <summary>JSON conventions of the API (camelCase, enums as camelCase strings, nulls omitted) and the problem-details helpers.</summary>
internal static class ApiJson
{
    /// <summary>Most bytes a request body may have by default (a value is at most ValueMaxBytes; base64 and JSON add a third); HttpBodyMaxBytes sets it.</summary>
    public const int BodyMaxBytes = ApiSettings.DefaultBodyMaxBytes;

    /// <summary>The options bound to the shared source-generated context: a type the API does not define cannot be written by mistake.</summary>
    public static readonly JsonSerializerOptions Options = RumorJsonContext.Default.Options;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The framework's JSON options (problem details, server-sent events, the OpenAPI document's
    /// schemas): the API's models resolve through the shared source-generated context first.
    /// </summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.TypeInfoResolverChain.Insert(0, RumorJsonContext.Default);
    }

    /// <summary>
    /// A JSON answer written through the source-generated metadata of <typeparamref name="T"/> in
    /// <paramref name="options"/> (Results.Json with options needs reflection, which Native AOT has not).
    /// A type the context does not define throws, as it does with the options alone.
    /// </summary>
    public static IResult Json<T>(T value, JsonSerializerOptions options, string? contentType = null, int? statusCode = null) =>
        Results.Json(value, (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T)), contentType, statusCode);

    /// <summary>A problem details answer whose detail says what was wrong.</summary>
    public static IResult Problem(int status, string title, string detail) =>
        Results.Problem(detail: detail, statusCode: status, title: title, type: $"https://rumor.dev/problems/{title.ToLowerInvariant().Replace(' ', '-')}");

    /// <summary>
    /// The body of an answer that has none (routing's 404 for an unknown path, 405 for a known path
    /// with another method): a problem document whose detail names the method and path, so
    /// a client that calls a path this agent does not serve learns why rather than "Not Found".
    /// </summary>
    public static Task WriteStatusProblemAsync(StatusCodeContext statusContext)
    {
        HttpContext context = statusContext.HttpContext;
        int status = context.Response.StatusCode;
        string method = context.Request.Method;
        string path = context.Request.Path.Value ?? "/";
        string detail = status switch
        {
            StatusCodes.Status404NotFound => $"This agent serves no {method} {path} (the API is in docs/HTTP-API.md).",
            StatusCodes.Status405MethodNotAllowed => $"{method} is not allowed on {path}; it answers {(context.Response.Headers.Allow.Count > 0 ? string.Join(", ", context.Response.Headers.Allow.ToArray()) : "other methods")}.",
            _ => $"{method} {path} answered {status} {ReasonPhrases.GetReasonPhrase(status)}.",
        };
        string title = ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";

        // Its own type, so a client tells "no such path" (a wrong address or prefix) from a 404 about
        // a member, key or aggregate the request named.
        return status is StatusCodes.Status404NotFound or StatusCodes.Status405MethodNotAllowed
            ? Results.Problem(detail: detail, statusCode: status, title: title, type: Rumor.Client.RumorApiException.NoSuchEndpointType).ExecuteAsync(context)
            : Problem(status, title, detail).ExecuteAsync(context);
    }

    public static IResult BadRequest(string detail) => Problem(StatusCodes.Status400BadRequest, "Bad request", detail);

    /// <summary>
    /// Bytes given as <c>name</c> (UTF-8 text) or <c>nameBase64</c> (binary): at most one of the two,
    /// exactly one when <paramref name="required"/>; none gives no bytes. False with a 400 otherwise.
    /// </summary>
    public static bool TryBytes(string? text, string? base64, string name, bool required, out byte[] bytes, out IResult? problem)
    {
        bytes = [];
        problem = null;
        if (text is not null && base64 is not null)
        {
            problem = BadRequest($"Give {(required ? "exactly" : "at most")} one of {name} (UTF-8 text) and {name}Base64 (binary).");
            return false;
        }

        if (text is not null)
        {
            bytes = Encoding.UTF8.GetBytes(text);
        }
        else if (base64 is not null)
        {
            try
            {
                bytes = Convert.FromBase64String(base64);
            }
            catch (FormatException)
            {
                problem = BadRequest($"{name}Base64 is not valid base64.");
                return false;
            }
        }
        else if (required)
        {
            problem = BadRequest($"Give exactly one of {name} (UTF-8 text) and {name}Base64 (binary).");
            return false;
        }

        return true;
    }

    /// <summary>A 400 whose detail is the core's refusal (which names the option or limit).</summary>
    public static IResult BadRequest(ArgumentException refusal) => BadRequest(ExceptionText.WithoutParameter(refusal));

    public static IResult NotFound(string detail) => Problem(StatusCodes.Status404NotFound, "Not found", detail);

    public static IResult Unavailable(string detail) => Problem(StatusCodes.Status503ServiceUnavailable, "Unavailable", detail);

    /// <summary>
    /// Reads the body as <typeparamref name="T"/>; on failure returns the problem to answer with
    /// (empty or malformed JSON, a wrong type, a body over <see cref="BodyMaxBytes"/>).
    /// </summary>
    public static async Task<(T? Value, IResult? Problem)> ReadBodyAsync<T>(HttpRequest request, bool optional = false)
        where T : class
    {
        // The configured bound (HttpBodyMaxBytes, set per request by the guard), else the default.
        long bodyMax = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? BodyMaxBytes;
        if (request.ContentLength > bodyMax)
        {
            return (null, Problem(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"The body is {request.ContentLength} bytes; at most {bodyMax} are accepted (HttpBodyMaxBytes)."));
        }

        using MemoryStream buffer = new();
        byte[] chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > bodyMax)
            {
                // The rest of the body is not read: close the connection after the answer rather than drain it.
                request.HttpContext.Response.Headers.Connection = "close";
                return (null, Problem(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"The body is over {bodyMax} bytes (HttpBodyMaxBytes)."));
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0 || buffer.ToArray().All(b => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t'))
        {
            return optional ? (null, null) : (null, BadRequest($"The body is empty; expected a JSON object ({typeof(T).Name.Replace("Request", string.Empty, StringComparison.Ordinal)} request)."));
        }

        try
        {
            T? value = JsonSerializer.Deserialize(buffer.ToArray(), (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T)));
            return value is null ? (null, BadRequest("The body is JSON null; expected a JSON object.")) : (value, null);
        }
        catch (JsonException e)
        {
            string where = e.Path is { Length: > 1 } path ? $" at {path}" : string.Empty;
            return (null, BadRequest($"The body is not valid JSON for this request{where}: {e.Message.Split(" Path:", 2)[0]}"));
        }
    }

    /// <summary>UTF-8 text when the bytes are valid UTF-8, else null (the caller then sends base64).</summary>
    public static string? TryText(byte[]? bytes)
    {
        if (bytes is null)
        {
            return null;
        }

        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
