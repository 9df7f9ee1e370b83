using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Rumor.EndToEnd.Tests.Support;

namespace Rumor.EndToEnd.Tests;

/// <summary><c>rumor cluster</c> as a user runs it: one process, N nodes with their own sockets, its API, SIGTERM.</summary>
public sealed class ClusterCommandTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task The_cluster_command_runs_with_a_gen0_budget_for_its_nodes_converges_serves_its_api_and_stops_on_SIGTERM()
    {
        // One loopback address per node (--hosts) on a subnet of its own, so no other test's port can collide.
        int subnet = Random.Shared.Next(1, 250);
        int port = FreePort(IPAddress.Parse($"127.91.{subnet}.1"));
        string http = $"127.91.{subnet}.250:{FreePort(IPAddress.Parse($"127.91.{subnet}.250"))}";
        using RumorProcess cluster = RumorProcess.Start("cluster", "cluster", "--nodes", "20", "--hosts", "--bind", $"127.91.{subnet}.1:{port}", "--http", http, "--preset", "local", "--converge-timeout", "60s");
        try
        {
            Assert.True(await cluster.WaitForOutputAsync(o => o.Contains("Ctrl+C stops every node", StringComparison.Ordinal), Bound), "the cluster should start and serve:\n" + cluster.Describe());
            Assert.Contains("converged: every node sees 20 alive", cluster.Output, StringComparison.Ordinal);

            using HttpClient client = new() { BaseAddress = new Uri($"http://{http}/"), Timeout = TimeSpan.FromSeconds(30) };
            using JsonDocument process = JsonDocument.Parse(await client.GetStringAsync(new Uri("v1/cluster/process", UriKind.Relative)));

            // The process replaced itself (same PID: this test holds its streams) with 20 × 256 KiB
            // of gen0 budget in its environment; the executable's own is 4 MiB.
            Assert.Equal(20 * 256 * 1024, process.RootElement.GetProperty("gen0BudgetBytes").GetInt64());
            Assert.True(process.RootElement.GetProperty("gen0Collections").GetInt32() >= 0);
            Assert.True(process.RootElement.GetProperty("heapBytes").GetInt64() > 0);

            using JsonDocument summary = JsonDocument.Parse(await client.GetStringAsync(new Uri("v1/cluster", UriKind.Relative)));
            Assert.Equal(20, summary.RootElement.GetProperty("converged").GetInt32());

            await cluster.SignalAsync("TERM");
            Assert.Equal(0, await cluster.TryWaitForExitAsync(Bound));
            Assert.Contains("stopped", cluster.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("GC budget", cluster.Error, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is not EndToEndException)
        {
            throw new EndToEndException(e.Message + "\n" + cluster.Describe(), e);
        }
    }

    private static int FreePort(IPAddress address)
    {
        using Socket probe = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(address, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
