using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Rumor.Core;
using Rumor.Hosting;
using Rumor.Transport;

namespace Rumor.Cli;

/// <summary>
/// <c>rumor cluster</c>: N nodes in this process, each with real UDP and TCP sockets of its own
/// (<see cref="InProcessCluster"/>), and a small HTTP API over all of them, to try real-socket
/// scale without N processes (docs/OPERATIONS.md). Starts, joins, waits (bounded) for every node
/// to see every node alive and prints how long that took, then serves the API until Ctrl+C or
/// SIGTERM, when every node is stopped.
/// </summary>
internal static class ClusterCommand
{
    private const int DefaultNodes = 10;
    private static readonly TimeSpan DefaultConvergeBound = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>The command for the parser, writing to the writers given.</summary>
    public static Command Create(TextWriter output, TextWriter error)
    {
        Command command = new("cluster", "Runs N nodes with real sockets in this process (ports BIND.port to BIND.port+N-1) with an HTTP API over all of them, until Ctrl+C.")
        {
            CliOptions.Count("--nodes", "N", $"How many nodes (1 to {InProcessClusterOptions.NodesMax:N0}; default {DefaultNodes}).", 1, InProcessClusterOptions.NodesMax, "a node count"),
            CliOptions.Text("--bind", "ADDR:PORT", "Node 0's address (default 127.0.0.1:20000); node i binds port PORT+i."),
            CliOptions.Flag("--hosts", "One loopback address per node instead of one port per node: node i binds ADDR+i, all on PORT."),
            CliOptions.Text("--http", "ADDR:PORT", "Where the HTTP API listens (default 127.0.0.1:7400)."),
            CliOptions.Text("--preset", "lan|wan|local", "Protocol timings of every node (default lan).").Completing("lan", "wan", "local"),
            CliOptions.Parsed<ulong?>("--seed", "S", "Node i's random seed is S+i (default: drawn from the OS).", ParseSeed),
            CliOptions.Duration("--converge-timeout", "How long to wait for the first convergence before serving anyway (default 5m).", TimeSpan.FromSeconds(1), TimeSpan.FromHours(1)),
        };
        command.SetAction((parsed, stop) => RunAsync(parsed, output, error, stop));
        return command;
    }

    private static ulong? ParseSeed(string text) =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed) ? seed : throw new UsageException($"--seed: '{text}' is not a whole number.");

    private static async Task<int> RunAsync(ParseResult parsed, TextWriter output, TextWriter error, CancellationToken stop)
    {
        InProcessClusterOptions options;
        IPEndPoint http;
        try
        {
            string preset = (parsed.GetValue<string>("--preset") ?? "lan").ToLowerInvariant();
            if (preset is not ("lan" or "wan" or "local"))
            {
                throw new UsageException($"--preset: '{preset}' is not lan, wan or local.");
            }

            options = new InProcessClusterOptions
            {
                Nodes = parsed.GetValue<int?>("--nodes") ?? DefaultNodes,
                FirstAddress = ParseAddress("--bind", parsed.GetValue<string>("--bind") ?? "127.0.0.1:20000"),
                Addressing = parsed.GetValue<bool>("--hosts") ? ClusterAddressing.Hosts : ClusterAddressing.Ports,
                Template = new RumorOptions { Preset = preset },
                RandomSeed = parsed.GetValue<ulong?>("--seed"),
            };
            http = ParseAddress("--http", parsed.GetValue<string>("--http") ?? "127.0.0.1:7400").ToIPEndPoint();
            if (options.Validate() is { Count: > 0 } problems)
            {
                throw new UsageException(string.Join(" ", problems));
            }
        }
        catch (UsageException e)
        {
            return await UsageErrors.ReportAsync(error, "rumor cluster", [e.Message]).ConfigureAwait(false);
        }

        TimeSpan convergeBound = parsed.GetValue<TimeSpan?>("--converge-timeout") ?? DefaultConvergeBound;
        InProcessCluster cluster;
        try
        {
            await output.WriteLineAsync($"starting {options.Nodes} nodes from {options.FirstAddress} ({(options.Addressing == ClusterAddressing.Ports ? "one port each" : "one address each")}, preset {options.Template.Preset})").ConfigureAwait(false);
            cluster = await InProcessCluster.StartAsync(options, stop).ConfigureAwait(false);
        }
        catch (TransportBindException e)
        {
            await error.WriteLineAsync($"rumor cluster: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("rumor cluster: interrupted").ConfigureAwait(false);
            return ExitCodes.Interrupted;
        }

        await using (cluster.ConfigureAwait(false))
        {
            WebApplication app;
            try
            {
                app = BuildApi(cluster, http);
                await app.StartAsync(stop).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                await error.WriteLineAsync($"rumor cluster: the HTTP API cannot listen on {http}: {e.Message}").ConfigureAwait(false);
                return ExitCodes.Failure;
            }

            await using (app.ConfigureAwait(false))
            {
                ClusterSummary started = cluster.Summary();
                await output.WriteLineAsync(Line($"{started.Nodes} nodes bound in {started.JoinStartedAtMs / 1000:0.00} s; joins answered {(started.JoinedAtMs - started.JoinStartedAtMs) / 1000:0.00} s later ({started.JoinsFailed} failed); HTTP API at http://{http}/v1/cluster")).ConfigureAwait(false);
                try
                {
                    if (await cluster.WaitUntilConvergedAsync(convergeBound, PollInterval, stop).ConfigureAwait(false))
                    {
                        await output.WriteLineAsync(Line($"converged: every node sees {cluster.Count} alive, {(cluster.ConvergedAtMs!.Value - started.JoinStartedAtMs) / 1000:0.00} s after the joins began")).ConfigureAwait(false);
                    }
                    else
                    {
                        ClusterSummary now = cluster.Summary();
                        await output.WriteLineAsync(Line($"not converged within {convergeBound.TotalSeconds:0} s: {now.Converged} of {now.Running} nodes see every node alive; serving anyway")).ConfigureAwait(false);
                    }

                    await output.WriteLineAsync("Ctrl+C stops every node").ConfigureAwait(false);
                    await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    await output.WriteLineAsync("stopping every node").ConfigureAwait(false);
                }

                await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        await output.WriteLineAsync("stopped").ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static string Line(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static NodeAddress ParseAddress(string option, string text) =>
        NodeAddress.TryParse(text, out NodeAddress address) ? address : throw new UsageException($"{option}: '{text}' is not an address such as 127.0.0.1:20000.");

    /// <summary>The API: plain request delegates and source-generated JSON (nothing here needs reflection, so it runs Native AOT).</summary>
    internal static WebApplication BuildApi(InProcessCluster cluster, IPEndPoint http)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ApplicationName = "rumor-cluster" });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(http));
        WebApplication app = builder.Build();
        Map(app, cluster);
        return app;
    }

    internal static void Map(IEndpointRouteBuilder app, InProcessCluster cluster)
    {
        ClusterJsonContext json = ClusterJsonContext.Default;
        app.MapGet("/v1/cluster", (RequestDelegate)(context => Write(context, cluster.Summary(), json.ClusterSummary)));
        app.MapGet("/v1/cluster/process", (RequestDelegate)(context => Write(context, ProcessReport.Now(), json.ProcessReport)));
        app.MapGet("/v1/cluster/traffic", (RequestDelegate)(async context => await Write(context, await cluster.TrafficAsync(context.RequestAborted).ConfigureAwait(false), json.TrafficReport).ConfigureAwait(false)));
        app.MapGet("/v1/cluster/spread/event/{name}", (RequestDelegate)(context => Write(context, cluster.Spread(InProcessCluster.EventKey(Route(context, "name"))), json.SpreadReport)));
        app.MapGet("/v1/cluster/spread/dead/{node}", (RequestDelegate)(context => Write(context, cluster.Spread(InProcessCluster.DeadKey(Route(context, "node"))), json.SpreadReport)));
        app.MapGet("/v1/cluster/spread/suspect/{node}", (RequestDelegate)(context => Write(context, cluster.Spread(InProcessCluster.SuspectKey(Route(context, "node"))), json.SpreadReport)));
        app.MapGet("/v1/cluster/spread/kv/{owner}/{**key}", (RequestDelegate)(context => Write(context, cluster.Spread(InProcessCluster.KeyKey(Route(context, "owner"), Route(context, "key"))), json.SpreadReport)));
        app.MapGet("/v1/nodes/{i:int}/members", (RequestDelegate)(context => WithNode(context, cluster, i =>
            Write(context, cluster.MembersOf(i).Select(m => new ClusterMemberView(m.Name, m.Address.ToString(), m.State.ToString().ToLowerInvariant(), m.Incarnation)).ToArray(), json.ClusterMemberViewArray))));
        app.MapPost("/v1/nodes/{i:int}/kill", (RequestDelegate)(context => WithNode(context, cluster, async i =>
        {
            bool killed = await cluster.KillAsync(i).ConfigureAwait(false);
            await Write(context, new KillResult(cluster[i].Name, killed, cluster[i].KilledAtMs ?? 0), json.KillResult).ConfigureAwait(false);
        })));
        app.MapPut("/v1/nodes/{i:int}/kv/{**key}", (RequestDelegate)(context => WithNode(context, cluster, async i =>
        {
            byte[] value = await ReadBodyAsync(context).ConfigureAwait(false);
            string key = Route(context, "key");
            ulong version = await cluster.SetAsync(i, key, value, context.RequestAborted).ConfigureAwait(false);
            await Write(context, new KvSetResult(cluster[i].Name, key, version), json.KvSetResult).ConfigureAwait(false);
        })));
        app.MapPost("/v1/nodes/{i:int}/event/{name}", (RequestDelegate)(context => WithNode(context, cluster, async i =>
        {
            byte[] payload = await ReadBodyAsync(context).ConfigureAwait(false);
            Rumor.Core.Events.UserEvent sent = await cluster.SendEventAsync(i, Route(context, "name"), payload, context.RequestAborted).ConfigureAwait(false);
            await Write(context, new EventSendResult(cluster[i].Name, sent.Name, sent.LamportTime), json.EventSendResult).ConfigureAwait(false);
        })));
    }

    private static string Route(HttpContext context, string name) => Convert.ToString(context.Request.RouteValues[name], CultureInfo.InvariantCulture) ?? string.Empty;

    private static Task Write<T>(HttpContext context, T value, JsonTypeInfo<T> type, int status = StatusCodes.Status200OK)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(value, type, contentType: null, context.RequestAborted);
    }

    private static Task Problem(HttpContext context, int status, string detail) =>
        Write(context, new ClusterProblem(status, detail), ClusterJsonContext.Default.ClusterProblem, status);

    /// <summary>Runs <paramref name="body"/> for the node in the route, answering 404 for an index out of range, 409 for a killed node and 400 for a refused argument.</summary>
    private static async Task WithNode(HttpContext context, InProcessCluster cluster, Func<int, Task> body)
    {
        int i = int.Parse(Route(context, "i"), CultureInfo.InvariantCulture);
        if (i < 0 || i >= cluster.Count)
        {
            await Problem(context, StatusCodes.Status404NotFound, $"There is no node {i}: the nodes are 0 to {cluster.Count - 1}.").ConfigureAwait(false);
            return;
        }

        try
        {
            await body(i).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.Response.HasStarted && e is RumorNodeNotRunningException or ObjectDisposedException)
        {
            await Problem(context, StatusCodes.Status409Conflict, $"Node {i} is not running (killed).").ConfigureAwait(false);
        }
        catch (ArgumentException e) when (!context.Response.HasStarted)
        {
            await Problem(context, StatusCodes.Status400BadRequest, e.Message).ConfigureAwait(false);
        }
    }

    /// <summary>The request body as bytes, at most 64 KiB (a value or payload is far smaller; the node refuses what is over its own limit).</summary>
    private static async Task<byte[]> ReadBodyAsync(HttpContext context)
    {
        const int BodyMaxBytes = 64 * 1024;
        using MemoryStream buffer = new();
        byte[] chunk = new byte[4096];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > BodyMaxBytes)
            {
                throw new ArgumentException($"The body is over {BodyMaxBytes} bytes.");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}

/// <summary>A member as one node of the cluster sees it.</summary>
internal sealed record ClusterMemberView(string Name, string Address, string State, uint Incarnation);

/// <summary>The answer to a kill.</summary>
internal sealed record KillResult(string Name, bool Killed, double KilledAtMs);

/// <summary>The answer to a key set.</summary>
internal sealed record KvSetResult(string Owner, string Key, ulong Version);

/// <summary>The answer to an event sent.</summary>
internal sealed record EventSendResult(string Origin, string Name, ulong LamportTime);

/// <summary>
/// The process's garbage collector and threads: its gen0 budget (<see cref="ClusterHeap"/>; null
/// when the executable's own 4 MiB), collections per generation and their total pause since start,
/// and the managed heap now.
/// </summary>
internal sealed record ProcessReport(long? Gen0BudgetBytes, int Gen0Collections, int Gen1Collections, int Gen2Collections, double GcPauseMs, long HeapBytes)
{
    public static ProcessReport Now() => new(
        ClusterHeap.CurrentBudget(),
        GC.CollectionCount(0),
        GC.CollectionCount(1),
        GC.CollectionCount(2),
        GC.GetTotalPauseDuration().TotalMilliseconds,
        GC.GetTotalMemory(forceFullCollection: false));
}

/// <summary>What went wrong, as the agent's problem documents say it.</summary>
internal sealed record ClusterProblem(int Status, string Detail);

/// <summary>The source-generated JSON of <c>rumor cluster</c>'s API (camelCase, nulls omitted).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ClusterSummary))]
[JsonSerializable(typeof(TrafficReport))]
[JsonSerializable(typeof(SpreadReport))]
[JsonSerializable(typeof(ClusterMemberView[]))]
[JsonSerializable(typeof(KillResult))]
[JsonSerializable(typeof(KvSetResult))]
[JsonSerializable(typeof(EventSendResult))]
[JsonSerializable(typeof(ClusterProblem))]
[JsonSerializable(typeof(ProcessReport))]
internal sealed partial class ClusterJsonContext : JsonSerializerContext;
