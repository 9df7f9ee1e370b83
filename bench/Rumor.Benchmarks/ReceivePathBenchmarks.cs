using BenchmarkDotNet.Attributes;
using Rumor.Core;
using Rumor.Core.Randomness;
using Rumor.Core.Security;

namespace Rumor.Benchmarks;

/// <summary>
/// Where the encrypted receive path spends its time, without sockets: the datagram of
/// <c>envelope-throughput</c> (a ping piggybacking Alive broadcasts, 1,349 bytes) handed to a started
/// node's <see cref="GossipNode.OnPacket"/> in plaintext, and sealed with a fresh nonce then handed to
/// an encrypting node; next to them the envelope's parts alone (seal, open) and the seal of the
/// node's small reply. <c>OnPacketEncrypted − OnPacketPlain − Seal − Open</c> is what encryption
/// costs beyond the cipher itself.
/// </summary>
[MemoryDiagnoser]
public class ReceivePathBenchmarks
{
    private static readonly NodeAddress From = NodeAddress.Parse("127.0.12.21:7946");
    private readonly byte[] _packet = EnvelopeThroughputExperiment.GossipPacket();
    private readonly byte[] _ack = new byte[40];
    private byte[] _envelope = null!;
    private byte[] _opened = null!;
    private GossipKeyring _keyring = null!;
    private GossipNode _plainNode = null!;
    private GossipNode _sealedNode = null!;
    private ulong _counter;
    private TimeSpan _now = TimeSpan.FromSeconds(1);

    [GlobalSetup]
    public void Setup()
    {
        _keyring = new GossipKeyring([GossipKeyring.ParseKey("ixJ6gHtKwr5mByDPLqTUoIn5ek8jQRAHkBvIqSXe1yo=")], "bench");
        _envelope = new byte[_packet.Length + PacketEnvelope.OverheadBytes];
        _opened = new byte[_envelope.Length];
        _plainNode = Node(null);
        _sealedNode = Node(_keyring.Clone());
        PacketEnvelope.Seal(_keyring, 0x1234, ++_counter, _packet, _envelope);
    }

    [GlobalCleanup]
    public void Cleanup() => _keyring.Dispose();

    /// <summary>The node's receive path in plaintext: decode, apply, reply.</summary>
    [Benchmark(Baseline = true)]
    public void OnPacketPlain()
    {
        _now += TimeSpan.FromTicks(1);
        _plainNode.OnPacket(From, _packet, _now);
    }

    /// <summary>Seal (the sender's part) then the encrypting node's receive path: authenticate, replay window, decrypt, decode, apply, seal the reply.</summary>
    [Benchmark]
    public void SealThenOnPacketEncrypted()
    {
        _now += TimeSpan.FromTicks(1);
        int length = PacketEnvelope.Seal(_keyring, 0xBE4C, ++_counter, _packet, _envelope);
        _sealedNode.OnPacket(From, _envelope.AsSpan(0, length), _now);
    }

    /// <summary>The sender's seal alone.</summary>
    [Benchmark]
    public int Seal() => PacketEnvelope.Seal(_keyring, 0xBE4C, ++_counter, _packet, _envelope);

    /// <summary>Authenticate and decrypt alone (the envelope of the last seal: no replay window here).</summary>
    [Benchmark]
    public bool Open() => PacketEnvelope.TryOpen(_keyring, _envelope, _opened, out _, out _, out _);

    /// <summary>The seal of a 40-byte reply: the cipher's fixed cost per call.</summary>
    [Benchmark]
    public int SealSmall() => PacketEnvelope.Seal(_keyring, 0xBE4C, ++_counter, _ack, _opened);

    private static GossipNode Node(GossipKeyring? keyring)
    {
        GossipNode node = new(GossipOptions.Lan with
        {
            Name = "receiver",
            Generation = 1_700_000_000_000,
            AdvertiseAddress = NodeAddress.Parse("127.0.12.20:7946"),
            Keyring = keyring,
        }, new EnvelopeThroughputExperiment.NullHost(), new Xoshiro256StarStar(1));
        node.Start(TimeSpan.Zero);
        return node;
    }
}
