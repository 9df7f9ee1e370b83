using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Rumor.EndToEnd.Tests.Support;
using Xunit.Abstractions;

namespace Rumor.EndToEnd.Tests;

/// <summary>
/// Issue 13, item 1: memory taken by a flood of large stream frames goes back. An agent process
/// (with a second member, so it gossips as in a cluster) takes <see cref="Streams"/> TCP streams,
/// <see cref="Parallel"/> at a time, each a frame of 16 MB (StreamMaxBytes) of junk, which it reads
/// whole and refuses; then the test waits for its resident set to come back within
/// <see cref="ReturnBoundBytes"/> of what it was before. Before the idle trim (MemoryTrimmer) an
/// agent held the peak for as long as it idled (1.1 GB ten minutes after 100 such streams: no
/// allocation, so no collection). Set RUMOR_MEMORY_TRIM_OFF=1 to run the same load with the trim
/// off (MemoryTrimSlackBytes 0) and see the test fail.
/// </summary>
public sealed class MemoryReturnTests(ITestOutputHelper output)
{
    private const int FrameBytes = 16 * 1024 * 1024;
    private const int Streams = 48;
    private const int Parallel = 16;

    /// <summary>How far above the baseline the resident set may stay once the agent is idle again.</summary>
    private const long ReturnBoundBytes = 100L * 1024 * 1024;

    /// <summary>How long the agent has to give the memory back (the trim checks every 10 s, and first needs an idle interval).</summary>
    private static readonly TimeSpan ReturnBound = TimeSpan.FromSeconds(90);

    [Fact]
    public Task Memory_taken_by_a_flood_of_16_MB_frames_goes_back_when_the_agent_is_idle() => Cluster.RunAsync(async cluster =>
    {
        bool trimOff = Environment.GetEnvironmentVariable("RUMOR_MEMORY_TRIM_OFF") == "1";
        string config = Path.Combine(Path.GetTempPath(), $"rumor-memory-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(config, trimOff ? "{ \"MemoryTrimSlackBytes\": 0 }" : "{ }");
        try
        {
            AgentProcess a = await cluster.StartAgentAsync("a", bind: "127.0.14.1:0", http: "127.0.14.1:0", extra: ["--config", config]);
            await cluster.StartAgentAsync("b", join: a.GossipAddress, bind: "127.0.14.2:0", http: "127.0.14.2:0");
            await cluster.WaitForAllAliveAsync("a", "b");
            await Task.Delay(TimeSpan.FromSeconds(3));
            long baseline = Rss(a.Process.Id);

            IPEndPoint target = IPEndPoint.Parse(a.GossipAddress);
            byte[] frame = new byte[4 + FrameBytes];
            new Random(13).NextBytes(frame);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(frame, FrameBytes);
            using SemaphoreSlim slots = new(Parallel);
            int delivered = 0;
            await Task.WhenAll(Enumerable.Range(0, Streams).Select(async _ =>
            {
                await slots.WaitAsync();
                try
                {
                    using TcpClient client = new();
                    await client.ConnectAsync(target);
                    NetworkStream stream = client.GetStream();
                    await stream.WriteAsync(frame);
                    client.Client.Shutdown(SocketShutdown.Send);

                    // The agent closes the stream once it has read and refused the frame.
                    using CancellationTokenSource bound = new(TimeSpan.FromSeconds(60));
                    // 0 (closed) or a stray byte: either way the agent is done with the frame.
                    if (await stream.ReadAsync(new byte[1], bound.Token) >= 0)
                    {
                        Interlocked.Increment(ref delivered);
                    }
                }
                catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
                {
                    // Refused or reset: what the agent took is measured all the same.
                }
                finally
                {
                    slots.Release();
                }
            }));

            long peak = Peak(a.Process.Id);
            DateTime deadline = DateTime.UtcNow + ReturnBound;
            long now = Rss(a.Process.Id);
            while (now > baseline + ReturnBoundBytes && DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                now = Rss(a.Process.Id);
            }

            string figures = string.Create(CultureInfo.InvariantCulture,
                $"{Streams} streams of {FrameBytes / 1048576} MB ({delivered} read to the end), trim {(trimOff ? "off" : "on")}: RSS {baseline / 1048576} MB before, peak {peak / 1048576} MB, {now / 1048576} MB at the end of the wait");
            output.WriteLine(figures);
            cluster.Check(now <= baseline + ReturnBoundBytes, $"the agent should give the memory back within {ReturnBound.TotalSeconds:0} s: {figures}.");
            await cluster.WaitForAllAliveAsync("a", "b");
        }
        finally
        {
            File.Delete(config);
        }
    });

    private static long Rss(int pid) => Status(pid, "VmRSS");

    private static long Peak(int pid) => Status(pid, "VmHWM");

    /// <summary>A field of /proc/PID/status in bytes.</summary>
    private static long Status(int pid, string field)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/status has no {field}");
    }
}
