using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Rumor.Agent.Tests;

/// <summary>
/// Debian's <c>chromium</c>, headless, driven over the Chrome DevTools protocol with
/// <see cref="ClientWebSocket"/> (no extra package, nothing downloaded). A fresh profile per run.
/// When the browser is missing this throws: a browser test must fail loudly, never skip.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket;
    private int _nextId;

    private HeadlessChromium(Process process, string profile, ClientWebSocket socket)
    {
        _process = process;
        _profile = profile;
        _socket = socket;
    }

    public static string Executable =>
        Environment.GetEnvironmentVariable("RUMOR_CHROMIUM") is { Length: > 0 } configured ? configured
        : File.Exists("/usr/bin/chromium") ? "/usr/bin/chromium"
        : throw new InvalidOperationException("chromium is not installed (expected /usr/bin/chromium, or set RUMOR_CHROMIUM): install it with 'apt-get install -y chromium'; .ci/run does.");

    public static async Task<HeadlessChromium> StartAsync()
    {
        string profile = Path.Combine(Path.GetTempPath(), "rumor-chromium-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(profile);
        ProcessStartInfo start = new(Executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--remote-debugging-port=0", "--user-data-dir=" + profile, "about:blank"])
        {
            start.ArgumentList.Add(arg);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("chromium did not start.");
        StringBuilder stderr = new();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            // Chromium writes the port it chose to DevToolsActivePort in the profile.
            string portFile = Path.Combine(profile, "DevToolsActivePort");
            DateTime deadline = DateTime.UtcNow + StartBound;
            string? port = null;
            while (port is null)
            {
                if (process.HasExited || DateTime.UtcNow > deadline)
                {
                    string output;
                    lock (stderr)
                    {
                        output = stderr.ToString();
                    }

                    throw new InvalidOperationException($"chromium did not open its DevTools port within {StartBound.TotalSeconds} s (exited: {process.HasExited}). stderr:\n{output}");
                }

                if (File.Exists(portFile) && File.ReadAllLines(portFile) is [{ Length: > 0 } first, ..])
                {
                    port = first;
                }
                else
                {
                    await Task.Delay(100);
                }
            }

            using HttpClient http = new() { Timeout = StartBound };
            JsonArray targets = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list"))!.AsArray();
            string socketUrl = targets.First(t => (string?)t!["type"] == "page")!["webSocketDebuggerUrl"]!.GetValue<string>();
            ClientWebSocket socket = new();
            using CancellationTokenSource bound = new(StartBound);
            await socket.ConnectAsync(new Uri(socketUrl), bound.Token);
            return new HeadlessChromium(process, profile, socket);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    public async Task NavigateAsync(Uri url)
    {
        await SendAsync("Page.enable", new JsonObject());
        await SendAsync("Page.navigate", new JsonObject { ["url"] = url.ToString() });
    }

    /// <summary>Evaluates <paramref name="expression"/> in the page; its value as JSON (undefined as null).</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        JsonNode result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true });
        if (result["exceptionDetails"] is { } exception)
        {
            throw new InvalidOperationException($"The page threw evaluating '{expression}': {exception.ToJsonString()}");
        }

        return result["result"]?["value"]?.DeepClone();
    }

    /// <summary>Polls <paramref name="expression"/> until it yields a string (not null/empty), at most <paramref name="bound"/>.</summary>
    public async Task<string> WaitForAsync(string what, string expression, TimeSpan bound)
    {
        DateTime deadline = DateTime.UtcNow + bound;
        string? last = null;
        while (DateTime.UtcNow < deadline)
        {
            JsonNode? value = await EvaluateAsync(expression);
            last = value?.ToJsonString();
            if (value is JsonValue v && v.TryGetValue(out string? text) && !string.IsNullOrEmpty(text))
            {
                return text;
            }

            await Task.Delay(200);
        }

        string body = (await EvaluateAsync("document.body ? document.body.innerText : '(no body)'"))?.ToString() ?? string.Empty;
        Assert.Fail($"Timed out after {bound.TotalSeconds} s waiting in the browser for {what} (last value {last}). Page text:\n{body}");
        return string.Empty;
    }

    private async Task<JsonNode> SendAsync(string method, JsonObject parameters)
    {
        int id = ++_nextId;
        using CancellationTokenSource bound = new(TimeSpan.FromSeconds(30));
        byte[] message = Encoding.UTF8.GetBytes(new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters }.ToJsonString());
        await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, bound.Token);
        byte[] buffer = new byte[64 * 1024];
        while (true)
        {
            using MemoryStream received = new();
            WebSocketReceiveResult result;
            do
            {
                result = await _socket.ReceiveAsync(buffer, bound.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    throw new InvalidOperationException("chromium closed the DevTools connection.");
                }

                received.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);

            JsonNode reply = JsonNode.Parse(received.ToArray())!;
            if (reply["id"] is { } replyId && replyId.GetValue<int>() == id)
            {
                if (reply["error"] is { } error)
                {
                    throw new InvalidOperationException($"DevTools {method} failed: {error.ToJsonString()}");
                }

                return reply["result"]!;
            }

            // Anything else is an event (Page.loadEventFired, ...): not needed here.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        try
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            // Already gone, or stuck: the OS reaps it with the test host.
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still hold a file for a moment; the temp directory is reclaimed later.
        }
    }
}
