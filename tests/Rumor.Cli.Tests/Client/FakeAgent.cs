using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rumor.Cli.Tests.Client;

/// <summary>One request as the fake agent received it: the raw target (path and query exactly as sent) and the body.</summary>
internal sealed record RecordedRequest(string Method, string Target, string Body, string? ContentType)
{
    public string Path => Target.Split('?')[0];
}

/// <summary>
/// A real HTTP server on 127.0.0.1, port 0, playing the agent's API (docs/HTTP-API.md) for the
/// requests a test scripts: each route answers with a status and a JSON body, or a server-sent
/// event stream. It records every request it receives, so tests check what the CLI sent as well as
/// how it rendered the answer. An unscripted route answers 404 with a problem document naming it.
/// </summary>
internal sealed class FakeAgent : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Func<HttpContext, Task>> _routes = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    private FakeAgent(WebApplication app)
    {
        _app = app;
    }

    public string Url { get; private set; } = string.Empty;

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public RecordedRequest Single()
    {
        RecordedRequest[] requests = [.. _requests];
        Assert.True(requests.Length == 1, $"expected one request, got {requests.Length}: {string.Join("; ", requests.Select(r => r.Method + " " + r.Target))}");
        return requests[0];
    }

    public static async Task<FakeAgent> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        FakeAgent agent = new(app);
        app.Run(agent.HandleAsync);
        await app.StartAsync();
        agent.Url = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return agent;
    }

    /// <summary>Answers <paramref name="method"/> <paramref name="path"/> (without query) with a status and a body.</summary>
    public void On(string method, string path, int status, string body, string contentType = "application/json") =>
        _routes[method + " " + path] = async context =>
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = contentType;
            await context.Response.WriteAsync(body);
        };

    /// <summary>Answers with a problem details document (RFC 9457), as the agent does for every error.</summary>
    public void OnProblem(string method, string path, int status, string title, string detail) =>
        On(method, path, status, $$"""{"type":"about:blank","title":"{{title}}","status":{{status}},"detail":"{{detail}}"}""", "application/problem+json");

    /// <summary>
    /// Answers with a <c>text/event-stream</c> of the given raw SSE text, then either holds the stream
    /// open until the client goes away (<paramref name="keepOpen"/>) or ends it.
    /// </summary>
    public void OnStream(string path, string events, bool keepOpen = true) =>
        _routes["GET " + path] = async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync(events);
            await context.Response.Body.FlushAsync();
            if (keepOpen)
            {
                try
                {
                    // Bounded: a test that forgets to stop its client still ends.
                    await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    // The client went away: the normal end of a watch.
                }
            }
        };

    private async Task HandleAsync(HttpContext context)
    {
        string target = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        using StreamReader reader = new(context.Request.Body, Encoding.UTF8);
        string body = await reader.ReadToEndAsync(context.RequestAborted);
        _requests.Enqueue(new RecordedRequest(context.Request.Method, target, body, context.Request.ContentType));
        string route = context.Request.Method + " " + target.Split('?')[0];
        if (_routes.TryGetValue(route, out Func<HttpContext, Task>? handler))
        {
            await handler(context);
            return;
        }

        context.Response.StatusCode = 404;
        context.Response.ContentType = "application/problem+json";
        await context.Response.WriteAsync($$"""{"title":"Not Found","status":404,"detail":"the fake agent has no route {{route}}"}""");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>A StringWriter safe to read while a command writes to it from another thread (stream tests).</summary>
internal sealed class ConcurrentWriter : StringWriter
{
    private readonly Lock _lock = new();

    public override void Write(char value)
    {
        lock (_lock)
        {
            base.Write(value);
        }
    }

    public override void Write(string? value)
    {
        lock (_lock)
        {
            base.Write(value);
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_lock)
        {
            base.Write(buffer, index, count);
        }
    }

    public override Task WriteAsync(string? value)
    {
        Write(value);
        return Task.CompletedTask;
    }

    public override Task WriteLineAsync(string? value)
    {
        Write(value + NewLine);
        return Task.CompletedTask;
    }

    public override Task WriteLineAsync()
    {
        Write(NewLine);
        return Task.CompletedTask;
    }

    public override string ToString()
    {
        lock (_lock)
        {
            return base.ToString();
        }
    }
}

/// <summary>A clock fixed at one instant in UTC, so ages in tables are exact.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
}
