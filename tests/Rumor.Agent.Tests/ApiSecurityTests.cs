using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Rumor.Client;
using Rumor.Core;
using Rumor.Hosting;

namespace Rumor.Agent.Tests;

/// <summary>
/// The HTTP API closed by default (issue 12 item 4): tokens, the loopback rule, Host and Origin
/// checks, JSON-only writes, bounded bodies, rate limiting and TLS, over real HTTP on 127.0.0.1.
/// </summary>
public sealed class ApiSecurityTests
{
    private const string Token = "rw-token-0123456789abcdef0123456789";
    private const string ReadToken = "ro-token-0123456789abcdef0123456789";

    [Fact]
    public async Task With_tokens_every_request_needs_one_and_the_read_token_only_reads()
    {
        await using RumorAgent agent = await Agents.StartAsync("tok-a", api: new ApiSettings { Token = Token, ReadToken = ReadToken });
        using HttpClient http = Agents.Client(agent);

        using HttpResponseMessage anonymous = await http.GetAsync("/v1/members");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Bearer", anonymous.Headers.WwwAuthenticate.Single().Scheme);
        JsonElement problem = await ProblemAsync(anonymous);
        Assert.Contains("Authorization: Bearer", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, HttpMethod.Get, "/v1/members", "wrong-token-0123456789abcdef"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, HttpMethod.Get, "/metrics", null));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, HttpMethod.Get, "/v1/members", ReadToken));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, HttpMethod.Get, "/v1/members", Token));

        // The read-only token cannot write; the read-write one can.
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(http, HttpMethod.Put, "/v1/kv/k", ReadToken, "{\"value\":\"v\"}"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, HttpMethod.Put, "/v1/kv/k", Token, "{\"value\":\"v\"}"));

        // Open without a token: the health check and the dashboard's files (the page asks for the token).
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, HttpMethod.Get, "/v1/health", null));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, HttpMethod.Get, "/", null));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, HttpMethod.Get, "/dashboard/app.js", null));

        // The typed client sends its token; without one it gets the agent's 401 as an exception.
        using RumorClient withToken = new(agent.Url) { Token = Token };
        Assert.Equal("v", (await withToken.GetKeyAsync("k"))[0].Value);
        using RumorClient without = new(agent.Url);
        RumorApiException refused = await Assert.ThrowsAsync<RumorApiException>(() => without.GetMembersAsync());
        Assert.Equal(401, refused.Status);
    }

    [Fact]
    public async Task Tokens_replaced_at_run_time_take_effect_at_once_and_an_invalid_pair_is_refused()
    {
        await using RumorAgent agent = await Agents.StartAsync("tok-swap", api: new ApiSettings { Token = Token });
        using HttpClient http = Agents.Client(agent);
        const string NewToken = "new-rw-token-0123456789abcdef0123";

        Assert.Null(agent.SetApiTokens(NewToken, ReadToken));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, HttpMethod.Get, "/v1/members", Token));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, HttpMethod.Get, "/v1/members", NewToken));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(http, HttpMethod.Put, "/v1/kv/k", ReadToken, "{\"value\":\"v\"}"));

        // The same token twice is refused and the running pair kept.
        Assert.NotNull(agent.SetApiTokens(Token, Token));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, HttpMethod.Get, "/v1/members", NewToken));

        // On loopback the tokens may be removed: the API is open again, as without any at start.
        Assert.Null(agent.SetApiTokens(null, null));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, HttpMethod.Get, "/v1/members", null));
    }

    [Fact]
    public async Task Binding_beyond_loopback_without_a_token_is_refused_at_start()
    {
        RumorOptions options = new() { Name = "open", Bind = "127.0.0.1:0", Preset = "local" };
        AgentConfigurationException error = await Assert.ThrowsAsync<AgentConfigurationException>(
            () => RumorAgent.StartAsync(new AgentSettings(options, NodeAddress.Parse("0.0.0.0:0"))));
        Assert.Contains("not a loopback address", error.Message, StringComparison.Ordinal);
        Assert.Contains("Token", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_foreign_Host_or_Origin_is_refused()
    {
        await using RumorAgent agent = await Agents.StartAsync("host-a", api: new ApiSettings { AllowedHosts = ["rumor.internal"] });
        using HttpClient http = Agents.Client(agent);
        int port = agent.Url.Port;

        // DNS rebinding: a page at evil.example whose name now resolves to 127.0.0.1.
        using HttpRequestMessage rebound = new(HttpMethod.Get, "/v1/kv");
        rebound.Headers.Host = $"evil.example:{port}";
        using HttpResponseMessage misdirected = await http.SendAsync(rebound);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, misdirected.StatusCode);
        Assert.Contains("HttpAllowedHosts", (await ProblemAsync(misdirected)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        foreach (string host in new[] { $"localhost:{port}", $"127.0.0.1:{port}", $"[::1]:{port}", $"rumor.internal:{port}" })
        {
            using HttpRequestMessage ok = new(HttpMethod.Get, "/v1/kv");
            ok.Headers.Host = host;
            using HttpResponseMessage answer = await http.SendAsync(ok);
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"Host {host}: {(int)answer.StatusCode}");
        }

        // CSRF: another site's page posting to the agent, and reading from it.
        foreach ((HttpMethod method, string path) in new[] { (HttpMethod.Post, "/v1/leave"), (HttpMethod.Get, "/v1/kv") })
        {
            using HttpRequestMessage foreign = new(method, path);
            foreign.Headers.Add("Origin", "http://evil.example");
            if (method == HttpMethod.Post)
            {
                foreign.Content = new StringContent("{}", Encoding.UTF8, "application/json");
            }

            using HttpResponseMessage forbidden = await http.SendAsync(foreign);
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
            Assert.Contains("CSRF", (await ProblemAsync(forbidden)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using HttpRequestMessage sandboxed = new(HttpMethod.Get, "/v1/kv");
        sandboxed.Headers.Add("Origin", "null");
        using HttpResponseMessage nullOrigin = await http.SendAsync(sandboxed);
        Assert.Equal(HttpStatusCode.Forbidden, nullOrigin.StatusCode);

        using HttpRequestMessage own = new(HttpMethod.Put, "/v1/kv/same-origin") { Content = new StringContent("{\"value\":\"x\"}", Encoding.UTF8, "application/json") };
        own.Headers.Add("Origin", $"http://127.0.0.1:{port}");
        using HttpResponseMessage sameOrigin = await http.SendAsync(own);
        Assert.Equal(HttpStatusCode.OK, sameOrigin.StatusCode);

        // The node never left: the refused POST /v1/leave did nothing.
        Assert.True(agent.Node.IsRunning);
    }

    [Fact]
    public async Task Writes_take_only_json_and_bodies_are_bounded()
    {
        await using RumorAgent agent = await Agents.StartAsync("body-a", api: new ApiSettings { BodyMaxBytes = 4096 });
        using HttpClient http = Agents.Client(agent);

        // A form post (what a cross-site <form> sends) is refused before it can leave the cluster.
        using HttpResponseMessage form = await http.PostAsync("/v1/leave", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, form.StatusCode);
        Assert.Contains("application/json", (await ProblemAsync(form)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        using HttpResponseMessage text = await http.PutAsync("/v1/kv/t", new StringContent("{\"value\":\"v\"}", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
        ByteArrayContent untyped = new("{\"value\":\"v\"}"u8.ToArray());
        using HttpResponseMessage noType = await http.PutAsync("/v1/kv/t", untyped);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, noType.StatusCode);
        Assert.True(agent.Node.IsRunning);

        using HttpResponseMessage json = await http.PutAsync("/v1/kv/t", new StringContent("{\"value\":\"v\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        using HttpResponseMessage delete = await http.DeleteAsync("/v1/kv/t");
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);

        string big = "{\"value\":\"" + new string('x', 5000) + "\"}";
        using HttpResponseMessage tooLarge = await http.PutAsync("/v1/kv/big", new StringContent(big, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("HttpBodyMaxBytes", (await ProblemAsync(tooLarge)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Chunked, so no Content-Length announces it: refused while it is read.
        StreamContent chunked = new(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using HttpRequestMessage request = new(HttpMethod.Put, "/v1/kv/big") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using HttpResponseMessage chunkedTooLarge = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunkedTooLarge.StatusCode);
        Assert.Equal("application/problem+json", chunkedTooLarge.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await agent.Node.GetAsync("big"));
    }

    [Fact]
    public async Task A_body_that_stalls_past_its_grace_gets_a_408_naming_the_option_and_writes_nothing()
    {
        // A two-second grace (Kestrel takes no less): the stalled body below (10 of its 2,000 bytes, then nothing) is refused
        // within a few seconds; the default (30 s) is checked where the options are read (Cli.Tests).
        await using RumorAgent agent = await Agents.StartAsync("grace-a", api: new ApiSettings { BodyGraceSeconds = 2 });
        using Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, agent.Url.Port));
        string body = "{\"value\":\"" + new string('s', 1980) + "\"}";
        string head = $"PUT /v1/kv/stalled HTTP/1.1\r\nHost: 127.0.0.1:{agent.Url.Port}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head + body[..10]));

        // Read the answer until the server closes the connection (bounded).
        using CancellationTokenSource bound = new(TimeSpan.FromSeconds(60));
        StringBuilder answer = new();
        byte[] buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, bound.Token)) > 0)
        {
            answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        string text = answer.ToString();
        Assert.StartsWith("HTTP/1.1 408", text, StringComparison.Ordinal);
        Assert.Contains("HttpBodyGraceSeconds", text, StringComparison.Ordinal);
        Assert.Empty(await agent.Node.GetAsync("stalled"));
        Assert.True(agent.Node.IsRunning);

        // The API still answers others.
        using HttpClient http = Agents.Client(agent);
        using HttpResponseMessage json = await http.PutAsync("/v1/kv/t", new StringContent("{\"value\":\"v\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
    }

    [Fact]
    public async Task Requests_past_the_rate_get_a_429_with_Retry_After()
    {
        // A bucket of 2 refilled once an hour: the third request within the test is over the limit, however slow the machine.
        await using RumorAgent agent = await Agents.StartAsync("rate-a", api: new ApiSettings { RequestsPerSecond = 1, RequestBurst = 2, RatePeriod = TimeSpan.FromHours(1) });
        using HttpClient http = Agents.Client(agent);

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/v1/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/v1/members")).StatusCode);
        using HttpResponseMessage limited = await http.GetAsync("/v1/members");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"Retry-After: {limited.Headers.RetryAfter}");
        JsonElement problem = await ProblemAsync(limited);
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.Contains("HttpRateLimit", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using RumorClient client = new(agent.Url);
        RumorApiException error = await Assert.ThrowsAsync<RumorApiException>(() => client.GetStatusAsync());
        Assert.Equal(429, error.Status);
        Assert.True(error.RetryAfter > TimeSpan.Zero);
    }

    [Fact]
    public async Task The_API_serves_https_from_a_certificate_file()
    {
        string directory = Directory.CreateTempSubdirectory("rumor-tls-").FullName;
        try
        {
            using RSA key = RSA.Create(2048);
            CertificateRequest request = new("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            SubjectAlternativeNameBuilder names = new();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            string certificateFile = Path.Combine(directory, "api.crt");
            string keyFile = Path.Combine(directory, "api.key");
            await File.WriteAllTextAsync(certificateFile, certificate.ExportCertificatePem());
            await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());

            await using RumorAgent agent = await Agents.StartAsync("tls-a", api: new ApiSettings { TlsCertificateFile = certificateFile, TlsKeyFile = keyFile, Token = Token });
            Assert.Equal("https", agent.Url.Scheme);

            string? seen = null;
            using HttpClientHandler handler = new()
            {
                ServerCertificateCustomValidationCallback = (_, presented, _, _) =>
                {
                    seen = presented?.Thumbprint;
                    return presented?.Thumbprint == certificate.Thumbprint;
                },
            };
            using HttpClient http = new(handler) { BaseAddress = agent.Url, Timeout = Agents.Bound };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            JsonElement status = await Agents.GetJsonAsync(http, "/v1/status");
            Assert.Equal("tls-a", status.GetProperty("name").GetString());
            Assert.Equal(certificate.Thumbprint, seen);

            // Plain HTTP to the TLS port gets nothing of the API.
            using HttpClient plain = new() { BaseAddress = new UriBuilder(agent.Url) { Scheme = "http" }.Uri, Timeout = Agents.Bound };
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetStringAsync("/v1/status"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_certificate_file_that_cannot_be_used_is_refused_by_name()
    {
        string file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "not a certificate");
            RumorOptions options = new() { Name = "badtls", Bind = "127.0.0.1:0", Preset = "local" };
            AgentConfigurationException error = await Assert.ThrowsAsync<AgentConfigurationException>(
                () => RumorAgent.StartAsync(new AgentSettings(options, NodeAddress.Parse("127.0.0.1:0")) { Api = new ApiSettings { TlsCertificateFile = file } }));
            Assert.Contains("TlsCertificate", error.Message, StringComparison.Ordinal);
            Assert.Contains(file, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Status_lists_the_gossip_security_counters_and_the_stream_bounds()
    {
        await using RumorAgent agent = await Agents.StartAsync("sec-a");
        using HttpClient http = Agents.Client(agent);
        JsonElement status = await Agents.GetJsonAsync(http, "/v1/status");
        JsonElement security = status.GetProperty("security");
        foreach (string counter in new[] { "packetsUnauthenticated", "plaintextRefused", "plaintextAccepted", "replaysRefused", "outOfBoundsRefused", "reflectionsRefused" })
        {
            Assert.Equal(0, security.GetProperty(counter).GetInt64());
        }

        Assert.Equal(ApiSettings.DefaultStreamSubscribersMax, status.GetProperty("api").GetProperty("streamSubscribersMax").GetInt32());
        using RumorClient client = new(agent.Url);
        StatusDto typed = await client.GetStatusAsync();
        Assert.NotNull(typed.Security);
        Assert.Equal(0, typed.Api!.StreamSubscribers);
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient http, HttpMethod method, string path, string? token, string? json = null)
    {
        using HttpRequestMessage request = new(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using HttpResponseMessage response = await http.SendAsync(request);
        return response.StatusCode;
    }

    internal static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
