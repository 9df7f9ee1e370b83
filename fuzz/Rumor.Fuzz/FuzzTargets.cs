using System.Buffers.Binary;
using Rumor.Core;
using Rumor.Core.Randomness;
using Rumor.Core.Security;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;
using Rumor.Transport;

namespace Rumor.Fuzz;

/// <summary>One fuzz target: must return normally for every input (an escaping exception is a finding).</summary>
public delegate void FuzzTarget(ReadOnlySpan<byte> input);

/// <summary>
/// The fuzz targets. Each takes arbitrary bytes and drives one decoding path; nothing an attacker
/// sends may make it throw. Shared by the afl-fuzz harness (Program) and the in-process corpus replay
/// in Rumor.Transport.Tests (FuzzCorpusTests). Where a checksum would stop the fuzzer at the door,
/// the target fixes it first (<see cref="WithCrc"/>) and also feeds the raw bytes, so both the check
/// and what lies behind it are explored.
/// </summary>
public static class FuzzTargets
{
    /// <summary>A fixed 32-byte key: the envelope target seals with it so mutated plaintext reaches the decoders behind authentication.</summary>
    public static readonly byte[] Key = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    public const string ClusterLabel = "fuzz";

    internal static readonly NodeAddress SelfAddress = NodeAddress.Parse("10.0.0.1:7946");
    internal static readonly NodeAddress PeerAddress = NodeAddress.Parse("10.0.0.2:7946");
    private static readonly TimeSpan Now = TimeSpan.FromSeconds(2);
    private static readonly NameTable Names = new(1024);

    /// <summary>Seals the envelope target's inputs (read-only; each node gets its own clone, since a node may change its ring).</summary>
    private static readonly GossipKeyring Sealer = new([Key], ClusterLabel);

    /// <summary>Every target by name (scripts/fuzz.sh TARGET).</summary>
    public static IReadOnlyDictionary<string, FuzzTarget> All { get; } = new Dictionary<string, FuzzTarget>
    {
        ["packet"] = Packet,
        ["node"] = Node,
        ["stream"] = Stream,
        ["compressed"] = Compressed,
        ["envelope"] = Envelope,
        ["serf"] = SerfFuzzTarget.Run,
    };

    /// <summary>The packet reader and every message decoder, without a node: raw bytes, then the same bytes with a valid CRC.</summary>
    public static void Packet(ReadOnlySpan<byte> input)
    {
        byte[] buffer = new byte[WireLimits.DatagramMaxBytes];
        DecodeAll(input, WireLimits.DatagramMaxBytes, buffer);
        DecodeAll(WithCrc(input), WireLimits.DatagramMaxBytes, buffer);
        DecodeAll(WithCrc(input), WireLimits.StreamMaxBytes, buffer);
    }

    /// <summary>A fresh started node that knows one peer receives the bytes as a datagram (raw, then with a valid CRC): every handler behind the dispatch table.</summary>
    public static void Node(ReadOnlySpan<byte> input)
    {
        GossipNode node = StartedNode(keyring: null);
        node.OnPacket(PeerAddress, input, Now);
        node.OnPacket(PeerAddress, WithCrc(input), Now);
        node.OnTick(Now + TimeSpan.FromSeconds(1));
    }

    /// <summary>Stream framing (a length prefix then the message) read from the bytes, and the frame handed to a node as an incoming stream request.</summary>
    public static void Stream(ReadOnlySpan<byte> input)
    {
        byte[] frame;
        try
        {
            using MemoryStream stream = new(input.ToArray(), writable: false);
            frame = StreamFraming.ReadFrameAsync(stream, 1 << 20, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (StreamFrameException)
        {
            return;
        }
        catch (EndOfStreamException)
        {
            return;
        }

        GossipNode node = StartedNode(keyring: null);
        node.OnStreamRequest(1, PeerAddress, frame, Now);
        node.OnStreamRequest(2, PeerAddress, WithCrc(frame), Now);
        node.OnTick(Now + TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// Decompression: the bytes (after a first byte that names the header type) become the body of a
    /// packet flagged compressed with a valid CRC, so the Brotli decoder and its declared-length
    /// checks see them; then the messages it yields are decoded.
    /// </summary>
    public static void Compressed(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        byte[] packet = new byte[WireLimits.HeaderBytes + input.Length - 1 + WireLimits.TrailerBytes];
        packet[0] = WireLimits.FormatVersion;
        packet[1] = input[0];
        packet[2] = (byte)PacketFlags.Compressed;
        input[1..].CopyTo(packet.AsSpan(WireLimits.HeaderBytes));
        SetCrc(packet);
        DecodeAll(packet, WireLimits.DatagramMaxBytes, new byte[WireLimits.DatagramMaxBytes]);
        DecodeAll(packet, WireLimits.StreamMaxBytes, new byte[4096]);
    }

    /// <summary>
    /// Decryption: the raw bytes opened as an envelope (they fail authentication: that path), and the
    /// bytes (CRC fixed) sealed with the node's key and delivered as a datagram and as a stream request
    /// to an encrypting node, so the decoders behind authentication and the replay window are reached.
    /// </summary>
    public static void Envelope(ReadOnlySpan<byte> input)
    {
        GossipKeyring keyring = Sealer;
        byte[] plain = new byte[input.Length];
        _ = PacketEnvelope.TryOpen(keyring, input, plain, out _, out _, out _);

        GossipNode node = StartedNode(keyring.Clone());
        node.OnPacket(PeerAddress, input, Now);
        byte[] packet = WithCrc(input);
        uint prefix = input.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(input) : 7;
        node.OnPacket(PeerAddress, Seal(keyring, packet, prefix, 5), Now);
        node.OnStreamRequest(1, PeerAddress, Seal(keyring, packet, prefix, 6 | PacketEnvelope.StreamChannelBit), Now);
        node.OnTick(Now + TimeSpan.FromSeconds(1));
    }

    /// <summary>Seals <paramref name="packet"/> under the primary key.</summary>
    public static byte[] Seal(GossipKeyring keyring, ReadOnlySpan<byte> packet, uint prefix, ulong counter)
    {
        byte[] envelope = new byte[packet.Length + PacketEnvelope.OverheadBytes];
        PacketEnvelope.Seal(keyring, prefix, counter, packet, envelope);
        return envelope;
    }

    /// <summary>A copy of <paramref name="input"/> whose last 4 bytes are the CRC32C of the rest (unchanged when too short to hold one).</summary>
    public static byte[] WithCrc(ReadOnlySpan<byte> input)
    {
        byte[] copy = input.ToArray();
        if (copy.Length >= WireLimits.OverheadBytes)
        {
            SetCrc(copy);
        }

        return copy;
    }

    private static void SetCrc(byte[] packet) =>
        BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(packet.Length - WireLimits.TrailerBytes), Crc32C.Compute(packet.AsSpan(0, packet.Length - WireLimits.TrailerBytes)));

    /// <summary>A node named "self" that has heard an Alive from "peer": the state every target starts from (fresh each run, so a replay is deterministic).</summary>
    internal static GossipNode StartedNode(GossipKeyring? keyring)
    {
        GossipNode node = new(GossipOptions.Lan with
        {
            Name = "self",
            Generation = 1_700_000_000_000,
            AdvertiseAddress = SelfAddress,
            Keyring = keyring,
        }, NullHost.Instance, new Xoshiro256StarStar(1));
        node.Start(TimeSpan.Zero);
        byte[] alive = PacketBuilder.EncodeSingle(new AliveMessage("peer", PeerAddress, 1, 1_700_000_000_500, ProtocolVersions.Current, []));
        node.OnPacket(PeerAddress, keyring is null ? alive : Seal(keyring, alive, 0xFEED, 1), TimeSpan.FromSeconds(1));
        return node;
    }

    private static void DecodeAll(ReadOnlySpan<byte> packet, int budget, byte[] buffer)
    {
        if (PacketReader.TryOpen(packet, budget, buffer, out PacketReader reader) != DecodeError.None)
        {
            return;
        }

        while (reader.TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out bool known))
        {
            if (known)
            {
                Decode(type, payload, Names);
                Decode(type, payload, null);
            }
        }
    }

    /// <summary>Runs the decoder of <paramref name="type"/> over <paramref name="payload"/>.</summary>
    public static DecodeError Decode(MessageType type, ReadOnlySpan<byte> payload, NameTable? names) => type switch
    {
        MessageType.Ping => PingMessage.TryDecode(payload, names, out _),
        MessageType.IndirectPing => IndirectPingMessage.TryDecode(payload, names, out _),
        MessageType.Ack => AckMessage.TryDecode(payload, names, out _),
        MessageType.Nack => NackMessage.TryDecode(payload, names, out _),
        MessageType.Alive => AliveMessage.TryDecode(payload, names, out _),
        MessageType.Suspect => SuspectMessage.TryDecode(payload, names, out _),
        MessageType.Dead => DeadMessage.TryDecode(payload, names, out _),
        MessageType.PushPull => PushPullMessage.TryDecode(payload, names, out _),
        MessageType.StateDigest => StateDigestMessage.TryDecode(payload, names, out _),
        MessageType.StateDelta => StateDeltaMessage.TryDecode(payload, names, out _),
        MessageType.StateChecksum => StateChecksumMessage.TryDecode(payload, names, out _),
        MessageType.Heartbeats => HeartbeatsMessage.TryDecode(payload, names, out _),
        MessageType.UserEvent => UserEventMessage.TryDecode(payload, names, out _),
        MessageType.EventDigest => EventDigestMessage.TryDecode(payload, names, out _),
        MessageType.Query => QueryMessage.TryDecode(payload, names, out _),
        MessageType.QueryResponse => QueryResponseMessage.TryDecode(payload, names, out _),
        MessageType.Aggregate => AggregateMessage.TryDecode(payload, names, out _),
        MessageType.Coordinate => CoordinateMessage.TryDecode(payload, names, out _),
        MessageType.ViewChecksum => ViewChecksumMessage.TryDecode(payload, names, out _),
        _ => DecodeError.UnknownType,
    };

    private sealed class NullHost : IGossipHost
    {
        public static readonly NullHost Instance = new();

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
