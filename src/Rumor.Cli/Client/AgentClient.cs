using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rumor.Cli.Client;

/// <summary>
/// The agent's HTTP API (docs/HTTP-API.md) as the CLI uses it: one JSON request, one JSON answer,
/// or a <c>text/event-stream</c>. Every request is bounded: connecting and each whole request
/// within <see cref="ClientEnvironment.RequestTimeout"/> (plus what the command waits for on
/// purpose); a stream only until its headers arrive, then for as long as the caller's token allows.
/// Failures come out as two exceptions the commands turn into exit codes: nothing answered
/// (<see cref="AgentUnreachableException"/>) or the agent said no (<see cref="AgentErrorException"/>).
/// </summary>
internal sealed class AgentClient : IDisposable
{
    /// <summary>The agent's address when neither <c>--agent</c> nor <c>RUMOR_AGENT</c> names one.</summary>
    public const string DefaultAddress = "http://127.0.0.1:7373";

    private readonly HttpClient _http;
    private readonly TimeSpan _requestTimeout;

    public AgentClient(Uri baseAddress, TimeSpan requestTimeout)
    {
        BaseAddress = baseAddress;
        _requestTimeout = requestTimeout;
        SocketsHttpHandler handler = new()
        {
            ConnectTimeout = requestTimeout,
            // A local control channel: an HTTP proxy from the environment would only get in the way.
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        };

        // The overall limit is applied per request (streams must be able to run for hours).
        _http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("rumor-cli", typeof(AgentClient).Assembly.GetName().Version?.ToString(3) ?? "0"));
    }

    /// <summary>The agent's base URL, as reported in messages.</summary>
    public Uri BaseAddress { get; }

    /// <summary>
    /// Parses what <c>--agent</c> or <c>RUMOR_AGENT</c> gave: an http(s) URL, or a bare
    /// <c>host:port</c> taken as http. Throws <see cref="UsageException"/> for anything else.
    /// </summary>
    public static Uri ParseAddress(string text)
    {
        string candidate = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        if (!Uri.TryCreate(candidate, UriKind.Absolute, out Uri? uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host)
            || !string.IsNullOrEmpty(uri.Query)
            || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw new UsageException($"--agent: '{text}' is not an agent address: expected a URL like {DefaultAddress}.");
        }

        // Requests are relative to the base, so it must end with a slash to keep a path prefix.
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
    }

    /// <summary>
    /// Sends one request and returns the JSON answer. <paramref name="extraWait"/> is added to the
    /// request timeout for calls that wait on purpose (a leave, a query).
    /// </summary>
    public async Task<JsonElement> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken stop, TimeSpan extraWait = default)
    {
        using HttpRequestMessage request = CreateRequest(method, path, body);
        TimeSpan limit = _requestTimeout + extraWait;
        using CancellationTokenSource deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
        deadline.CancelAfter(limit);
        string text;
        HttpStatusCode status;
        MediaTypeHeaderValue? contentType;
        try
        {
            using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, deadline.Token).ConfigureAwait(false);
            text = await response.Content.ReadAsStringAsync(deadline.Token).ConfigureAwait(false);
            status = response.StatusCode;
            contentType = response.Content.Headers.ContentType;
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            throw new AgentUnreachableException($"no answer within {Seconds(limit)}");
        }
        catch (HttpRequestException e)
        {
            throw new AgentUnreachableException(Describe(e), e);
        }

        if ((int)status is < 200 or > 299)
        {
            throw Problem(method, path, status, contentType, text);
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new AgentErrorException($"the answer to {method} /{path} was not JSON: is something other than a rumor agent listening at {BaseAddress}?");
        }
    }

    /// <summary>
    /// Opens a <c>text/event-stream</c> and hands every event to <paramref name="onEvent"/> until
    /// <paramref name="stop"/> is cancelled (an <see cref="OperationCanceledException"/>) or the
    /// agent ends the stream (a normal return).
    /// </summary>
    public async Task StreamAsync(string path, Func<ServerSentEvent, Task> onEvent, CancellationToken stop)
    {
        using HttpRequestMessage request = CreateRequest(HttpMethod.Get, path, body: null);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        HttpResponseMessage response;
        using (CancellationTokenSource deadline = CancellationTokenSource.CreateLinkedTokenSource(stop))
        {
            deadline.CancelAfter(_requestTimeout);
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                throw new AgentUnreachableException($"no answer within {Seconds(_requestTimeout)}");
            }
            catch (HttpRequestException e)
            {
                throw new AgentUnreachableException(Describe(e), e);
            }
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                string text = await ReadErrorBodyAsync(response, stop).ConfigureAwait(false);
                throw Problem(HttpMethod.Get, path, response.StatusCode, response.Content.Headers.ContentType, text);
            }

            if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
            {
                throw new AgentErrorException($"the answer to GET /{path} was not an event stream ({response.Content.Headers.ContentType?.MediaType ?? "no content type"}): is something other than a rumor agent listening at {BaseAddress}?");
            }

            Stream stream;
            try
            {
                stream = await response.Content.ReadAsStreamAsync(stop).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new AgentUnreachableException(Describe(e), e);
            }

            using StreamReader reader = new(stream, Encoding.UTF8);
            ServerSentEventParser parser = new();
            while (true)
            {
                string? line;
                try
                {
                    line = await reader.ReadLineAsync(stop).ConfigureAwait(false);
                }
                catch (IOException) when (!stop.IsCancellationRequested)
                {
                    // The agent went away mid-stream (killed, restarted): the stream has ended.
                    return;
                }
                catch (HttpRequestException) when (!stop.IsCancellationRequested)
                {
                    return;
                }

                if (line is null)
                {
                    return;
                }

                if (parser.Feed(line) is { } serverEvent)
                {
                    await onEvent(serverEvent).ConfigureAwait(false);
                }
            }
        }
    }

    public void Dispose() => _http.Dispose();

    private static HttpRequestMessage CreateRequest(HttpMethod method, string path, JsonNode? body)
    {
        HttpRequestMessage request = new(method, new Uri(path, UriKind.Relative));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        return request;
    }

    private static async Task<string> ReadErrorBodyAsync(HttpResponseMessage response, CancellationToken stop)
    {
        try
        {
            return await response.Content.ReadAsStringAsync(stop).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            return string.Empty;
        }
    }

    /// <summary>
    /// An error answer as one sentence: the problem details' <c>detail</c> (else its <c>title</c>),
    /// or, when the body is not a problem document, the status and what was asked.
    /// </summary>
    private AgentErrorException Problem(HttpMethod method, string path, HttpStatusCode status, MediaTypeHeaderValue? contentType, string text)
    {
        string? detail = null;
        if (contentType?.MediaType is "application/problem+json" or "application/json")
        {
            try
            {
                using JsonDocument document = JsonDocument.Parse(text);
                if (document.RootElement.ValueKind == JsonValueKind.Object)
                {
                    detail = Text(document.RootElement, "detail") ?? Text(document.RootElement, "title");
                }
            }
            catch (JsonException)
            {
                // Not a problem document after all: described by its status below.
            }
        }

        detail ??= $"the agent at {BaseAddress} answered {(int)status} {ReasonPhrase(status)} to {method} /{path}";
        return new AgentErrorException(detail) { Status = (int)status };

        static string? Text(JsonElement element, string name) =>
            element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } s ? s : null;
    }

    private static string ReasonPhrase(HttpStatusCode status) => status switch
    {
        HttpStatusCode.NotFound => "Not Found",
        HttpStatusCode.MethodNotAllowed => "Method Not Allowed",
        HttpStatusCode.BadRequest => "Bad Request",
        HttpStatusCode.InternalServerError => "Internal Server Error",
        HttpStatusCode.BadGateway => "Bad Gateway",
        HttpStatusCode.ServiceUnavailable => "Service Unavailable",
        _ => status.ToString(),
    };

    /// <summary>Why a connection failed, in the words an operator searches for.</summary>
    internal static string Describe(HttpRequestException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused",
                    SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
                    SocketError.TimedOut => "connection timed out",
                    SocketError.NetworkUnreachable or SocketError.HostUnreachable => "unreachable",
                    SocketError.ConnectionReset => "connection reset",
                    _ => socket.Message,
                };
            }
        }

        return e.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => "host not found",
            HttpRequestError.ResponseEnded => "the connection closed before an answer",
            HttpRequestError.SecureConnectionError => "TLS handshake failed",
            HttpRequestError.InvalidResponse => "the answer was not HTTP",
            _ => e.Message,
        };
    }

    private static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0.#} s";
}
