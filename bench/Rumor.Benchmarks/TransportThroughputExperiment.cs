using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Rumor.Core;
using Rumor.Core.Security;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;
using Rumor.Transport;

namespace Rumor.Benchmarks;

/// <summary>
/// Datagrams per second per core through the real transport on loopback (issue 16), against the bare
/// .NET UDP ceiling measured in the same run, plaintext and encrypted (issue 12). A peer (the
/// benchmark's main thread) sends pings in batches of 32 and reads one reply for each, so every
/// datagram crosses the receive thread, the loop's inbox, the node's receive path and the send path:
/// <list type="bullet">
/// <item><c>bare</c>: a thread that only receives each datagram and sends a 20-byte reply with plain
/// sockets (<see cref="Socket.ReceiveFrom(Span{byte}, SocketFlags, SocketAddress)"/> and
/// <see cref="Socket.SendTo(ReadOnlySpan{byte}, SocketFlags, SocketAddress)"/>): the ceiling;</item>
/// <item><c>transport</c>: a <see cref="GossipTransport"/> that answers each ping with an ack;</item>
/// <item><c>encrypted</c>: the same with a keyring (the peer seals each ping, the node opens it and seals its ack).</item>
/// </list>
/// Per core: the CPU time of the receiving side is the process's CPU time minus the peer thread's own
/// (both from /proc, 10 ms ticks), so the figure does not depend on how much of the machine the other
/// processes leave us. Allocation: <see cref="GC.GetTotalAllocatedBytes(bool)"/> over the run, divided
/// by the datagrams received (the peer allocates nothing). The kinds alternate, their order rotated
/// every round, so a load that changes treats them alike.
/// </summary>
public static class TransportThroughputExperiment
{
    private const int Batch = 32;
    private static readonly string[] Kinds = ["bare", "transport", "encrypted"];

    public static Command Create()
    {
        Option<int> packets = BenchOptions.Int("--packets", "Datagrams (ping and reply) per run.", 50_000);
        Option<int> rounds = BenchOptions.Int("--rounds", "Rounds of one run of each kind.", 3);
        Command command = new("transport-throughput", "Datagrams per second and per core through a GossipTransport on loopback (plaintext and encrypted) against bare UDP sockets, in one process.")
        {
            packets, rounds,
        };
        command.SetAction(parsed => Run(parsed.GetValue(packets), parsed.GetValue(rounds)));
        return command;
    }

    private static int Run(int packets, int rounds)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"transport-throughput: {packets} pings and replies per run, {rounds} rounds, batches of {Batch}; {Environment.ProcessorCount} cores; thread CPU from /proc: {ThreadCpu.Available}"));
        foreach (string kind in Kinds)
        {
            RunKind(kind, Math.Min(packets, 5_000)); // warm-up: JIT, sockets, pools
        }

        Dictionary<string, List<Result>> results = Kinds.ToDictionary(k => k, _ => new List<Result>());
        for (int round = 0; round < rounds; round++)
        {
            for (int i = 0; i < Kinds.Length; i++)
            {
                string kind = Kinds[(i + round) % Kinds.Length];
                Result result = RunKind(kind, packets);
                results[kind].Add(result);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round + 1} {kind,-9} {result.PerSecond,9:0} datagrams/s  {Format(result.PerCoreSecond),9} per core-second  {result.CoreShare,5:0.00} cores  {result.BytesPerPacket,7:0.00} B/datagram"));
            }
        }

        Console.WriteLine("median:");
        Result bare = Median(results["bare"]);
        foreach (string kind in Kinds)
        {
            Result m = Median(results[kind]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {kind,-9} {m.PerSecond,9:0} datagrams/s ({100 * m.PerSecond / bare.PerSecond,5:0.0} % of bare)  {Format(m.PerCoreSecond),9} per core-second ({100 * m.PerCoreSecond / bare.PerCoreSecond,5:0.0} % of bare)  {m.BytesPerPacket:0.00} B/datagram"));
        }

        Result plain = Median(results["transport"]), sealedResult = Median(results["encrypted"]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"encrypted/plaintext through the transport: {100 * sealedResult.PerSecond / plain.PerSecond:0.0} % per second, {100 * sealedResult.PerCoreSecond / plain.PerCoreSecond:0.0} % per core-second (target >= 80 %); transport per core-second {plain.PerCoreSecond:0} (target >= 80,000), {plain.BytesPerPacket:0.00} B/datagram (target 0)"));
        return 0;
    }

    private static string Format(double value) => double.IsNaN(value) ? "n/a" : value.ToString("0", CultureInfo.InvariantCulture);

    private static Result Median(List<Result> values)
    {
        static double Mid(IEnumerable<double> xs)
        {
            double[] sorted = [.. xs.Order()];
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }

        return new Result(Mid(values.Select(v => v.PerSecond)), Mid(values.Select(v => v.PerCoreSecond)), Mid(values.Select(v => v.CoreShare)), Mid(values.Select(v => v.BytesPerPacket)));
    }

    private static Result RunKind(string kind, int count) => kind switch
    {
        "bare" => RunBare(count),
        "transport" => RunTransport(count, encrypted: false).GetAwaiter().GetResult(),
        _ => RunTransport(count, encrypted: true).GetAwaiter().GetResult(),
    };

    /// <summary>The ceiling: a thread that receives each datagram and sends a small reply, nothing else.</summary>
    private static Result RunBare(int count)
    {
        using Socket server = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Parse("127.0.14.1"), 0));
        server.ReceiveTimeout = 10_000;
        Thread echo = new(() =>
        {
            byte[] buffer = new byte[WireLimits.DatagramMaxBytes];
            byte[] reply = new byte[20];
            SocketAddress from = new(AddressFamily.InterNetwork);
            try
            {
                for (int i = 0; i < count; i++)
                {
                    from.Size = from.Buffer.Length;
                    server.ReceiveFrom(buffer, SocketFlags.None, from);
                    server.SendTo(reply, SocketFlags.None, from);
                }
            }
            catch (SocketException)
            {
                // The peer reports the loss (its own receive times out).
            }
        })
        { IsBackground = true, Name = "bare echo" };
        echo.Start();
        byte[] ping = PacketBuilder.EncodeSingle(new PingMessage(1, "receiver", "peer", NodeAddress.Parse("127.0.14.9:7946")));
        Result result = Drive(server.LocalEndPoint!, count, ping, keyring: null);
        echo.Join();
        return result;
    }

    private static async Task<Result> RunTransport(int count, bool encrypted)
    {
        using GossipKeyring keyring = new([GossipKeyring.ParseKey("ixJ6gHtKwr5mByDPLqTUoIn5ek8jQRAHkBvIqSXe1yo=")], "bench");
        GossipOptions options = GossipOptions.Lan with
        {
            Name = "receiver",
            AdvertiseAddress = NodeAddress.Parse("127.0.14.2:0"),
            Keyring = encrypted ? keyring.Clone() : null,
        };
        await using GossipTransport node = await GossipTransport.StartAsync(options).ConfigureAwait(false);
        byte[] ping = PacketBuilder.EncodeSingle(new PingMessage(1, "receiver", "peer", NodeAddress.Parse("127.0.14.9:7946")));
        return Drive(node.LocalEndPoint, count, ping, encrypted ? keyring : null);
    }

    /// <summary>The peer: sends <paramref name="count"/> pings (sealed when a keyring is given) in batches and reads a reply for each; measures around it.</summary>
    private static Result Drive(EndPoint target, int count, byte[] ping, GossipKeyring? keyring)
    {
        using Socket peer = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        peer.Bind(new IPEndPoint(IPAddress.Parse("127.0.14.9"), 0));
        peer.ReceiveTimeout = 10_000;
        SocketAddress to = ((IPEndPoint)target).Serialize();
        SocketAddress from = new(AddressFamily.InterNetwork);
        byte[] sealedPing = new byte[ping.Length + PacketEnvelope.OverheadBytes];
        byte[] buffer = new byte[WireLimits.DatagramMaxBytes];
        ulong counter = 0;

        TimeSpan peerCpu0 = ThreadCpu.Current();
        TimeSpan processCpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        long allocated0 = GC.GetTotalAllocatedBytes(precise: true);
        long start = Stopwatch.GetTimestamp();
        for (int sent = 0; sent < count; sent += Batch)
        {
            int batch = Math.Min(Batch, count - sent);
            for (int i = 0; i < batch; i++)
            {
                ReadOnlySpan<byte> packet = keyring is null
                    ? ping
                    : sealedPing.AsSpan(0, PacketEnvelope.Seal(keyring, 0xBE4C, ++counter, ping, sealedPing));
                peer.SendTo(packet, SocketFlags.None, to);
            }

            for (int i = 0; i < batch; i++)
            {
                from.Size = from.Buffer.Length;
                peer.ReceiveFrom(buffer, SocketFlags.None, from);
            }
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated0;
        TimeSpan processCpu = Process.GetCurrentProcess().TotalProcessorTime - processCpu0;
        TimeSpan peerCpu = ThreadCpu.Current() - peerCpu0;
        TimeSpan receiverCpu = processCpu - peerCpu;
        double perCore = ThreadCpu.Available && receiverCpu > TimeSpan.Zero ? count / receiverCpu.TotalSeconds : double.NaN;
        return new Result(count / elapsed.TotalSeconds, perCore, receiverCpu / elapsed, (double)allocated / count);
    }

    private readonly record struct Result(double PerSecond, double PerCoreSecond, double CoreShare, double BytesPerPacket);
}
