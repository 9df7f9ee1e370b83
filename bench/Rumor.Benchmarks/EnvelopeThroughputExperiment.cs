using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Rumor.Core;
using Rumor.Core.Randomness;
using Rumor.Core.Security;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Benchmarks;

/// <summary>
/// Gossip throughput with encryption against plaintext, in the same run, over real loopback UDP
/// sockets: a sender (seals each 1,400-byte packet with a fresh nonce when encrypting) and a
/// receiving <see cref="GossipNode"/> (<see cref="GossipNode.OnPacket"/>: authenticate, replay window,
/// decode, apply) on one thread, in batches of 32 datagrams so the socket buffer never overflows and
/// nothing is lost. Plaintext and encrypted runs alternate (the order swapped every round) so a
/// machine whose load changes treats both alike. Target (issue 12): encrypted ≥ 80 % of plaintext.
/// </summary>
public static class EnvelopeThroughputExperiment
{
    private const int Batch = 32;

    public static Command Create()
    {
        Option<int> packets = BenchOptions.Int("--packets", "Datagrams per run.", 100_000);
        Option<int> rounds = BenchOptions.Int("--rounds", "Rounds of one plaintext and one encrypted run.", 3);
        Command command = new("envelope-throughput", "Datagrams per second through loopback sockets and a node's receive path, AES-GCM envelope against plaintext, in one process.")
        {
            packets, rounds,
        };
        command.SetAction(parsed => Run(parsed.GetValue(packets), parsed.GetValue(rounds)));
        return command;
    }

    private static int Run(int packets, int rounds)
    {
        byte[] key = GossipKeyring.ParseKey(GossipKeyring.GenerateKey());
        byte[] packet = GossipPacket();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"envelope-throughput: {packets} datagrams of {packet.Length} bytes per run ({packet.Length + PacketEnvelope.OverheadBytes} sealed), {rounds} rounds, batches of {Batch}; {Environment.ProcessorCount} cores"));
        List<double> plain = [], sealedRates = [], plainCpu = [], sealedCpu = [];
        Run(key, packet, encrypted: false, Math.Min(packets, 5_000)); // warm-up: JIT, sockets
        Run(key, packet, encrypted: true, Math.Min(packets, 5_000));
        for (int round = 0; round < rounds; round++)
        {
            foreach (bool encrypted in round % 2 == 0 ? new[] { false, true } : [true, false])
            {
                (double rate, double perCpuSecond) = Run(key, packet, encrypted, packets);
                (encrypted ? sealedRates : plain).Add(rate);
                (encrypted ? sealedCpu : plainCpu).Add(perCpuSecond);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round + 1} {(encrypted ? "encrypted" : "plaintext"),-9} {rate,10:0} datagrams/s  {rate * packet.Length * 8 / 1e6,7:0} Mbit/s of packets  {perCpuSecond,10:0} per CPU-second of the thread"));
            }
        }

        double p = Median(plain), e = Median(sealedRates);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median: plaintext {p:0} /s, encrypted {e:0} /s: encrypted is {100 * e / p:0.0} % of plaintext (target >= 80 %)"));
        if (ThreadCpu.Available)
        {
            double pc = Median(plainCpu), ec = Median(sealedCpu);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median per CPU-second (load-independent): plaintext {pc:0}, encrypted {ec:0}: {100 * ec / pc:0.0} %; {1e6 / pc:0.00} and {1e6 / ec:0.00} µs of CPU per datagram"));
            Breakdown(key, packet);
        }

        return 0;
    }

    /// <summary>
    /// Where the encrypted path's extra CPU goes, measured in the same process by this thread's CPU
    /// time over many calls of each part: the cipher calls (a 1,349-byte seal as the sender does, the
    /// open, and the seal of the node's small reply, which the plaintext path does not pay either),
    /// the replay window, and the node's whole receive path with and without encryption (no sockets).
    /// </summary>
    private static void Breakdown(byte[] key, byte[] packet)
    {
        const int Calls = 200_000;
        using GossipKeyring keyring = new([key], "bench");
        byte[] envelope = new byte[packet.Length + PacketEnvelope.OverheadBytes];
        byte[] opened = new byte[envelope.Length];
        byte[] reply = PacketBuilder.EncodeSingle(new AckMessage(1));
        byte[] smallEnvelope = new byte[reply.Length + PacketEnvelope.OverheadBytes];
        PacketEnvelope.Seal(keyring, 0xBE4C, 1, reply, smallEnvelope);
        PacketEnvelope.Seal(keyring, 0xBE4C, 1, packet, envelope);
        NodeAddress from = NodeAddress.Parse("127.0.12.21:7946");
        GossipNode plainNode = ReceiverNode(null);
        GossipNode sealedNode = ReceiverNode(keyring.Clone());
        ReplayGuard replays = new();
        ulong counter = 1;
        TimeSpan now = TimeSpan.FromSeconds(1);

        // The platform's AesGcm on the same key, nonce layout and associated data, for comparison
        // with the cipher the keyring uses (IntrinsicAesGcm where the CPU has AES-NI and PCLMULQDQ).
        using GcmCipher platform = new(key, preferIntrinsic: false);
        byte[] nonce = new byte[PacketEnvelope.NonceBytes];
        byte[] tag = new byte[PacketEnvelope.TagBytes];
        byte[] aad = [.. keyring.AssociatedData];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cipher: {(keyring.CipherAt(0).IsIntrinsic ? "IntrinsicAesGcm (AES-NI + PCLMULQDQ)" : "platform AesGcm")}"));

        (string Name, Action Call)[] parts =
        [
            ($"seal {packet.Length} B (the sender's)", () => PacketEnvelope.Seal(keyring, 0xBE4C, ++counter, packet, envelope)),
            ($"open {envelope.Length} B", () => PacketEnvelope.TryOpen(keyring, envelope, opened, out _, out _, out _)),
            ($"seal {reply.Length} B (an ack)", () => PacketEnvelope.Seal(keyring, 0xBE4C, ++counter, reply, smallEnvelope)),
            ($"open {smallEnvelope.Length} B", () => PacketEnvelope.TryOpen(keyring, smallEnvelope, opened, out _, out _, out _)),
            ($"platform AesGcm seal {packet.Length} B", () =>
            {
                BitConverter.TryWriteBytes(nonce.AsSpan(4), ++counter);
                platform.Encrypt(nonce, packet, envelope.AsSpan(0, packet.Length), tag, aad);
            }),
            ($"platform AesGcm seal {reply.Length} B", () =>
            {
                BitConverter.TryWriteBytes(nonce.AsSpan(4), ++counter);
                platform.Encrypt(nonce, reply, smallEnvelope.AsSpan(0, reply.Length), tag, aad);
            }),
            ("replay window accept", () => replays.TryAccept(7, ++counter)),
            ("OnPacket plaintext", () => plainNode.OnPacket(from, packet, now += TimeSpan.FromTicks(1))),
            ("seal + OnPacket encrypted", () =>
            {
                int length = PacketEnvelope.Seal(keyring, 0xBE4C, ++counter, packet, envelope);
                sealedNode.OnPacket(from, envelope.AsSpan(0, length), now += TimeSpan.FromTicks(1));
            }),
        ];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"breakdown: µs of this thread's CPU per call, {2 * Calls} calls each (no sockets); bytes allocated per call over the second {Calls}:"));
        Dictionary<string, double> micros = [];
        foreach ((string name, Action call) in parts)
        {
            for (int i = 0; i < 2_000; i++)
            {
                call(); // warm-up
            }

            TimeSpan cpu0 = ThreadCpu.Current();
            for (int i = 0; i < Calls; i++)
            {
                call();
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Calls; i++)
            {
                call();
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            micros[name] = (ThreadCpu.Current() - cpu0).TotalMicroseconds / (2 * Calls);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-36} {micros[name],7:0.000} µs  {(double)allocated / Calls,8:0.00} B/call"));
        }

        double extra = micros["seal + OnPacket encrypted"] - micros["OnPacket plaintext"];
        double cipher = micros[parts[0].Name] + micros[parts[1].Name] + micros[parts[2].Name];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  encrypted - plaintext OnPacket (with the sender's seal): {extra:0.000} µs; three cipher calls (seal, open, the ack's seal) {cipher:0.000} µs, replay window {micros["replay window accept"]:0.000} µs, rest {extra - cipher - micros["replay window accept"]:0.000} µs"));
    }

    private static GossipNode ReceiverNode(GossipKeyring? keyring)
    {
        GossipNode node = new(GossipOptions.Lan with
        {
            Name = "receiver",
            Generation = 1_700_000_000_000,
            AdvertiseAddress = NodeAddress.Parse("127.0.12.20:7946"),
            Keyring = keyring,
        }, new NullHost(), new Xoshiro256StarStar(1));
        node.Start(TimeSpan.Zero);
        return node;
    }

    private static double Median(List<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>A typical full gossip datagram: a ping piggybacking Alive broadcasts (no-ops once applied), 1,400 bytes or just under.</summary>
    internal static byte[] GossipPacket()
    {
        NodeAddress peer = NodeAddress.Parse("127.0.12.21:7946");
        List<byte[]> messages = [PacketBuilder.EncodeMessage(new PingMessage(1, "receiver", "peer", peer))];
        for (int i = 0; ; i++)
        {
            byte[] alive = PacketBuilder.EncodeMessage(new AliveMessage($"member-{i:D3}", NodeAddress.Parse($"127.0.13.{(i % 250) + 1}:7946"), 1, 1_700_000_000_000, ProtocolVersions.Current, new byte[60]));
            if (PacketBuilder.EncodePacket([.. messages, alive]).Length > 1400)
            {
                break;
            }

            messages.Add(alive);
        }

        return PacketBuilder.EncodePacket(messages);
    }

    private static (double Rate, double PerCpuSecond) Run(byte[] key, byte[] packet, bool encrypted, int count)
    {
        using GossipKeyring keyring = new([key], "bench");
        GossipNode node = new(GossipOptions.Lan with
        {
            Name = "receiver",
            Generation = 1_700_000_000_000,
            AdvertiseAddress = NodeAddress.Parse("127.0.12.20:7946"),
            Keyring = encrypted ? keyring.Clone() : null,
        }, new NullHost(), new Xoshiro256StarStar(1));
        node.Start(TimeSpan.Zero);
        NodeAddress from = NodeAddress.Parse("127.0.12.21:7946");

        using Socket sender = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        using Socket receiver = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(IPAddress.Parse("127.0.12.21"), 0));
        receiver.Bind(new IPEndPoint(IPAddress.Parse("127.0.12.20"), 0));
        receiver.ReceiveBufferSize = 1 << 20;
        receiver.ReceiveTimeout = 5_000;
        EndPoint to = receiver.LocalEndPoint!;
        byte[] outgoing = new byte[packet.Length + PacketEnvelope.OverheadBytes];
        byte[] incoming = new byte[65536];
        ulong counter = 0;
        TimeSpan cpu0 = ThreadCpu.Current();
        Stopwatch clock = Stopwatch.StartNew();
        TimeSpan now = TimeSpan.FromSeconds(1);
        for (int sent = 0; sent < count; sent += Batch)
        {
            int batch = Math.Min(Batch, count - sent);
            for (int i = 0; i < batch; i++)
            {
                int length = encrypted ? PacketEnvelope.Seal(keyring, 0xBE4C, ++counter, packet, outgoing) : packet.Length;
                sender.SendTo(encrypted ? outgoing.AsSpan(0, length) : packet, SocketFlags.None, to);
            }

            for (int i = 0; i < batch; i++)
            {
                int length = receiver.Receive(incoming);
                node.OnPacket(from, incoming.AsSpan(0, length), now);
            }

            now += TimeSpan.FromTicks(1);
        }

        double rate = count / clock.Elapsed.TotalSeconds;
        TimeSpan cpu = ThreadCpu.Current() - cpu0;
        long received = node.Counters.PacketsReceived;
        long refused = node.Counters.PacketsUnauthenticated + node.Counters.ReplaysRefused + node.Counters.PlaintextRefused + node.Counters.DecodeFailures;
        if (received != count || refused != 0)
        {
            throw new InvalidOperationException($"{(encrypted ? "encrypted" : "plaintext")} run: {received} of {count} datagrams reached the node, {refused} refused: the comparison would be unfair.");
        }

        return (rate, cpu > TimeSpan.Zero ? count / cpu.TotalSeconds : double.NaN);
    }

    internal sealed class NullHost : IGossipHost
    {
        public void SendPacket(NodeAddress to, ReadOnlySpan<byte> packet)
        {
        }

        public void OpenStream(long streamId, NodeAddress to, ReadOnlySpan<byte> request)
        {
        }

        public void ReplyStream(long streamId, ReadOnlySpan<byte> response)
        {
        }

        public void OnEvent(GossipEvent gossipEvent)
        {
        }
    }
}
