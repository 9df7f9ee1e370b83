using System.Buffers.Binary;
using Rumor.Serf;
using Rumor.Core.Coordinates;
using Rumor.Serf.Wire;

namespace Rumor.Fuzz;

/// <summary>
/// The Serf dialect's decoders (src/Rumor.Serf/Wire), driven the way a <see cref="SerfNode"/> drives
/// them: a datagram unpacked (memberlist CRC, compound and LZW-compressed wrappers, nested) and each
/// message decoded by its memberlist type, Serf's user messages by their Serf type, with what they
/// carry decoded further (tags in an Alive's meta, the push/pull's Serf state, key-query payloads,
/// a coordinate in an ack payload); the same bytes as a stream message (plain, and sealed in
/// memberlist's encrypted stream framing so mutations reach the parser behind authentication); and
/// the bytes straight into the LZW decoder and the keyring. Every decoder promises to answer false
/// (or Truncated/Malformed) and never throw: an escaping exception is a finding.
/// </summary>
public static class SerfFuzzTarget
{
    /// <summary>A fixed 16-byte key (AES-128, as Serf's <c>keygen</c> prints): the target seals with it to reach the stream parser behind decryption.</summary>
    private static readonly SerfKeyring Keyring = new([[.. Enumerable.Range(1, 16).Select(i => (byte)i)]]);

    /// <summary>Fixed nonce for sealing fuzz inputs, so a replay of a finding is deterministic.</summary>
    private static readonly byte[] Nonce = new byte[12];

    /// <summary>Decompressed bytes accepted from the LZW decoder when it is fed directly (Packet bounds its own).</summary>
    private const int LzwMaxBytes = 1 << 16;

    public static void Run(ReadOnlySpan<byte> input)
    {
        byte[] bytes = input.ToArray();

        // A datagram as it arrives, and the same with a valid CRC wrapper so a checksum cannot stop the fuzzer at the door.
        Datagram(bytes);
        Datagram(Packet.WithCrc(input));

        // The LZW decoder on its own (Packet reaches it only behind a valid compress map).
        if (Lzw.TryDecompress(input, LzwMaxBytes, out byte[] inflated))
        {
            Datagram(inflated);
        }

        // A stream message: plain, then sealed in memberlist's encrypted stream framing (the AAD is the 5-byte header).
        _ = SerfNode.TryParseStream(bytes, null, out SerfNode.StreamMessage? message, out _);
        Stream(message);
        _ = SerfNode.TryParseStream(bytes, Keyring, out message, out _);
        Stream(message);
        _ = SerfNode.TryParseStream(SealStream(input), Keyring, out message, out _);
        Stream(message);

        // An encrypted datagram (no AAD), raw: the keyring's layout checks and the tag failure path.
        _ = Keyring.TryDecrypt(input, [], out _);
    }

    /// <summary>Unpacks a datagram and decodes every message in it, as SerfNode.HandlePacket does.</summary>
    private static void Datagram(ReadOnlyMemory<byte> packet)
    {
        List<WireMessage> messages = [];
        _ = Packet.TryUnpack(packet, messages, out _);
        foreach (WireMessage message in messages)
        {
            Message(message.Type, message.Body);
        }
    }

    private static void Message(MemberlistType type, ReadOnlyMemory<byte> body)
    {
        switch (type)
        {
            case MemberlistType.Ping:
                _ = PingMessage.TryDecode(body, out _);
                break;
            case MemberlistType.IndirectPing:
                _ = IndirectPingMessage.TryDecode(body, out _);
                break;
            case MemberlistType.Ack:
                if (AckMessage.TryDecode(body, out AckMessage ack) && ack.Payload is { } payload)
                {
                    _ = CoordinatePayload.TryDecode(payload, out _);
                }

                break;
            case MemberlistType.Nack:
                _ = NackMessage.TryDecode(body, out _);
                break;
            case MemberlistType.Suspect or MemberlistType.Dead:
                _ = AccusationMessage.TryDecode(body, out _);
                break;
            case MemberlistType.Alive:
                if (NodeRecord.TryDecodeAlive(body, out NodeRecord alive) && alive.Meta is { } meta)
                {
                    _ = SerfTags.TryDecode(meta, out _);
                }

                break;
            case MemberlistType.PushPull:
                PushPull(body);
                break;
            case MemberlistType.User:
                User(body);
                break;
            case MemberlistType.Err:
                _ = ErrorMessage.TryDecode(body, out _);
                break;
            default:
                // Compound, compress and CRC never get here (Packet unwraps them); others are unknown.
                _ = GoMsgpack.TryDecode(body, out _, out _, out _);
                break;
        }
    }

    /// <summary>A memberlist user message: Serf's type byte then its map (SerfNode.HandleSerfMessage).</summary>
    private static void User(ReadOnlyMemory<byte> userMessage)
    {
        if (userMessage.IsEmpty)
        {
            return;
        }

        ReadOnlyMemory<byte> body = userMessage[1..];
        switch ((SerfType)userMessage.Span[0])
        {
            case SerfType.Join or SerfType.Leave:
                _ = IntentMessage.TryDecode(body, out _);
                break;
            case SerfType.UserEvent:
                _ = UserEventMessage.TryDecode(body, out _);
                break;
            case SerfType.Query:
                if (QueryMessage.TryDecode(body, out QueryMessage query) && query.Payload is { } request)
                {
                    _ = KeyRequestMessage.TryDecode(request, out _);
                }

                break;
            case SerfType.QueryResponse:
                if (QueryResponseMessage.TryDecode(body, out QueryResponseMessage response) && response.Payload is { } answer)
                {
                    _ = KeyResponseMessage.TryDecode(answer, out _);
                }

                break;
            case SerfType.PushPull:
                _ = SerfStateMessage.TryDecode(userMessage, out _);
                break;
            default:
                _ = KeyRequestMessage.TryDecode(userMessage, out _);
                _ = KeyResponseMessage.TryDecode(userMessage, out _);
                break;
        }
    }

    private static void PushPull(ReadOnlyMemory<byte> body)
    {
        if (PushPullMessage.TryDecode(body, out PushPullMessage pushPull, out _) != ParseStatus.Complete)
        {
            return;
        }

        foreach (NodeRecord node in pushPull.Nodes)
        {
            if (node.Meta is { } meta)
            {
                _ = SerfTags.TryDecode(meta, out _);
            }
        }

        if (pushPull.UserState.Length > 0)
        {
            _ = SerfStateMessage.TryDecode(pushPull.UserState, out _);
        }
    }

    /// <summary>What a parsed stream message carries, decoded further as the node would.</summary>
    private static void Stream(SerfNode.StreamMessage? message)
    {
        if (message?.PushPull is { } pushPull && pushPull.UserState.Length > 0)
        {
            _ = SerfStateMessage.TryDecode(pushPull.UserState, out _);
        }

        if (message?.UserMessage is { } user)
        {
            User(user);
        }
    }

    /// <summary><c>[10][u32 BE length][vsn 1][nonce][ciphertext][tag]</c> around the input, under the fixed key and nonce.</summary>
    public static byte[] SealStream(ReadOnlySpan<byte> message)
    {
        byte[] header = new byte[5];
        header[0] = (byte)MemberlistType.Encrypt;
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(1), (uint)(SerfKeyring.Overhead + message.Length));
        return [.. header, .. Keyring.Encrypt(message, header, Nonce)];
    }

    /// <summary>Valid encodings of every message the dialect speaks, plain and in each wrapper: the seed corpus.</summary>
    public static IReadOnlyList<byte[]> Seeds()
    {
        byte[] local = [127, 0, 0, 1];
        byte[] tags = SerfTags.Encode(new Dictionary<string, string> { ["role"] = "web", ["dc"] = "one" });
        byte[] state = new SerfStateMessage(3, new Dictionary<string, ulong> { ["n1"] = 1, ["n2"] = 4 }, ["gone"], 4,
            [new RingSlot(4, [new RingEvent("deploy", [9])]), null], 2).Encode();
        byte[] coordinate = CoordinatePayload.Encode(new NetworkCoordinate([0.001, -0.002, 0, 0, 0, 0, 0, 0], 0.5, 0.0001, 0.00001));
        byte[] ping = new PingMessage(7, "n1", local, 7946, "n2").Encode();
        byte[] userEvent = new UserEventMessage(5, "deploy", [1, 2, 3], true).Encode();
        List<byte[]> seeds =
        [
            ping,
            new IndirectPingMessage(8, local, 7946, "n3", true, local, 7947, "n2").Encode(),
            new AckMessage(7, coordinate).Encode(),
            new AckMessage(9, null).Encode(),
            new NackMessage(8).Encode(),
            new AccusationMessage(2, "n3", "n2").Encode(MemberlistType.Suspect),
            new AccusationMessage(2, "n3", "n3").Encode(MemberlistType.Dead),
            new NodeRecord("n4", local, 7946, tags, 1, NodeRecord.SerfAgentVsn).EncodeAlive(),
            new PushPullMessage(true, [new NodeRecord("n4", local, 7946, tags, 2, NodeRecord.SerfAgentVsn, MemberlistState.Suspect)], state).Encode(),
            new ErrorMessage("no such member").Encode(),
            new IntentMessage(6, "n4").EncodeJoin(),
            new IntentMessage(7, "n4", Prune: true).EncodeLeave(),
            userEvent,
            new QueryMessage(8, 11, local, 7946, "n2", [[0, 1], null], 1, 2, 1_000_000_000, "_serf_install-key", new KeyRequestMessage(new byte[16]).Encode()).Encode(),
            new QueryResponseMessage(8, 11, "n3", 0, new KeyResponseMessage(true, "", ["a2V5"], "a2V5").Encode()).Encode(),
            Packet.Compound([ping, new NackMessage(3).Encode(), userEvent]),
            Packet.WithCrc(ping),
            Packet.Compress(userEvent),
            Packet.WithCrc(Packet.Compound([Packet.Compress(ping), new IntentMessage(9, "n5").EncodeJoin()])),
            Lzw.Compress(ping),
        ];
        seeds.Add(Keyring.Encrypt(ping, [], Nonce));
        seeds.Add(SealStream(seeds[8]));
        return seeds;
    }
}
