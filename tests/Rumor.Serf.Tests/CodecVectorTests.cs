using System.Net;
using System.Security.Cryptography;
using System.Text;
using Rumor.Serf.Wire;

namespace Rumor.Serf.Tests;

/// <summary>
/// The test vectors and the hex captured from real Serf 0.9.4 traffic in ../shared/serf-wire.md
/// (section 5): our encoder must produce the same bytes, our decoder must read them.
/// </summary>
public sealed class CodecVectorTests
{
    private const string PingVector = "00 85 a4 4e6f6465 a1 62 a5 5365714e6f 01 aa 536f7572636541646472 a4 7f000001 aa 536f757263654e6f6465 a1 61 aa 536f75726365506f7274 cd 1f0a";

    private static readonly PingMessage VectorPing = new(1, "b", [127, 0, 0, 1], 7946, "a");

    [Fact]
    public void Ping_vector_encodes_byte_for_byte()
    {
        byte[] encoded = VectorPing.Encode();
        Assert.Equal(59, encoded.Length);
        Assert.Equal(Hex.Of(Hex.Parse(PingVector)), Hex.Of(encoded));
    }

    [Fact]
    public void Crc_vector_wraps_the_ping()
    {
        Assert.Equal(Hex.Of(Hex.Parse("0c de796054 " + PingVector)), Hex.Of(Packet.WithCrc(VectorPing.Encode())));
    }

    [Fact]
    public void Compress_vector_is_the_ping_through_go_lzw()
    {
        string expected = "09 82 a4 416c676f 00 a3 427566 da 003a 00011422e5e40d9932a1c4949a52264ec100aaa6bca923674c992064c8c821f507 00008812295a2c7830549888132b9681f2460e9d661f140404";
        Assert.Equal(Hex.Of(Hex.Parse(expected)), Hex.Of(Packet.Compress(VectorPing.Encode())));

        List<WireMessage> messages = [];
        Assert.True(Packet.TryUnpack(Hex.Parse(expected), messages, out string? error), error);
        WireMessage ping = Assert.Single(messages);
        Assert.Equal(MemberlistType.Ping, ping.Type);
        Assert.True(PingMessage.TryDecode(ping.Body, out PingMessage decoded));
        Assert.Equal(VectorPing with { SourceAddr = decoded.SourceAddr }, decoded);
        Assert.Equal([127, 0, 0, 1], decoded.SourceAddr);
    }

    [Theory]
    [InlineData("", "00 03 02")]
    [InlineData("a", "00 c3 04 04")]
    [InlineData("aaaaaaa", "00 c3 08 1c 18 26 20")]
    [InlineData("TOBEORNOTTOBEORTOBEORNOT", "00 a9 3c 11 52 e4 89 14 27 4f a8 08 24 68 70 61 c1 83 09 03 02")]
    public void Lzw_text_vectors(string text, string expected)
    {
        byte[] input = Encoding.ASCII.GetBytes(text);
        Assert.Equal(Hex.Of(Hex.Parse(expected)), Hex.Of(Lzw.Compress(input)));
        Assert.True(Lzw.TryDecompress(Hex.Parse(expected), 1 << 20, out byte[] output));
        Assert.Equal(input, output);
    }

    public static TheoryData<string, int, string> LargeLzwVectors() => new()
    {
        { "quadratic", 4219, "70e9fff56317452b4285b99edc40870e22e97108807515fa9a6771c3749fbfac" },
        { "lcg", 82139, "a1b751bc06860780f1bb7b230abc407ffc20d816108f06ceb70cc4ccf1aa811f" },
        { "mod7", 298, "004d2d2951e6d4658cf88d389795af921f9be0826ed727abae000330c50395af" },
    };

    [Theory]
    [MemberData(nameof(LargeLzwVectors))]
    public void Lzw_large_vectors_match_go_and_round_trip(string kind, int compressedLength, string sha256)
    {
        byte[] input = kind switch
        {
            "quadratic" => [.. Enumerable.Range(0, 20000).Select(i => (byte)(((long)i * i + 7 * i) % 251))],
            "lcg" => Lcg(60000),
            _ => [.. Enumerable.Range(0, 5000).Select(i => (byte)(i % 7))],
        };

        byte[] compressed = Lzw.Compress(input);
        Assert.Equal(compressedLength, compressed.Length);
        Assert.Equal(sha256, Hex.Of(SHA256.HashData(compressed)));
        Assert.True(Lzw.TryDecompress(compressed, 1 << 20, out byte[] output));
        Assert.Equal(input, output);
    }

    private static byte[] Lcg(int count)
    {
        byte[] bytes = new byte[count];
        uint x = 1;
        for (int i = 0; i < count; i++)
        {
            x = unchecked(x * 1103515245 + 12345);
            bytes[i] = (byte)(x >> 16);
        }

        return bytes;
    }

    [Fact]
    public void Captured_ping_between_agents_round_trips()
    {
        byte[] captured = Hex.Parse("00 85 a4 4e6f6465 a2 6e34 a5 5365714e6f 29 aa 536f7572636541646472 a4 7f000002 aa 536f757263654e6f6465 a2 6e32 aa 536f75726365506f7274 cd 1f0a");
        Assert.True(PingMessage.TryDecode(captured.AsMemory(1), out PingMessage ping));
        Assert.Equal((41u, "n4", "n2", (ushort)7946), (ping.SeqNo, ping.Node, ping.SourceNode, ping.SourcePort));
        Assert.Equal(Hex.Of(captured), Hex.Of(ping.Encode()));
    }

    [Fact]
    public void Captured_indirect_ping_and_nack_round_trip()
    {
        byte[] indirect = Hex.Parse("01 88 a4 4e61636b c3 a4 4e6f6465 a2 6e34 a4 506f7274 cd 1f0a a5 5365714e6f 39 aa 536f7572636541646472 a4 7f000003 aa 536f757263654e6f6465 a2 6e33 aa 536f75726365506f7274 cd 1f0a a6 546172676574 a4 7f000004");
        Assert.True(IndirectPingMessage.TryDecode(indirect.AsMemory(1), out IndirectPingMessage request));
        Assert.Equal(IPAddress.Parse("127.0.0.4"), new IPAddress(request.Target!));
        Assert.True(request.Nack);
        Assert.Equal(0x39u, request.SeqNo);
        Assert.Equal(Hex.Of(indirect), Hex.Of(request.Encode()));

        byte[] nack = Hex.Parse("0b 81 a5 5365714e6f 39");
        Assert.True(NackMessage.TryDecode(nack.AsMemory(1), out NackMessage decoded));
        Assert.Equal(Hex.Of(nack), Hex.Of(decoded.Encode()));
    }

    [Fact]
    public void Captured_suspect_alive_and_dead_gossip_verify_their_crc_and_round_trip()
    {
        byte[] suspect = Hex.Parse("0c 109e9631 03 83 a446726f6d a26e33 ab496e6361726e6174696f6e 01 a44e6f6465 a26e34");
        WireMessage s = Single(suspect, MemberlistType.Suspect);
        Assert.True(AccusationMessage.TryDecode(s.Body, out AccusationMessage accusation));
        Assert.Equal(new AccusationMessage(1, "n4", "n3"), accusation);
        Assert.Equal(Hex.Of(suspect), Hex.Of(Packet.WithCrc(accusation.Encode(MemberlistType.Suspect))));

        byte[] alive = Hex.Parse("0c 8454824e 04 86 a4 41646472 a4 7f000005 ab 496e6361726e6174696f6e 01 a4 4d657461 ab ff81a4726f6c65a3636170 a4 4e6f6465 a2 6e35 a4 506f7274 cd 1f0a a3 56736e a6 010502020505");
        WireMessage a = Single(alive, MemberlistType.Alive);
        Assert.True(NodeRecord.TryDecodeAlive(a.Body, out NodeRecord record));
        Assert.Equal("n5", record.Name);
        Assert.True(SerfTags.TryDecode(record.Meta, out Dictionary<string, string> tags));
        Assert.Equal("cap", Assert.Single(tags, t => t.Key == "role").Value);
        Assert.Equal(record.Meta, SerfTags.Encode(tags));
        Assert.Equal(Hex.Of(alive), Hex.Of(Packet.WithCrc(record.EncodeAlive())));

        byte[] dead = Hex.Parse("0c f0c5aded 05 83 a4 46726f6d a2 7032 ab 496e6361726e6174696f6e 01 a4 4e6f6465 a2 7032");
        WireMessage d = Single(dead, MemberlistType.Dead);
        Assert.True(AccusationMessage.TryDecode(d.Body, out AccusationMessage left));
        Assert.Equal(left.Node, left.From); // From == Node: the node left
        Assert.Equal(Hex.Of(dead), Hex.Of(Packet.WithCrc(left.Encode(MemberlistType.Dead))));
    }

    [Fact]
    public void A_flipped_bit_fails_the_crc()
    {
        byte[] suspect = Hex.Parse("0c 109e9631 03 83 a446726f6d a26e33 ab496e6361726e6174696f6e 01 a44e6f6465 a26e34");
        suspect[^1] ^= 1;
        Assert.False(Packet.TryUnpack(suspect, [], out string? error));
        Assert.Equal("CRC mismatch", error);
    }

    [Fact]
    public void Captured_serf_intents_and_user_event_round_trip()
    {
        byte[] leave = Hex.Parse("0c 5bda6747 08 00 83 a5 4c54696d65 02 a4 4e6f6465 a2 7032 a5 5072756e65 c2");
        WireMessage l = Single(leave, MemberlistType.User);
        Assert.Equal((byte)SerfType.Leave, l.Body.Span[0]);
        Assert.True(IntentMessage.TryDecode(l.Body[1..], out IntentMessage leaveIntent));
        Assert.Equal(new IntentMessage(2, "p2", false), leaveIntent);
        Assert.Equal(Hex.Of(leave), Hex.Of(Packet.WithCrc(leaveIntent.EncodeLeave())));

        byte[] join = Hex.Parse("08 01 82 a5 4c54696d65 04 a4 4e6f6465 a2 6e35");
        Assert.True(IntentMessage.TryDecode(join.AsMemory(2), out IntentMessage joinIntent));
        Assert.Equal(Hex.Of(join), Hex.Of(joinIntent.EncodeJoin()));

        byte[] userEvent = Hex.Parse("0c 5d48cb5d 08 03 84 a2 4343 c2 a5 4c54696d65 01 a4 4e616d65 a2 6576 a7 5061796c6f6164 a2 706c");
        WireMessage u = Single(userEvent, MemberlistType.User);
        Assert.True(UserEventMessage.TryDecode(u.Body[1..], out UserEventMessage e));
        Assert.Equal(("ev", "pl", 1ul, false), (e.Name, Encoding.ASCII.GetString(e.Payload!), e.LTime, e.CC));
        Assert.Equal(Hex.Of(userEvent), Hex.Of(Packet.WithCrc(e.Encode())));
    }

    [Fact]
    public void Captured_query_and_query_ack_round_trip()
    {
        byte[] query = Hex.Parse("08 04 8b a4 41646472 a4 7f000003 a7 46696c74657273 c0 a5 466c616773 01 a2 4944 ce 7445cd83 a5 4c54696d65 01 a4 4e616d65 a6 77686f616d69 a7 5061796c6f6164 ac 70696e672d7061796c6f6164 a4 506f7274 cd 1f0a ab 52656c6179466163746f72 00 aa 536f757263654e6f6465 a2 6e33 a7 54696d656f7574 ce 77359400");
        Assert.True(QueryMessage.TryDecode(query.AsMemory(2), out QueryMessage q));
        Assert.Equal(("whoami", 0x7445cd83u, 2_000_000_000L, 1u, "n3"), (q.Name, q.Id, q.TimeoutNanoseconds, q.Flags, q.SourceNode));
        Assert.Empty(q.Filters);
        Assert.Equal(Hex.Of(query), Hex.Of(q.Encode()));

        byte[] ack = Hex.Parse("08 05 85 a5 466c616773 01 a4 46726f6d a2 6e33 a2 4944 ce 7445cd83 a5 4c54696d65 01 a7 5061796c6f6164 c0");
        Assert.True(QueryResponseMessage.TryDecode(ack.AsMemory(2), out QueryResponseMessage r));
        Assert.Null(r.Payload);
        Assert.Equal(Hex.Of(ack), Hex.Of(r.Encode()));
    }

    [Fact]
    public void An_ack_with_keys_in_another_order_decodes()
    {
        // The TCP ack a Python peer returned (keys not sorted); Go reads any order, and so do we.
        byte[] ack = Hex.Parse("02 82 a5 5365714e6f 09 a7 5061796c6f6164 c0");
        Assert.True(AckMessage.TryDecode(ack.AsMemory(1), out AckMessage decoded));
        Assert.Equal(new AckMessage(9, null), decoded);
        Assert.Equal("0282a75061796c6f6164c0a55365714e6f09", Hex.Of(decoded.Encode()));
    }

    [Fact]
    public void Captured_join_push_pull_is_reproduced_byte_for_byte()
    {
        string ring = string.Concat(Enumerable.Repeat("c0", 512));
        byte[] captured = Hex.Parse(
            "06 83 a4 4a6f696e c3 a5 4e6f646573 01 ac 5573657253746174654c656e cd 024a"
            + "87 a4 41646472 a4 7f000202 ab 496e6361726e6174696f6e 01 a4 4d657461 a2 ff80 a4 4e616d65 a2 7032 a4 506f7274 cd 1f0a a5 5374617465 00 a3 56736e a6 010502020505"
            + "02 86 aa 4576656e744c54696d65 01 a6 4576656e7473 dc 0200" + ring
            + "a5 4c54696d65 01 ab 4c6566744d656d62657273 90 aa 51756572794c54696d65 01 ac 5374617475734c54696d6573 81 a2 7032 00");
        Assert.Equal(683, captured.Length);

        Assert.Equal(ParseStatus.Complete, PushPullMessage.TryDecode(captured.AsMemory(1), out PushPullMessage message, out int consumed));
        Assert.Equal(682, consumed);
        Assert.True(message.Join);
        NodeRecord p2 = Assert.Single(message.Nodes);
        Assert.Equal(("p2", MemberlistState.Alive, (ushort)7946), (p2.Name, p2.State, p2.Port));
        Assert.Equal(586, message.UserState.Length);
        Assert.True(SerfStateMessage.TryDecode(message.UserState, out SerfStateMessage state));
        Assert.Equal(512, state.Events.Count);
        Assert.Equal(0ul, state.StatusLTimes["p2"]);

        SerfStateMessage rebuilt = new(1, new Dictionary<string, ulong> { ["p2"] = 0 }, [], 1, new RingSlot?[512], 1);
        PushPullMessage ours = new(true, [new NodeRecord("p2", [127, 0, 2, 2], 7946, SerfTags.Encode(new Dictionary<string, string>()), 1, NodeRecord.SerfAgentVsn)], rebuilt.Encode());
        Assert.Equal(Hex.Of(captured), Hex.Of(ours.Encode()));
    }

    [Fact]
    public void A_push_pull_cut_anywhere_asks_for_more_bytes()
    {
        PushPullMessage message = new(false, [new NodeRecord("a", [127, 0, 0, 1], 1, null, 3, NodeRecord.SerfAgentVsn)],
            new SerfStateMessage(5, new Dictionary<string, ulong> { ["a"] = 2 }, [], 1, new RingSlot?[512], 1).Encode());
        byte[] bytes = message.Encode();
        for (int cut = 0; cut < bytes.Length - 1; cut++)
        {
            Assert.Equal(ParseStatus.Truncated, PushPullMessage.TryDecode(bytes.AsMemory(1, cut), out _, out _));
        }

        Assert.Equal(ParseStatus.Complete, PushPullMessage.TryDecode(bytes.AsMemory(1), out PushPullMessage back, out _));
        Assert.Equal("a", back.Nodes[0].Name);
    }

    [Fact]
    public void Tags_without_the_marker_are_a_legacy_role()
    {
        Assert.True(SerfTags.TryDecode(Encoding.UTF8.GetBytes("web"), out Dictionary<string, string> tags));
        Assert.Equal("web", tags["role"]);
        Assert.Equal(Hex.Parse("ff80"), SerfTags.Encode(new Dictionary<string, string>()));
        Assert.Equal(Hex.Parse("ff81a4726f6c65a3636170"), SerfTags.Encode(new Dictionary<string, string> { ["role"] = "cap" }));
        Assert.Throws<ArgumentException>(() => SerfTags.Encode(new Dictionary<string, string> { ["big"] = new string('x', 600) }));
    }

    [Fact]
    public void Strings_of_32_to_255_bytes_use_str16_never_str8()
    {
        byte[] event40 = new UserEventMessage(1, new string('n', 40), null, false).Encode();
        int nameAt = Hex.Of(event40).IndexOf("a44e616d65", StringComparison.Ordinal) / 2 + 5;
        Assert.Equal(0xda, event40[nameAt]);
        Assert.Equal(40, event40[nameAt + 2]);
    }

    [Fact]
    public void Aes_gcm_vectors_for_packets_and_streams()
    {
        SerfKeyring keyring = new([[.. Enumerable.Range(0, 16).Select(i => (byte)i)]]);
        byte[] nonce = [.. Enumerable.Range(0xa0, 12).Select(i => (byte)i)];
        string cipher = "aa039cf511ed56abe8dde665375cdf61f9bd4c7df17458ee4174033f3d8d8fa930f02a447d89892310ba8765ce715abfc9262f2c63eee4994f2984";
        byte[] ping = VectorPing.Encode();

        byte[] udp = keyring.Encrypt(ping, [], nonce);
        Assert.Equal("01a0a1a2a3a4a5a6a7a8a9aaab" + cipher + "a7b39bf45f84901027d33a9c59eeeb31", Hex.Of(udp));
        byte[] header = Hex.Parse("0a 00000058");
        byte[] tcp = keyring.Encrypt(ping, header, nonce);
        Assert.Equal("01a0a1a2a3a4a5a6a7a8a9aaab" + cipher + "3464006b8ec713d0fd070b2d3e35b6ab", Hex.Of(tcp));
        Assert.Equal(88, tcp.Length);

        Assert.True(keyring.TryDecrypt(udp, [], out byte[] plain));
        Assert.Equal(ping, plain);
        Assert.False(keyring.TryDecrypt(tcp, [], out _)); // the stream's tag covers its header
        Assert.True(SerfNode.TryParseStream((byte[])[.. header, .. tcp], keyring, out _, out _) == ParseStatus.Complete);

        // A second key decrypts too (rotation); a keyring without the key does not.
        SerfKeyring rotated = new([new byte[32], [.. Enumerable.Range(0, 16).Select(i => (byte)i)]]);
        Assert.True(rotated.TryDecrypt(udp, [], out _));
        Assert.False(new SerfKeyring([new byte[16]]).TryDecrypt(udp, [], out _));
        Assert.Throws<ArgumentException>(() => new SerfKeyring([new byte[15]]));
    }

    [Fact]
    public void Lamport_clock_witness_follows_serf()
    {
        LamportClock clock = new();
        Assert.Equal(1ul, clock.Time);
        clock.Witness(0);
        Assert.Equal(1ul, clock.Time);
        clock.Witness(1);
        Assert.Equal(2ul, clock.Time);
        clock.Witness(10);
        Assert.Equal(11ul, clock.Time);
        Assert.Equal(12ul, clock.Increment());
        clock.Witness(ulong.MaxValue);
        Assert.Equal(12ul, clock.Time);
    }

    private static WireMessage Single(byte[] packet, MemberlistType type)
    {
        List<WireMessage> messages = [];
        Assert.True(Packet.TryUnpack(packet, messages, out string? error), error);
        WireMessage message = Assert.Single(messages);
        Assert.Equal(type, message.Type);
        return message;
    }
}
