using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Rumor.Core;

namespace Rumor.Agent.Security;

/// <summary>
/// What every request passes before an endpoint sees it (docs/SECURITY.md, "The HTTP API"), in two
/// middlewares around the rate limiter:
/// <list type="number">
/// <item><see cref="CheckOriginAsync"/>: the <c>Host</c> must name this agent (a loopback name, the
/// bound address, or <see cref="ApiSettings.AllowedHosts"/>), else 421: a page whose DNS name was
/// rebound to 127.0.0.1 cannot talk to the agent. An <c>Origin</c>, when sent, must be the agent's
/// own, else 403: another site's page cannot make the operator's browser post to it (CSRF).</item>
/// <item><see cref="AuthorizeAsync"/>: with a token configured, <c>Authorization: Bearer</c> must
/// carry the read-write token, or the read-only token on a GET (401, 403); writes must be
/// <c>application/json</c> (415: a form post cannot pass) and their bodies at most
/// <see cref="ApiSettings.BodyMaxBytes"/> (413).</item>
/// </list>
/// Tokens are compared as SHA-256 digests with <see cref="CryptographicOperations.FixedTimeEquals"/>,
/// so neither the time taken nor the length reveals how much of a guess was right. The tokens can be
/// replaced while the agent runs (<see cref="SetTokens"/>, from a SIGHUP reload): a request sees
/// either the old pair or the new one, never a mix.
/// </summary>
internal sealed class ApiGuard
{
    /// <summary>Paths anyone may GET even when a token is required: the dashboard's files (it asks for the token itself) and the health check (load balancers, the kubelet).</summary>
    private static readonly HashSet<string> OpenPaths = new(["/", "/dashboard/app.js", "/dashboard/app.css", "/v1/health"], StringComparer.Ordinal);

    private readonly ApiSettings _settings;
    private readonly IPAddress _bound;
    private volatile TokenDigests _tokens;
    private readonly HashSet<string> _allowedHosts;
    private readonly ILogger _logger;

    public ApiGuard(ApiSettings settings, NodeAddress bound, ILogger logger)
    {
        _settings = settings;
        _bound = bound.ToIPAddress();
        _tokens = TokenDigests.Of(settings.Token, settings.ReadToken);
        _allowedHosts = new(settings.AllowedHosts.Select(h => h.Trim().TrimStart('[').TrimEnd(']')), StringComparer.OrdinalIgnoreCase);
        _logger = logger;
    }

    /// <summary>True when requests need a token (one is set now).</summary>
    public bool RequiresToken => _tokens.RequiresToken;

    /// <summary>Replaces the read-write and read-only tokens (null: none); the next request is checked against the new ones.</summary>
    public void SetTokens(string? token, string? readToken) => _tokens = TokenDigests.Of(token, readToken);

    /// <summary>The <c>Host</c> and <c>Origin</c> checks (before the rate limiter: they cost nothing and need no state).</summary>
    public Task CheckOriginAsync(HttpContext context, RequestDelegate next)
    {
        HttpRequest request = context.Request;
        string host = request.Host.Host;
        if (request.Host.HasValue && !HostAllowed(host))
        {
            return RefuseAsync(context, StatusCodes.Status421MisdirectedRequest, "Misdirected request", $"Host '{request.Host}' is not a name of this agent: it answers to loopback names, its bound address{(_allowedHosts.Count > 0 ? " and " + string.Join(", ", _allowedHosts) : string.Empty)}. This guards against DNS rebinding; add the name to HttpAllowedHosts to reach the agent by it.");
        }

        string? origin = request.Headers.Origin;
        if (!string.IsNullOrEmpty(origin) && !SameOrigin(origin, request))
        {
            return RefuseAsync(context, StatusCodes.Status403Forbidden, "Forbidden origin", $"Origin '{origin}' is not this agent ({request.Scheme}://{request.Host}): requests from another site's pages are refused (CSRF).");
        }

        return next(context);
    }

    /// <summary>The token, content type and body size checks.</summary>
    public async Task AuthorizeAsync(HttpContext context, RequestDelegate next)
    {
        HttpRequest request = context.Request;
        bool safe = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method);
        TokenDigests tokens = _tokens;
        if (tokens.RequiresToken && !(safe && OpenPaths.Contains(request.Path.Value ?? "/")))
        {
            string? presented = BearerToken(request);
            if (presented is null)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"rumor\"";
                await RefuseAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized", "This agent requires a token: send 'Authorization: Bearer TOKEN' (rumor --token TOKEN, or RUMOR_TOKEN).").ConfigureAwait(false);
                return;
            }

            byte[] digest = Digest(presented);
            bool readWrite = tokens.Token is not null && CryptographicOperations.FixedTimeEquals(digest, tokens.Token);
            bool readOnly = tokens.ReadToken is not null && CryptographicOperations.FixedTimeEquals(digest, tokens.ReadToken);
            if (!readWrite && !readOnly)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"rumor\", error=\"invalid_token\"";
                await RefuseAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized", "The token is not valid for this agent.").ConfigureAwait(false);
                return;
            }

            if (!readWrite && !safe)
            {
                await RefuseAsync(context, StatusCodes.Status403Forbidden, "Forbidden", $"The read-only token cannot {request.Method} {request.Path}: writes need the read-write token (Token).").ConfigureAwait(false);
                return;
            }
        }

        if (!safe)
        {
            if (!string.IsNullOrEmpty(request.ContentType) ? !IsJson(request.ContentType) : HasBody(context))
            {
                await RefuseAsync(context, StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", $"{request.Method} {request.Path} takes a JSON body: send 'Content-Type: application/json' (got {(string.IsNullOrEmpty(request.ContentType) ? "a body without a Content-Type" : "'" + request.ContentType + "'")}).").ConfigureAwait(false);
                return;
            }

            if (request.ContentLength > _settings.BodyMaxBytes)
            {
                context.Response.Headers.Connection = "close";
                await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, "Payload too large", $"The body is {request.ContentLength} bytes; at most {_settings.BodyMaxBytes} are accepted (HttpBodyMaxBytes).").ConfigureAwait(false);
                return;
            }
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = _settings.BodyMaxBytes;
        }

        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            // Kestrel's own refusals while the endpoint read the body (a chunked body past the limit);
            // the rest of the body is not read, so the connection closes after the answer.
            context.Response.Headers.Connection = "close";
            string detail = e.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => $"The body is over {_settings.BodyMaxBytes} bytes (HttpBodyMaxBytes).",
                StatusCodes.Status408RequestTimeout => $"The body arrived slower than {ApiSettings.BodyMinBytesPerSecond} bytes a second after {_settings.BodyGraceSeconds} s (HttpBodyGraceSeconds).",
                _ => "The request could not be read: " + e.Message,
            };
            await RefuseAsync(context, e.StatusCode, e.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Payload too large" : "Bad request", detail).ConfigureAwait(false);
        }
    }

    private bool HostAllowed(string host)
    {
        string bare = host.TrimStart('[').TrimEnd(']');
        if (bare.Equals("localhost", StringComparison.OrdinalIgnoreCase) || bare.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase) || _allowedHosts.Contains(bare))
        {
            return true;
        }

        if (!IPAddress.TryParse(bare, out IPAddress? address))
        {
            return false;
        }

        // An address literal cannot be rebound. A wildcard bind answers on every address the host has.
        return IPAddress.IsLoopback(address) || address.Equals(_bound) || _bound.Equals(IPAddress.Any) || _bound.Equals(IPAddress.IPv6Any);
    }

    private static bool SameOrigin(string origin, HttpRequest request)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out Uri? uri))
        {
            return false; // "null" (a sandboxed page, a file) or garbage
        }

        int requestPort = request.Host.Port ?? (request.IsHttps ? 443 : 80);
        return uri.Scheme.Equals(request.Scheme, StringComparison.OrdinalIgnoreCase)
            && uri.Host.TrimStart('[').TrimEnd(']').Equals(request.Host.Host.TrimStart('[').TrimEnd(']'), StringComparison.OrdinalIgnoreCase)
            && uri.Port == requestPort;
    }

    private static string? BearerToken(HttpRequest request)
    {
        string? header = request.Headers.Authorization;
        const string Scheme = "Bearer ";
        if (header is null || !header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        string token = header[Scheme.Length..].Trim();
        return token.Length == 0 ? null : token;
    }

    private static bool IsJson(string contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out MediaTypeHeaderValue? media)
        && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase))
        && (!media.Charset.HasValue || media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    private static bool HasBody(HttpContext context) =>
        context.Request.ContentLength is > 0
        || (context.Request.ContentLength is null && context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true);

    private static byte[] Digest(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private Task RefuseAsync(HttpContext context, int status, string title, string detail)
    {
        ApiLog.Refused(_logger, context.Request.Method, context.Request.Path.Value ?? "/", context.Connection.RemoteIpAddress?.ToString() ?? "?", status, detail);
        return ApiJson.Problem(status, title, detail).ExecuteAsync(context);
    }

    /// <summary>The SHA-256 digests of the two tokens, swapped as one object.</summary>
    private sealed record TokenDigests(byte[]? Token, byte[]? ReadToken)
    {
        public bool RequiresToken => Token is not null || ReadToken is not null;

        public static TokenDigests Of(string? token, string? readToken) =>
            new(token is null ? null : Digest(token), readToken is null ? null : Digest(readToken));
    }
}
