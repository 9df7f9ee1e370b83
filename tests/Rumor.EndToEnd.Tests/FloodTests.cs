using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Rumor.Core;
using Rumor.Core.Security;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;
using Rumor.EndToEnd.Tests.Support;
using Xunit.Abstractions;

namespace Rumor.EndToEnd.Tests;

/// <summary>
/// Issue 12, item 5b: a live agent in a 3-member encrypted cluster (processes on 127.0.12.x) flooded
/// with random and mutated datagrams and hostile TCP streams (garbage, huge length prefixes,
/// connections that send nothing, slow senders). It must keep serving its API, its membership must
/// not change, its counters must show the drops, and its peak RSS (VmHWM) must stay under
/// <see cref="RssBoundBytes"/>. CI sends <see cref="DefaultDatagrams"/> datagrams and
/// <see cref="DefaultStreams"/> streams; RUMOR_FLOOD_DATAGRAMS and RUMOR_FLOOD_STREAMS set the full
/// size (docs/BENCHMARKS.md: 10^6 and 10^4).
/// </summary>
public sealed class FloodTests(ITestOutputHelper output)
{
    public const int DefaultDatagrams = 50_000;
    public const int DefaultStreams = 1_000;

    /// <summary>The stated bound on the flooded agent's peak resident memory.</summary>
    public const long RssBoundBytes = 512L * 1024 * 1024;

    [Fact]
    public Task A_flooded_agent_keeps_serving_keeps_its_members_counts_the_drops_and_stays_under_its_memory_bound() => Cluster.RunAsync(async cluster =>
    {
        int datagrams = Size("RUMOR_FLOOD_DATAGRAMS", DefaultDatagrams);
        int streams = Size("RUMOR_FLOOD_STREAMS", DefaultStreams);
        string key = (await cluster.CliAsync("keygen")).Output.Trim();
        string config = Path.Combine(Path.GetTempPath(), $"rumor-flood-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(config, "{ \"StreamTimeout\": \"00:00:05\" }");
        try
        {
            AgentProcess a = await cluster.StartAgentAsync("a", bind: "127.0.12.1:0", http: "127.0.12.1:0", extra: ["--encrypt", key, "--config", config]);
            await cluster.StartAgentAsync("b", join: a.GossipAddress, bind: "127.0.12.2:0", http: "127.0.12.2:0", extra: ["--encrypt", key, "--config", config]);
            await cluster.StartAgentAsync("c", join: a.GossipAddress, bind: "127.0.12.3:0", http: "127.0.12.3:0", extra: ["--encrypt", key, "--config", config]);
            await cluster.WaitForAllAliveAsync("a", "b", "c");
            Dictionary<string, long> before = await DropsAsync(cluster, a);
            long rssBefore = ProcStatus(a.Process.Id, "VmRSS");
            long kernelDropsBefore = UdpReceiveBufferErrors();

            IPEndPoint target = IPEndPoint.Parse(a.GossipAddress);
            using CancellationTokenSource flooding = new();
            Task<int> apiCalls = ServeApiWhileAsync(cluster, a, flooding.Token);
            Stopwatch clock = Stopwatch.StartNew();
            DatagramFigures sent = await SendDatagramsAsync(target, GossipKeyring.ParseKey(key), datagrams);
            TimeSpan datagramTime = clock.Elapsed;
            long kernelDrops = UdpReceiveBufferErrors() - kernelDropsBefore;
            StreamFigures hostile = await SendStreamsAsync(target, streams);
            TimeSpan totalTime = clock.Elapsed;
            await flooding.CancelAsync();
            int served = await apiCalls;

            // Membership unchanged: three alive members everywhere, no ghost, nobody left.
            await cluster.WaitForAllAliveAsync("a", "b", "c");
            foreach (AgentProcess observer in new[] { a, cluster["b"], cluster["c"] })
            {
                Dictionary<string, JsonElement> members = await cluster.MembersAsync(observer);
                cluster.Check(members.Count == 3, $"{observer.Name} should know exactly a, b and c after the flood; it knows {string.Join(", ", members.Keys)}.");
            }

            Dictionary<string, long> after = await DropsAsync(cluster, a);
            long Delta(string reason) => after.GetValueOrDefault(reason) - before.GetValueOrDefault(reason);
            long counted = Delta("plaintext") + Delta("unauthenticated") + Delta("decode") + Delta("inbox");
            long peak = ProcStatus(a.Process.Id, "VmHWM");
            long rssAfter = ProcStatus(a.Process.Id, "VmRSS");
            string figures = string.Create(CultureInfo.InvariantCulture,
                $"flood: {datagrams} datagrams ({sent.Random} random, {sent.Plain} mutated plaintext, {sent.WrongKey} wrong key, {sent.Tampered} tampered envelopes) in {datagramTime.TotalSeconds:0.0} s " +
                $"({datagrams / datagramTime.TotalSeconds:0} /s); {streams} streams ({hostile.Garbage} garbage, {hostile.HugePrefix} huge prefix, {hostile.Silent} silent, {hostile.Slow} slow; " +
                $"{hostile.ClosedByAgent} closed by the agent, {hostile.Refused} refused at connect) in {(totalTime - datagramTime).TotalSeconds:0.0} s; " +
                $"drops counted: plaintext {Delta("plaintext")}, unauthenticated {Delta("unauthenticated")}, decode {Delta("decode")}, inbox {Delta("inbox")}, replay {Delta("replay")}, stream_refused {Delta("stream_refused")} " +
                $"(sum {counted}); the kernel's UDP receive-buffer drops during the datagrams (whole machine) {kernelDrops}; API calls answered during the flood {served}; RSS {rssBefore / 1048576.0:0} MiB before, {rssAfter / 1048576.0:0} MiB after, peak {peak / 1048576.0:0} MiB (bound {RssBoundBytes / 1048576} MiB)");
            output.WriteLine(figures);
            Console.WriteLine(figures);

            cluster.Check(served > 0, "the agent should answer API calls while flooded. " + figures);
            cluster.Check(Delta("plaintext") > 0 && Delta("unauthenticated") > 0, "the agent should count refused plaintext and unauthenticated envelopes. " + figures);
            cluster.Check(counted <= datagrams, "the agent cannot count more drops than datagrams were sent. " + figures);
            cluster.Check(counted >= datagrams / 10, "a good part of the flood should reach the agent and be counted. " + figures);
            cluster.Check(counted + kernelDrops >= datagrams * 99L / 100, "every datagram should be counted by the agent or lost in a full kernel buffer; the rest vanished uncounted. " + figures);
            cluster.Check(peak < RssBoundBytes, "the agent's peak RSS should stay under the bound. " + figures);
            Assert.Equal("alive", (await cluster.MembersAsync(a))["a"].GetProperty("state").GetString());
        }
        finally
        {
            File.Delete(config);
        }
    });

    private static int Size(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0 ? value : fallback;

    private sealed record DatagramFigures(int Random, int Plain, int WrongKey, int Tampered);

    private sealed record StreamFigures(int Garbage, int HugePrefix, int Silent, int Slow, int ClosedByAgent, int Refused);

    /// <summary>Sends <paramref name="count"/> hostile datagrams, a quarter of each kind, paced so the agent's socket buffer is not simply overrun.</summary>
    private static async Task<DatagramFigures> SendDatagramsAsync(IPEndPoint target, byte[] key, int count)
    {
        Random random = new(12);
        NodeAddress forged = NodeAddress.Parse("127.0.12.9:9");
        byte[][] packets =
        [
            PacketBuilder.EncodeSingle(new DeadMessage("b", 9, 1, "b")),
            PacketBuilder.EncodeSingle(new AliveMessage("ghost", forged, 0, ulong.MaxValue, ProtocolVersions.Current, [])),
            PacketBuilder.EncodeSingle(new SuspectMessage("c", 9, 1, "a")),
            PacketBuilder.EncodeSingle(new PingMessage(1, "a", "x", forged)),
            PacketBuilder.EncodeSingle(new UserEventMessage("b", 1, 1, ulong.MaxValue, 0, "e", [1, 2, 3])),
            PacketBuilder.EncodeSingle(new QueryMessage("c", 1, 1, 1, forged, 1000, "rumor.ping", [], [])),
            PacketBuilder.EncodePacket([PacketBuilder.EncodeMessage(new AckMessage(1)), PacketBuilder.EncodeMessage(new NackMessage(2))]),
        ];
        using GossipKeyring right = new([key]);
        using GossipKeyring wrong = new([GossipKeyring.ParseKey(GossipKeyring.GenerateKey())]);
        using Socket socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.12.9"), 0));
        int[] kinds = new int[4];
        byte[] buffer = new byte[1600];
        for (int i = 0; i < count; i++)
        {
            int kind = i % 4;
            kinds[kind]++;
            byte[] packet = packets[random.Next(packets.Length)];
            int length;
            switch (kind)
            {
                case 0: // random bytes, any length up to a datagram's usual budget
                    length = random.Next(0, 1500);
                    random.NextBytes(buffer.AsSpan(0, length));
                    break;
                case 1: // a well-formed plaintext packet with a few bytes changed, its CRC fixed half the time
                    packet.CopyTo(buffer, 0);
                    length = packet.Length;
                    Mutate(random, buffer.AsSpan(0, length));
                    if (random.Next(2) == 0)
                    {
                        BitConverter.TryWriteBytes(buffer.AsSpan(length - 4), Crc32C.Compute(buffer.AsSpan(0, length - 4)));
                    }

                    break;
                case 2: // sealed with a key the cluster does not hold
                    length = PacketEnvelope.Seal(wrong, (uint)random.Next(), (ulong)i, packet, buffer);
                    break;
                default: // sealed with the cluster's key, then changed in transit (a byte after the header)
                    length = PacketEnvelope.Seal(right, 0xF100D, (ulong)i + 1, packet, buffer);
                    buffer[random.Next(PacketEnvelope.HeaderBytes, length)] ^= (byte)random.Next(1, 256);
                    break;
            }

            await socket.SendToAsync(buffer.AsMemory(0, length), SocketFlags.None, target);
            if (i % 64 == 63)
            {
                await Task.Delay(1);
            }
        }

        return new DatagramFigures(kinds[0], kinds[1], kinds[2], kinds[3]);
    }

    private static void Mutate(Random random, Span<byte> bytes)
    {
        int changes = random.Next(1, 4);
        for (int c = 0; c < changes; c++)
        {
            bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
        }
    }

    /// <summary>Opens <paramref name="count"/> hostile connections, at most 32 at once, a quarter of each kind.</summary>
    private static async Task<StreamFigures> SendStreamsAsync(IPEndPoint target, int count)
    {
        int[] kinds = new int[4];
        int closedByAgent = 0, refused = 0, next = -1;
        async Task Worker()
        {
            byte[] scratch = new byte[4096];
            while (true)
            {
                int i = Interlocked.Increment(ref next);
                if (i >= count)
                {
                    return;
                }

                int kind = i % 4;
                Interlocked.Increment(ref kinds[kind]);
                Random random = new(i);
                using Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.12.9"), 0));
                try
                {
                    await socket.ConnectAsync(target);
                }
                catch (SocketException)
                {
                    Interlocked.Increment(ref refused);
                    continue;
                }

                using CancellationTokenSource hold = new(TimeSpan.FromSeconds(2));
                try
                {
                    switch (kind)
                    {
                        case 0: // garbage
                            int length = random.Next(1, scratch.Length);
                            random.NextBytes(scratch.AsSpan(0, length));
                            await socket.SendAsync(scratch.AsMemory(0, length), SocketFlags.None, hold.Token);
                            break;
                        case 1: // a length prefix far above StreamMaxBytes, then a few bytes
                            BitConverter.TryWriteBytes(scratch, random.Next(2) == 0 ? uint.MaxValue : 0x7FFF_FFF0u);
                            await socket.SendAsync(scratch.AsMemory(0, 64), SocketFlags.None, hold.Token);
                            break;
                        case 2: // connects and sends nothing
                            break;
                        default: // a plausible prefix, then one byte every 50 ms
                            BitConverter.TryWriteBytes(scratch, 1000u);
                            await socket.SendAsync(scratch.AsMemory(0, 4), SocketFlags.None, hold.Token);
                            for (int b = 0; b < 10 && !hold.IsCancellationRequested; b++)
                            {
                                await Task.Delay(50, hold.Token);
                                await socket.SendAsync(scratch.AsMemory(4, 1), SocketFlags.None, hold.Token);
                            }

                            break;
                    }

                    // Wait (bounded) for the agent to close: it must not hang on to a hostile stream forever.
                    if (await socket.ReceiveAsync(scratch, SocketFlags.None, hold.Token) == 0)
                    {
                        Interlocked.Increment(ref closedByAgent);
                    }
                }
                catch (OperationCanceledException)
                {
                    // Held for the whole 2 s: we close it ourselves.
                }
                catch (SocketException)
                {
                    Interlocked.Increment(ref closedByAgent); // reset by the agent
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(Worker)));
        return new StreamFigures(kinds[0], kinds[1], kinds[2], kinds[3], closedByAgent, refused);
    }

    /// <summary>GETs /v1/members every 100 ms until cancelled; returns how many calls answered 200.</summary>
    private static async Task<int> ServeApiWhileAsync(Cluster cluster, AgentProcess agent, CancellationToken cancellationToken)
    {
        int served = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using HttpResponseMessage response = await cluster.Http.GetAsync(new Uri(agent.HttpUrl, "/v1/members"), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    served++;
                }

                await Task.Delay(100, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return served;
    }

    /// <summary>The kernel's count of UDP datagrams dropped for a full receive buffer (/proc/net/snmp RcvbufErrors, whole machine): what the agent never saw.</summary>
    private static long UdpReceiveBufferErrors()
    {
        string[] lines = [.. File.ReadLines("/proc/net/snmp").Where(l => l.StartsWith("Udp:", StringComparison.Ordinal))];
        int column = Array.IndexOf(lines[0].Split(' '), "RcvbufErrors");
        return long.Parse(lines[1].Split(' ')[column], CultureInfo.InvariantCulture);
    }

    /// <summary>A field of /proc/PID/status in bytes (VmRSS: resident now; VmHWM: the peak).</summary>
    private static long ProcStatus(int pid, string field)
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

    /// <summary>Every <c>rumor_drops</c> counter of the agent by reason (Prometheus endpoint).</summary>
    private static async Task<Dictionary<string, long>> DropsAsync(Cluster cluster, AgentProcess agent)
    {
        string text = await cluster.Http.GetStringAsync(new Uri(agent.HttpUrl, "/metrics"));
        Dictionary<string, long> drops = new(StringComparer.Ordinal);
        foreach (string line in text.Split('\n'))
        {
            int at = line.IndexOf("reason=\"", StringComparison.Ordinal);
            if (line.StartsWith("rumor_drops", StringComparison.Ordinal) && at >= 0)
            {
                string reason = line[(at + 8)..line.IndexOf('"', at + 8)];
                drops[reason] = (long)double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }

        return drops;
    }
}
