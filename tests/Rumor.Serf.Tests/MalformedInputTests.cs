using System.Net;
using System.Net.Sockets;
using Rumor.Serf.Wire;

namespace Rumor.Serf.Tests;

/// <summary>
/// Every decoder of the dialect against truncations, hostile lengths, deep nesting and seeded random
/// mutations of real messages: each answers false (or Truncated/Malformed) and never throws. Seeds
/// are fixed and printed in the failure message.
/// </summary>
public sealed class MalformedInputTests
{
    // Real messages (serf-wire.md captures and our own encodings) whose every prefix and mutation is tried.
    private static readonly byte[][] Samples =
    [
        Hex.Parse("00 85 a4 4e6f6465 a2 6e34 a5 5365714e6f 29 aa 536f7572636541646472 a4 7f000002 aa 536f757263654e6f6465 a2 6e32 aa 536f75726365506f7274 cd 1f0a"),
        Hex.Parse("01 88 a4 4e61636b c3 a4 4e6f6465 a2 6e34 a4 506f7274 cd 1f0a a5 5365714e6f 39 aa 536f7572636541646472 a4 7f000003 aa 536f757263654e6f6465 a2 6e33 aa 536f75726365506f7274 cd 1f0a a6 546172676574 a4 7f000004"),
        Hex.Parse("0c 8454824e 04 86 a4 41646472 a4 7f000005 ab 496e6361726e6174696f6e 01 a4 4d657461 ab ff81a4726f6c65a3636170 a4 4e6f6465 a2 6e35 a4 506f7274 cd 1f0a a3 56736e a6 010502020505"),
        Hex.Parse("0c 109e9631 03 83 a446726f6d a26e33 ab496e6361726e6174696f6e 01 a44e6f6465 a26e34"),
        Hex.Parse("0c 5d48cb5d 08 03 84 a2 4343 c2 a5 4c54696d65 01 a4 4e616d65 a2 6576 a7 5061796c6f6164 a2 706c"),
        Hex.Parse("08 04 8b a4 41646472 a4 7f000003 a7 46696c74657273 c0 a5 466c616773 01 a2 4944 ce 7445cd83 a5 4c54696d65 01 a4 4e616d65 a6 77686f616d69 a7 5061796c6f6164 ac 70696e672d7061796c6f6164 a4 506f7274 cd 1f0a ab 52656c6179466163746f72 00 aa 536f757263654e6f6465 a2 6e33 a7 54696d656f7574 ce 77359400"),
        Packet.Compress(new PingMessage(7, "x", [127, 0, 0, 1], 1, "y").Encode()),
        Packet.Compound([new AckMessage(3, [1, 2, 3]).Encode(), new NackMessage(4).Encode(), new IntentMessage(5, "z").EncodeJoin()]),
        new PushPullMessage(true, [new NodeRecord("n", [127, 0, 0, 1], 7946, SerfTags.Encode(new Dictionary<string, string> { ["a"] = "b" }), 2, NodeRecord.SerfAgentVsn)],
            new SerfStateMessage(3, new Dictionary<string, ulong> { ["n"] = 1 }, ["gone"], 4, [new RingSlot(4, [new RingEvent("e", [9])]), null], 2).Encode()).Encode(),
    ];

    private static readonly SerfKeyring TestKeyring = new([[.. Enumerable.Range(0, 16).Select(i => (byte)i)]]);

    [Fact]
    public void Encrypted_streams_cut_short_or_tampered_are_refused()
    {
        byte[] sealedStream = TestKeyring.EncryptStream(new PushPullMessage(false, [], []).Encode());
        for (int cut = 0; cut < sealedStream.Length; cut++)
        {
            Assert.Equal(ParseStatus.Truncated, SerfNode.TryParseStream(sealedStream.AsMemory(0, cut), TestKeyring, out _, out _));
        }

        Assert.Equal(ParseStatus.Complete, SerfNode.TryParseStream(sealedStream, TestKeyring, out _, out _));
        for (int i = 5; i < sealedStream.Length; i++)
        {
            byte[] tampered = [.. sealedStream];
            tampered[i] ^= 0x40;
            Assert.Equal(ParseStatus.Malformed, SerfNode.TryParseStream(tampered, TestKeyring, out _, out _));
        }

        // A length beyond memberlist's 20 MiB bound is malformed, not "wait for 4 GiB".
        Assert.Equal(ParseStatus.Malformed, SerfNode.TryParseStream(Hex.Parse("0a ffffffff 01"), TestKeyring, out _, out _));
    }

    [Fact]
    public void Every_prefix_of_every_sample_is_refused_without_throwing()
    {
        foreach (byte[] sample in Samples)
        {
            for (int cut = 0; cut < sample.Length; cut++)
            {
                byte[] prefix = sample[..cut];
                ExerciseAllDecoders(prefix);
                if (cut > 1 && sample[0] is not (byte)MemberlistType.Compound)
                {
                    Assert.False(Packet.TryUnpack(prefix, [], out _) && DecodesAsItsType(prefix), $"a {cut}-byte prefix of {Hex.Of(sample)} decoded");
                }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Seeded_random_mutations_never_throw(int seed)
    {
        Random random = new(seed);
        for (int round = 0; round < 3000; round++)
        {
            byte[] sample = Samples[random.Next(Samples.Length)];
            byte[] mutated = [.. sample];
            int flips = 1 + random.Next(4);
            for (int f = 0; f < flips; f++)
            {
                mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
            }

            try
            {
                ExerciseAllDecoders(mutated);
                ExerciseAllDecoders(random.Next(2) == 0 ? mutated : RandomBytes(random, random.Next(64)));
            }
            catch (Exception e)
            {
                Assert.Fail($"seed {seed} round {round}: {Hex.Of(mutated)} threw {e}");
            }
        }
    }

    [Theory]
    [InlineData("df ffffffff")] // map32 with 4 billion pairs
    [InlineData("dd 7fffffff c0")] // array32 with 2 billion items
    [InlineData("db fffffff0 41")] // str32 longer than the input
    [InlineData("c6 ffffffff 00")] // bin32 likewise
    [InlineData("81 a1 41 d9")] // str8 header cut off
    [InlineData("c1")] // never-used code
    [InlineData("81 01 02")] // non-string key: ignored, but map complete
    public void Hostile_lengths_are_refused(string hex)
    {
        byte[] body = Hex.Parse(hex);
        ExerciseAllDecoders(body);
        Assert.False(PingMessage.TryDecode(body, out _) && hex != "81 01 02");
    }

    [Fact]
    public void Deep_nesting_is_refused_without_exhausting_the_stack()
    {
        byte[] deep = [.. Enumerable.Repeat((byte)0x91, 200_000), 0xc0];
        Assert.False(GoMsgpack.TryDecode(deep, out _, out _, out _));
        byte[] deepMap = [0x81, 0xa1, 0x41, .. Enumerable.Repeat((byte)0x91, 100_000), 0xc0];
        Assert.False(PingMessage.TryDecode(deepMap, out _));
        ExerciseAllDecoders([(byte)MemberlistType.PushPull, .. deep]);
    }

    [Fact]
    public void Wrong_kinds_and_out_of_range_values_are_refused()
    {
        // SeqNo as a string; Port above 65535; negative incarnation; Vsn as a map.
        Assert.False(PingMessage.TryDecode(Hex.Parse("81 a5 5365714e6f a1 31"), out _));
        Assert.False(IndirectPingMessage.TryDecode(Hex.Parse("81 a4 506f7274 ce 00010000"), out _));
        Assert.False(AccusationMessage.TryDecode(Hex.Parse("81 ab 496e6361726e6174696f6e ff"), out _));
        Assert.False(NodeRecord.TryDecodeAlive(Hex.Parse("81 a3 56736e 80"), out _));
        // Push/pull claiming 2^31 nodes or a 2 GiB user state is malformed, not "wait for more".
        Assert.Equal(ParseStatus.Malformed, PushPullMessage.TryDecode(Hex.Parse("83 a4 4a6f696e c2 a5 4e6f646573 ce 80000000 ac 5573657253746174654c656e 00"), out _, out _));
        Assert.Equal(ParseStatus.Malformed, PushPullMessage.TryDecode(Hex.Parse("83 a4 4a6f696e c2 a5 4e6f646573 00 ac 5573657253746174654c656e ce 7fffffff"), out _, out _));
        Assert.Equal(ParseStatus.Malformed, PushPullMessage.TryDecode(Hex.Parse("83 a4 4a6f696e c2 a5 4e6f646573 01 ac 5573657253746174654c656e 00 a1 41"), out _, out _));
        // A node state with an unknown State value.
        Assert.Equal(ParseStatus.Malformed, PushPullMessage.TryDecode(Hex.Parse("83 a4 4a6f696e c2 a5 4e6f646573 01 ac 5573657253746174654c656e 00 81 a5 5374617465 09"), out _, out _));
    }

    [Fact]
    public void Compound_framing_errors_are_refused_and_good_parts_kept()
    {
        Assert.False(Packet.TryUnpack(Hex.Parse("07 ff 00 01"), [], out string? error));
        Assert.Equal("truncated compound header", error);

        // Two parts declared, the second runs past the end: memberlist keeps the first.
        byte[] nack = new NackMessage(5).Encode();
        byte[] packet = [7, 2, 0, (byte)nack.Length, 0, 50, .. nack, 1, 2];
        List<WireMessage> messages = [];
        Packet.TryUnpack(packet, messages, out _);
        Assert.Equal(MemberlistType.Nack, Assert.Single(messages).Type);
    }

    [Fact]
    public void Nested_compression_beyond_the_bound_is_refused()
    {
        byte[] message = new NackMessage(1).Encode();
        for (int i = 0; i < Packet.MaxNesting + 2; i++)
        {
            message = Packet.Compress(message);
        }

        Assert.False(Packet.TryUnpack(message, [], out string? error));
        Assert.Equal("nesting too deep", error);
    }

    [Fact]
    public void A_decompression_bomb_is_bounded()
    {
        byte[] zeros = new byte[4 << 20];
        byte[] compressed = Lzw.Compress(zeros);
        Assert.True(compressed.Length < zeros.Length / 100);
        Assert.False(Lzw.TryDecompress(compressed, 1 << 20, out _));
        Assert.True(Lzw.TryDecompress(compressed, 8 << 20, out byte[] back));
        Assert.Equal(zeros.Length, back.Length);
    }

    [Fact]
    public void Invalid_lzw_codes_are_refused()
    {
        Assert.False(Lzw.TryDecompress([], 100, out _)); // no EOF
        Assert.False(Lzw.TryDecompress(Hex.Parse("00 c3 04"), 100, out _)); // cut before EOF
        Assert.False(Lzw.TryDecompress(Hex.Parse("ff ff ff ff"), 100, out _)); // code 511 before the table holds it
    }

    [Fact]
    public async Task A_live_node_survives_garbage_and_still_answers_pings()
    {
        IPAddress address = IPAddress.Parse("127.83.90.10");
        await using SerfNode node = SerfNode.Start(new SerfNodeOptions { Name = "target", Bind = new IPEndPoint(address, 0), RandomSeed = 90 });
        using Socket sender = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(IPAddress.Parse("127.83.90.11"), 0));
        Random random = new(90);
        for (int i = 0; i < 500; i++)
        {
            byte[] sample = Samples[random.Next(Samples.Length)];
            byte[] mutated = [.. sample];
            mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
            sender.SendTo(i % 2 == 0 ? mutated : RandomBytes(random, 1 + random.Next(200)), node.EndPoint);
        }

        // Garbage streams too: a hostile push/pull header, random bytes, an early close.
        foreach (byte[] stream in new[] { Hex.Parse("06 83 a4 4a6f696e c2 a5 4e6f646573 ce 80000000 ac 5573657253746174654c656e 00"), RandomBytes(random, 300), Hex.Parse("09") })
        {
            using TcpClient client = new();
            await client.ConnectAsync(node.EndPoint);
            await client.GetStream().WriteAsync(stream);
        }

        // Then a real ping must be answered. UDP may drop: under load the node's receive buffer can
        // still be full of the 500 garbage datagrams, so the ping is resent each second (bounded:
        // 30 sends), and whatever the garbage provoked (acks to mutated pings) is skipped.
        sender.ReceiveTimeout = 1_000;
        AckMessage? ack = null;
        byte[] buffer = new byte[65536];
        for (int send = 0; send < 30 && ack?.SeqNo != 4242; send++)
        {
            sender.SendTo(new PingMessage(4242, "target").Encode(), node.EndPoint);
            for (int read = 0; read < 200 && ack?.SeqNo != 4242; read++)
            {
                int n;
                try
                {
                    n = sender.Receive(buffer);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
                {
                    break;
                }

                List<WireMessage> messages = [];
                Packet.TryUnpack(buffer.AsMemory(0, n).ToArray(), messages, out _);
                foreach (WireMessage m in messages.Where(m => m.Type == MemberlistType.Ack))
                {
                    if (AckMessage.TryDecode(m.Body, out AckMessage a) && a.SeqNo == 4242)
                    {
                        ack = a;
                    }
                }
            }
        }

        Assert.Equal(4242u, ack?.SeqNo);
        Assert.True(node.Counters.MalformedPackets + node.Counters.MalformedMessages > 0);
        Assert.Equal("target", Assert.Single(node.Members).Name);
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static bool DecodesAsItsType(byte[] message)
    {
        List<WireMessage> messages = [];
        if (!Packet.TryUnpack(message, messages, out _) || messages.Count == 0)
        {
            return false;
        }

        WireMessage m = messages[0];
        return m.Type switch
        {
            MemberlistType.Ping => PingMessage.TryDecode(m.Body, out _),
            MemberlistType.IndirectPing => IndirectPingMessage.TryDecode(m.Body, out _),
            MemberlistType.Alive => NodeRecord.TryDecodeAlive(m.Body, out _),
            MemberlistType.Suspect => AccusationMessage.TryDecode(m.Body, out _),
            MemberlistType.User => m.Body.Length > 1 && (SerfType)m.Body.Span[0] switch
            {
                SerfType.UserEvent => UserEventMessage.TryDecode(m.Body[1..], out _),
                SerfType.Query => QueryMessage.TryDecode(m.Body[1..], out _),
                _ => false,
            },
            MemberlistType.PushPull => PushPullMessage.TryDecode(m.Body, out _, out _) == ParseStatus.Complete,
            _ => false,
        };
    }

    // Every decoder of the dialect on the same bytes (as a body, and after the first byte); none may throw.
    private static void ExerciseAllDecoders(byte[] bytes)
    {
        ReadOnlyMemory<byte> all = bytes;
        ReadOnlyMemory<byte> rest = bytes.Length > 0 ? all[1..] : all;
        foreach (ReadOnlyMemory<byte> body in new[] { all, rest })
        {
            Packet.TryUnpack(body, [], out _);
            GoMsgpack.TryDecode(body, out _, out _, out _);
            PingMessage.TryDecode(body, out _);
            IndirectPingMessage.TryDecode(body, out _);
            AckMessage.TryDecode(body, out _);
            NackMessage.TryDecode(body, out _);
            AccusationMessage.TryDecode(body, out _);
            NodeRecord.TryDecodeAlive(body, out _);
            CompressMessage.TryDecode(body, out _, out _);
            ErrorMessage.TryDecode(body, out _);
            PushPullMessage.TryDecode(body, out _, out _);
            IntentMessage.TryDecode(body, out _);
            UserEventMessage.TryDecode(body, out _);
            QueryMessage.TryDecode(body, out _);
            QueryResponseMessage.TryDecode(body, out _);
            SerfStateMessage.TryDecode(body, out _);
            SerfTags.TryDecode(body, out _);
            Lzw.TryDecompress(body.Span, 1 << 16, out _);
            SerfNode.TryParseStream(body, null, out _, out _);
            SerfNode.TryParseStream(body, TestKeyring, out _, out _);
            TestKeyring.TryDecrypt(body.Span, [], out _);
        }
    }
}
