using BenchmarkDotNet.Attributes;
using Rumor.Core;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Benchmarks;

/// <summary>
/// The cost of one full datagram of gossip (budget 1400 bytes, memberlist's default) through the real
/// codec. The mix is what a busy node piggybacks: mostly alive news (20-byte names, 16-byte
/// metadata), some suspect and dead news, led by a ping. Targets: encode ≤ 1 µs per packet; decode
/// allocates 0 bytes per packet in steady state (names interned; empty metadata, since decoding
/// non-empty metadata copies it into a new array by design — the second decode variant measures that).
/// </summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private const int Budget = 1400;
    private const int Distinct = 64;

    private readonly PacketBuilder _builder = new(Budget);
    private readonly NameTable _names = new();
    private PingMessage _ping;
    private AliveMessage[] _alive = [];
    private SuspectMessage[] _suspect = [];
    private DeadMessage[] _dead = [];
    private byte[] _packetWithMeta = [];
    private byte[] _packetEmptyMeta = [];

    /// <summary>Messages in the last packet built (reported once in setup, for the record).</summary>
    public int MessagesPerPacket { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        NodeAddress address = NodeAddress.Parse("10.1.2.3:7946");
        byte[] meta = new byte[16];
        for (int i = 0; i < meta.Length; i++)
        {
            meta[i] = (byte)(i * 7);
        }

        _ping = new PingMessage(12345, Name(1), Name(0), address);
        _alive = new AliveMessage[Distinct];
        _suspect = new SuspectMessage[Distinct];
        _dead = new DeadMessage[Distinct];
        for (int i = 0; i < Distinct; i++)
        {
            _alive[i] = new AliveMessage(Name(i), new NodeAddress(0x0A000000u + (uint)i, 7946), (uint)i, 1_700_000_000_000UL + (ulong)i, ProtocolVersions.Current, meta);
            _suspect[i] = new SuspectMessage(Name(i + 1), (uint)i, 1_700_000_000_000UL, Name(i));
            _dead[i] = new DeadMessage(Name(i + 2), (uint)i, 1_700_000_000_000UL, Name(i));
        }

        MessagesPerPacket = Fill();
        _packetWithMeta = _builder.Finish().ToArray();

        AliveMessage[] withMeta = _alive;
        _alive = [.. withMeta.Select(a => a with { Meta = [] })];
        int messagesEmptyMeta = Fill();
        _packetEmptyMeta = _builder.Finish().ToArray();
        _alive = withMeta;

        // Steady state: every name already interned, as on a node that has seen the cluster before.
        Decode(_packetWithMeta);
        Decode(_packetEmptyMeta);
        if (Decode(_packetWithMeta) == 0 || Decode(_packetEmptyMeta) == 0)
        {
            throw new InvalidOperationException("benchmark packets do not decode");
        }

        Console.WriteLine($"// packet with metadata: {MessagesPerPacket} messages, {_packetWithMeta.Length} bytes; with empty metadata: {messagesEmptyMeta} messages, {_packetEmptyMeta.Length} bytes");
    }

    /// <summary>Reset, add messages until the builder refuses one, finish (header + CRC32C).</summary>
    [Benchmark]
    public int EncodeFullCompound()
    {
        Fill();
        return _builder.Finish().Length;
    }

    /// <summary>Open (size, version, CRC32C, tiling), walk and decode every message; Alive metadata of 16 bytes is copied out.</summary>
    [Benchmark]
    public long DecodeFullCompound() => Decode(_packetWithMeta);

    /// <summary>The same mix with empty metadata: the zero-allocation path.</summary>
    [Benchmark]
    public long DecodeFullCompoundEmptyMeta() => Decode(_packetEmptyMeta);

    private static string Name(int i) => $"member-{i:D5}.dc1.lan"; // 20 bytes of UTF-8

    private int Fill()
    {
        _builder.Reset(Budget);
        _builder.TryAdd(in _ping);
        for (int i = 0; ; i++)
        {
            int k = i % Distinct;
            bool added = (i & 3) switch
            {
                0 or 1 => _builder.TryAdd(in _alive[k]),
                2 => _builder.TryAdd(in _suspect[k]),
                _ => _builder.TryAdd(in _dead[k]),
            };
            if (!added)
            {
                return _builder.Count;
            }
        }
    }

    private long Decode(byte[] packet)
    {
        if (PacketReader.TryOpen(packet, Budget, out PacketReader reader) != DecodeError.None)
        {
            return -1;
        }

        long sum = 0;
        while (reader.TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out bool known))
        {
            if (!known)
            {
                continue;
            }

            switch (type)
            {
                case MessageType.Ping:
                    if (PingMessage.TryDecode(payload, _names, out PingMessage ping) == DecodeError.None)
                    {
                        sum += ping.Sequence;
                    }

                    break;
                case MessageType.Alive:
                    if (AliveMessage.TryDecode(payload, _names, out AliveMessage alive) == DecodeError.None)
                    {
                        sum += alive.Incarnation + alive.Meta.Length;
                    }

                    break;
                case MessageType.Suspect:
                    if (SuspectMessage.TryDecode(payload, _names, out SuspectMessage suspect) == DecodeError.None)
                    {
                        sum += suspect.Incarnation;
                    }

                    break;
                case MessageType.Dead:
                    if (DeadMessage.TryDecode(payload, _names, out DeadMessage dead) == DecodeError.None)
                    {
                        sum += dead.Incarnation;
                    }

                    break;
                default:
                    break;
            }

            sum++;
        }

        return sum;
    }
}
