using System.Buffers.Binary;
using System.Text;
using Rumor.Core.Tests.Support;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Wire;

/// <summary>
/// Every bound a decoder enforces, tested from both sides with payloads written field by field from
/// docs/PROTOCOL.md: the value just inside the bound decodes, the value just outside is refused with
/// the documented reason. Counts and lengths are also set to their maxima over a short input (the
/// decoder must refuse before allocating for them) and to one more than the remaining bytes can
/// hold at the smallest entry size (refused as Truncated before any entry is read: the padding is
/// made so that reading it would give a different error). scripts/mutate-decoders.sh weakens each
/// of these checks in turn and expects a test here or in the other wire tests to fail.
/// </summary>
public class DecoderBoundsTests
{
    private static readonly byte[] Ipv4 = [4, 10, 0, 0, 1, 0x0A, 0x1F];
    private static readonly byte[] Versions = [1, 1, 1, 0, 0, 0];

    private static readonly Dictionary<string, (MessageType Type, byte[] Payload, DecodeError Expected)> Cases = BuildCases();

    public static TheoryData<string> CaseNames()
    {
        TheoryData<string> data = [];
        foreach (string name in Cases.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Field_bounds_hold_on_both_sides(string name)
    {
        (MessageType type, byte[] payload, DecodeError expected) = Cases[name];

        // Through the whole receive path: sealed into a packet, opened, walked, decoded.
        byte[] packet = Packets.Seal(type, payload);
        Assert.Equal(expected, Packets.DecodeAll(packet, WireLimits.StreamMaxBytes, new NameTable(), []));

        // And on its own, measuring what the decoder allocates: a refused input costs little.
        _ = Packets.DecodeAny(type, payload, null, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        DecodeError error = Packets.DecodeAny(type, payload, null, out _);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(expected, error);
        if (expected != DecodeError.None)
        {
            Assert.True(allocated <= 4096 + (16L * payload.Length), $"allocated {allocated} bytes to refuse {payload.Length} bytes");
        }
    }

    [Fact]
    public void Every_message_type_has_bound_cases()
    {
        HashSet<MessageType> covered = [.. Cases.Values.Select(c => c.Type)];
        for (MessageType type = MessageType.Ping; type <= MessageType.ViewChecksum; type++)
        {
            Assert.Contains(type, covered);
        }
    }

    [Fact]
    public void Encoders_refuse_fields_beyond_their_length_prefix()
    {
        string longName = new('n', WireLimits.NameMaxBytes + 1);
        Assert.Throws<InvalidOperationException>(() => PacketBuilder.EncodeSingle(new StateChecksumMessage(longName, 1, 1, 1)));
        Assert.Throws<InvalidOperationException>(() => PacketBuilder.EncodeSingle(new HeartbeatsMessage([new HeartbeatEntry(longName, 1, 1)])));
        Assert.Throws<InvalidOperationException>(() => PacketBuilder.EncodeSingle(new UserEventMessage("a", 1, 1, 1, 0, "e", new byte[ushort.MaxValue + 1])));
        Assert.Throws<InvalidOperationException>(() => PacketBuilder.EncodeSingle(new EventDigestMessage(1, 1, false, 1, new byte[ushort.MaxValue + 1])));
        Assert.Throws<InvalidOperationException>(() => PacketBuilder.EncodeSingle(new AggregateMessage(AggregateFlags.None, new string('k', ushort.MaxValue + 1), 1, "a", 1, 1, default, 0, 0, 0, 0, 0)));
        Assert.Throws<OverflowException>(() => PacketBuilder.EncodeSingle(new HeartbeatsMessage(Enumerable.Repeat(new HeartbeatEntry("a", 1, 1), ushort.MaxValue + 1).ToArray())));
        OwnerDelta empty = new("a", 1, false, 0, 0, []);
        Assert.Throws<OverflowException>(() => PacketBuilder.EncodeSingle(new StateDeltaMessage(false, Enumerable.Repeat(empty, ushort.MaxValue + 1).ToArray())));
    }

    private static Dictionary<string, (MessageType, byte[], DecodeError)> BuildCases()
    {
        Dictionary<string, (MessageType, byte[], DecodeError)> c = [];
        const DecodeError Ok = DecodeError.None;
        const DecodeError Bad = DecodeError.Malformed;
        const DecodeError Short = DecodeError.Truncated;

        // Names (every decoder shares WireReader.TryReadName): 255 bytes is the most a u8 can say.
        c["Suspect: 255-byte names"] = (MessageType.Suspect, [.. N(new string('a', 255)), .. U32(1), .. U64(1), .. N(new string('b', 255))], Ok);
        c["Suspect: name length 255 over 3 bytes"] = (MessageType.Suspect, [255, 0x61, 0x62, 0x63], Short);
        c["Dead: empty accuser"] = (MessageType.Dead, [.. N("a"), .. U32(1), .. U64(1), 0], Bad);
        c["Dead: accuser not UTF-8"] = (MessageType.Dead, [.. N("a"), .. U32(1), .. U64(1), 1, 0xFF], Bad);

        // Ping (2): the target may be empty, the source may not.
        c["Ping: empty target"] = (MessageType.Ping, [.. U32(1), 0, .. N("s"), .. Ipv4], Ok);
        c["Ping: empty source"] = (MessageType.Ping, [.. U32(1), .. N("t"), 0, .. Ipv4], Bad);
        c["Ping: IPv6 source"] = (MessageType.Ping, [.. U32(1), .. N("t"), .. N("s"), 6, .. new byte[16], 1, 0], Ok);
        c["Ping: address family 0"] = (MessageType.Ping, [.. U32(1), .. N("t"), .. N("s"), 0, 10, 0, 0, 1, 0x0A, 0x1F], Bad);
        c["Ping: address family 5"] = (MessageType.Ping, [.. U32(1), .. N("t"), .. N("s"), 5, 10, 0, 0, 1, 0x0A, 0x1F], Bad);
        c["Ping: IPv4 address cut before the port"] = (MessageType.Ping, [.. U32(1), .. N("t"), .. N("s"), 4, 10, 0, 0, 1, 0x0A], Short);

        // IndirectPing (3): flags bit 0 only.
        c["IndirectPing: flags 0x01"] = (MessageType.IndirectPing, [.. U32(1), .. N("t"), .. Ipv4, 1], Ok);
        c["IndirectPing: flags 0x02"] = (MessageType.IndirectPing, [.. U32(1), .. N("t"), .. Ipv4, 2], Bad);
        c["IndirectPing: flags 0x80"] = (MessageType.IndirectPing, [.. U32(1), .. N("t"), .. Ipv4, 0x80], Bad);
        c["IndirectPing: empty target"] = (MessageType.IndirectPing, [.. U32(1), 0, .. Ipv4, 0], Bad);

        // Ack (4), Nack (5): exactly four bytes.
        c["Ack: 4 bytes"] = (MessageType.Ack, U32(7), Ok);
        c["Ack: 3 bytes"] = (MessageType.Ack, [7, 0, 0], Short);
        c["Nack: 5 bytes"] = (MessageType.Nack, [7, 0, 0, 0, 0], DecodeError.TrailingBytes);

        // Alive (6): versions min <= max, metadata <= 4096.
        c["Alive: versions min = max"] = (MessageType.Alive, Alive([3, 3, 0, 2, 2, 0], 0), Ok);
        c["Alive: protocol min above max"] = (MessageType.Alive, Alive([2, 1, 1, 0, 0, 0], 0), Bad);
        c["Alive: delegate min above max"] = (MessageType.Alive, Alive([1, 1, 1, 1, 0, 0], 0), Bad);
        c["Alive: metadata 4096 bytes"] = (MessageType.Alive, Alive(Versions, WireLimits.MetaMaxBytes), Ok);
        c["Alive: metadata 4097 bytes"] = (MessageType.Alive, Alive(Versions, WireLimits.MetaMaxBytes + 1), Bad);
        c["Alive: metadata length 4096 over 10 bytes"] = (MessageType.Alive, [.. Alive(Versions, 0)[..^2], .. U16(WireLimits.MetaMaxBytes), .. new byte[10]], Short);
        c["Alive: metadata length 65535 over 10 bytes"] = (MessageType.Alive, [.. Alive(Versions, 0)[..^2], .. U16(ushort.MaxValue), .. new byte[10]], Bad);
        c["Alive: empty name"] = (MessageType.Alive, [0, .. Alive(Versions, 0)[2..]], Bad);

        // PushPull (9).
        c["PushPull: flags 0x01 (join)"] = (MessageType.PushPull, [1, .. U32(0), 0], Ok);
        c["PushPull: flags 0x02"] = (MessageType.PushPull, [2, .. U32(0), 0], Bad);
        c["PushPull: flags 0x80"] = (MessageType.PushPull, [0x80, .. U32(0), 0], Bad);
        c["PushPull: empty member name"] = (MessageType.PushPull, [0, .. U32(1), 0, .. Member(0, Versions, 0)[2..], 0, 0], Bad); // two bytes more, or the count check refuses first
        c["PushPull: member name not UTF-8"] = (MessageType.PushPull, [0, .. U32(1), 1, 0xFF, .. Member(0, Versions, 0)[2..], 0], Bad);
        c["PushPull: state 3 (left)"] = (MessageType.PushPull, [0, .. U32(1), .. Member(3, Versions, 0), 0], Ok);
        c["PushPull: state 4"] = (MessageType.PushPull, [0, .. U32(1), .. Member(4, Versions, 0), 0], Bad);
        c["PushPull: member versions min above max"] = (MessageType.PushPull, [0, .. U32(1), .. Member(0, [1, 0, 0, 0, 0, 0], 0), 0], Bad);
        c["PushPull: member metadata 4096 bytes"] = (MessageType.PushPull, [0, .. U32(1), .. Member(0, Versions, WireLimits.MetaMaxBytes), 0], Ok);
        c["PushPull: member metadata 4097 bytes"] = (MessageType.PushPull, [0, .. U32(1), .. Member(0, Versions, WireLimits.MetaMaxBytes + 1), 0], Bad);
        c["PushPull: member count 2^20 over 100 bytes"] = (MessageType.PushPull, [0, .. U32(WireLimits.PushPullMaxMembers), .. new byte[100]], Short);
        c["PushPull: member count 2^20 + 1"] = (MessageType.PushPull, [0, .. U32(WireLimits.PushPullMaxMembers + 1), .. new byte[100]], Bad);
        c["PushPull: member count 2^32 - 1"] = (MessageType.PushPull, [0, .. U32(uint.MaxValue), .. new byte[100]], Bad);
        c["PushPull: members filling the input exactly"] = (MessageType.PushPull, [0, .. U32(3), .. Repeat(Member(0, Versions, 0), 3), 0], Ok);
        c["PushPull: one member more than the input can hold"] = (MessageType.PushPull, [0, .. U32(4), .. Repeat(Member(0, Versions, 0), 3), .. new byte[PushPullMember.MinEncodedLength - 1]], Short);
        c["PushPull: 16 sections"] = (MessageType.PushPull, [0, .. U32(0), 16, .. Repeat([.. U16(1), .. U32(0)], 16)], Ok);
        c["PushPull: 17 sections"] = (MessageType.PushPull, [0, .. U32(0), 17, .. Repeat([.. U16(1), .. U32(0)], 17)], Bad);
        c["PushPull: 255 sections over 6 bytes"] = (MessageType.PushPull, [0, .. U32(0), 255, .. U16(1), .. U32(0)], Bad);
        c["PushPull: 16 sections over 6 bytes"] = (MessageType.PushPull, [0, .. U32(0), 16, .. U16(1), .. U32(0)], Short);
        c["PushPull: section length 2^32 - 1 over 10 bytes"] = (MessageType.PushPull, [0, .. U32(0), 1, .. U16(1), .. U32(uint.MaxValue), .. new byte[10]], Short);
        c["PushPull: section length 2^31 over 10 bytes"] = (MessageType.PushPull, [0, .. U32(0), 1, .. U16(1), .. U32(1u << 31), .. new byte[10]], Short);

        // StateDigest (10), full form.
        c["StateDigest: flags 0x03"] = (MessageType.StateDigest, [3, .. N("a"), .. U64(0), .. U32(0)], Ok);
        c["StateDigest: flags 0x08"] = (MessageType.StateDigest, [8, .. N("a"), .. U64(0), .. U32(0)], Bad);
        c["StateDigest: flags 0x80"] = (MessageType.StateDigest, [0x80, .. N("a"), .. U64(0), .. U32(0)], Bad);
        c["StateDigest: empty sender"] = (MessageType.StateDigest, [3, 0, .. U64(0), .. U32(0)], Bad);
        c["StateDigest: empty owner"] = (MessageType.StateDigest, [3, .. N("a"), .. U64(0), .. U32(1), 0, .. U64(1), .. U64(1), 0], Bad); // one byte more, or the count check refuses first
        c["StateDigest: owner not UTF-8"] = (MessageType.StateDigest, [3, .. N("a"), .. U64(0), .. U32(1), 1, 0xFF, .. U64(1), .. U64(1)], Bad);
        c["StateDigest: lines filling the input exactly"] = (MessageType.StateDigest, [3, .. N("a"), .. U64(0), .. U32(3), .. Repeat(DigestLine(), 3)], Ok);
        c["StateDigest: one line more than the input can hold"] = (MessageType.StateDigest, [3, .. N("a"), .. U64(0), .. U32(4), .. Repeat(DigestLine(), 3), .. new byte[17]], Short);
        c["StateDigest: count 2^32 - 1 over 100 bytes"] = (MessageType.StateDigest, [3, .. N("a"), .. U64(0), .. U32(uint.MaxValue), .. new byte[100]], Short);
        c["StateDigest: count 2^31 over 100 bytes"] = (MessageType.StateDigest, [3, .. N("a"), .. U64(0), .. U32(1u << 31), .. new byte[100]], Short);

        // StateDigest (10), Bloom form.
        c["StateDigest Bloom: 1 hash"] = (MessageType.StateDigest, Bloom(1, 1, [0xFF]), Ok);
        c["StateDigest Bloom: 32 hashes"] = (MessageType.StateDigest, Bloom(32, 1, [0xFF]), Ok);
        c["StateDigest Bloom: 0 hashes"] = (MessageType.StateDigest, Bloom(0, 1, [0xFF]), Bad);
        c["StateDigest Bloom: 33 hashes"] = (MessageType.StateDigest, Bloom(33, 1, [0xFF]), Bad);
        c["StateDigest Bloom: 255 hashes"] = (MessageType.StateDigest, Bloom(255, 1, [0xFF]), Bad);
        c["StateDigest Bloom: empty bits"] = (MessageType.StateDigest, Bloom(3, 0, []), Bad);
        c["StateDigest Bloom: bits length 3 over 2 bytes"] = (MessageType.StateDigest, Bloom(3, 3, [1, 2]), Short);
        c["StateDigest Bloom: bits length 2^32 - 1 over 100 bytes"] = (MessageType.StateDigest, Bloom(3, uint.MaxValue, new byte[100]), Short);
        c["StateDigest Bloom: bits length 2^31 over 100 bytes"] = (MessageType.StateDigest, Bloom(3, 1u << 31, new byte[100]), Short);
        c["StateDigest Bloom: flags 0x0C"] = (MessageType.StateDigest, [0x0C, .. Bloom(3, 1, [0xFF])[1..]], Bad);

        // StateDelta (11).
        c["StateDelta: flags 0x01, no owners"] = (MessageType.StateDelta, [1, .. U16(0)], Ok);
        c["StateDelta: flags 0x02"] = (MessageType.StateDelta, [2, .. U16(0)], Bad);
        c["StateDelta: flags 0x80"] = (MessageType.StateDelta, [0x80, .. U16(0)], Bad);
        c["StateDelta: owner flags 0x01 (reset)"] = (MessageType.StateDelta, Delta(Owner("a", 1, 0, 0, 0)), Ok);
        c["StateDelta: owner flags 0x02"] = (MessageType.StateDelta, Delta(Owner("a", 2, 0, 0, 0)), Bad);
        c["StateDelta: owner flags 0x80"] = (MessageType.StateDelta, Delta(Owner("a", 0x80, 0, 0, 0)), Bad);
        c["StateDelta: empty owner name"] = (MessageType.StateDelta, Delta([.. Owner(string.Empty, 0, 0, 0, 0), 0]), Bad);
        c["StateDelta: owner not UTF-8"] = (MessageType.StateDelta, Delta([1, 0xFF, .. Owner("a", 0, 0, 0, 0)[2..]]), Bad);
        c["StateDelta: to = from"] = (MessageType.StateDelta, Delta(Owner("a", 0, 5, 5, 0)), Ok);
        c["StateDelta: to = from - 1"] = (MessageType.StateDelta, Delta(Owner("a", 0, 5, 4, 0)), Bad);
        c["StateDelta: to = 0, from = 2^64 - 1"] = (MessageType.StateDelta, Delta(Owner("a", 0, ulong.MaxValue, 0, 0)), Bad);
        c["StateDelta: version = from + 1"] = (MessageType.StateDelta, Delta([.. Owner("a", 0, 2, 4, 1), .. Entry("k", 3, 0, [1])]), Ok);
        c["StateDelta: version = to"] = (MessageType.StateDelta, Delta([.. Owner("a", 0, 2, 4, 1), .. Entry("k", 4, 0, [1])]), Ok);
        c["StateDelta: version = from"] = (MessageType.StateDelta, Delta([.. Owner("a", 0, 2, 4, 1), .. Entry("k", 2, 0, [1])]), Bad);
        c["StateDelta: version = to + 1"] = (MessageType.StateDelta, Delta([.. Owner("a", 0, 2, 4, 1), .. Entry("k", 5, 0, [1])]), Bad);
        c["StateDelta: version 0, from 0"] = (MessageType.StateDelta, Delta([.. Owner("a", 0, 0, 4, 1), .. Entry("k", 0, 0, [1])]), Bad);
        c["StateDelta: tombstone without a value"] = (MessageType.StateDelta, Delta([.. Owner("a", 0, 2, 4, 1), .. Entry("k", 3, 1, [])]), Ok);
        c["StateDelta: tombstone with a value"] = (MessageType.StateDelta, Delta([.. Owner("a", 0, 2, 4, 1), .. Entry("k", 3, 1, [1])]), Bad);
        c["StateDelta: kind 2"] = (MessageType.StateDelta, Delta([.. Owner("a", 0, 2, 4, 1), .. Entry("k", 3, 2, [])]), Bad);
        c["StateDelta: kind 0x80"] = (MessageType.StateDelta, Delta([.. Owner("a", 0, 2, 4, 1), .. Entry("k", 3, 0x80, [])]), Bad);
        c["StateDelta: empty key"] = (MessageType.StateDelta, Delta([.. Owner("a", 0, 2, 4, 1), .. Entry(string.Empty, 3, 0, [])]), Ok);
        c["StateDelta: key not UTF-8"] = (MessageType.StateDelta, Delta([.. Owner("a", 0, 2, 4, 1), .. U16(1), 0xFF, .. Entry(string.Empty, 3, 0, [])[2..]]), Bad);
        c["StateDelta: key length 65535 over 30 bytes"] = (MessageType.StateDelta, Delta([.. Owner("a", 0, 2, 4, 1), .. U16(ushort.MaxValue), .. new byte[30]]), Short);
        c["StateDelta: value length 2^32 - 1 over 30 bytes"] = (MessageType.StateDelta, Delta([.. Owner("a", 0, 2, 4, 1), .. Entry("k", 3, 0, [])[..^4], .. U32(uint.MaxValue), .. new byte[30]]), Short);
        c["StateDelta: value length 2^31 over 30 bytes"] = (MessageType.StateDelta, Delta([.. Owner("a", 0, 2, 4, 1), .. Entry("k", 3, 0, [])[..^4], .. U32(1u << 31), .. new byte[30]]), Short);
        c["StateDelta: owners filling the input exactly"] = (MessageType.StateDelta, [0, .. U16(3), .. Repeat(Owner("a", 0, 0, 0, 0), 3)], Ok);
        c["StateDelta: one owner more than the input can hold"] = (MessageType.StateDelta, [0, .. U16(4), .. Repeat(Owner("a", 0, 0, 0, 0), 3), .. new byte[30]], Short);
        c["StateDelta: owner count 65535 over 100 bytes"] = (MessageType.StateDelta, [0, .. U16(ushort.MaxValue), .. new byte[100]], Short);
        c["StateDelta: entries filling the input exactly"] = (MessageType.StateDelta, Delta([.. Owner("a", 0, 0, 3, 3), .. Entry(string.Empty, 1, 0, []), .. Entry(string.Empty, 2, 0, []), .. Entry(string.Empty, 3, 0, [])]), Ok);
        c["StateDelta: one entry more than the input can hold"] = (MessageType.StateDelta, Delta([.. Owner("a", 0, 0, 3, 4), .. Entry(string.Empty, 1, 0, []), .. Entry(string.Empty, 2, 0, []), .. Entry(string.Empty, 3, 0, []), 1, 0, 0xFF, .. new byte[15]]), Short);
        c["StateDelta: entry count 2^32 - 1 over 100 bytes"] = (MessageType.StateDelta, Delta([.. Owner("a", 0, 0, 3, 0)[..^4], .. U32(uint.MaxValue), .. new byte[100]]), Short);

        // StateChecksum (12).
        c["StateChecksum: empty name"] = (MessageType.StateChecksum, [0, .. U64(1), .. U32(1), .. U64(1)], Bad);
        c["StateChecksum: name not UTF-8"] = (MessageType.StateChecksum, [2, 0xC0, 0x80, .. U64(1), .. U32(1), .. U64(1)], Bad);
        c["StateChecksum: all ones"] = (MessageType.StateChecksum, [.. N("n"), .. U64(ulong.MaxValue), .. U32(uint.MaxValue), .. U64(ulong.MaxValue)], Ok);

        // Heartbeats (13).
        c["Heartbeats: none"] = (MessageType.Heartbeats, U16(0), Ok);
        c["Heartbeats: empty name"] = (MessageType.Heartbeats, [.. U16(1), 0, .. U64(1), .. U64(1), 0], Bad);
        c["Heartbeats: name not UTF-8"] = (MessageType.Heartbeats, [.. U16(1), 1, 0x80, .. U64(1), .. U64(1)], Bad);
        c["Heartbeats: entries filling the input exactly"] = (MessageType.Heartbeats, [.. U16(3), .. Repeat(Heartbeat(), 3)], Ok);
        c["Heartbeats: one entry more than the input can hold"] = (MessageType.Heartbeats, [.. U16(4), .. Repeat(Heartbeat(), 3), .. new byte[17]], Short);
        c["Heartbeats: count 65535 over 100 bytes"] = (MessageType.Heartbeats, [.. U16(ushort.MaxValue), .. new byte[100]], Short);

        // UserEvent (14): sequence >= 1, coalesce-from <= sequence, name non-empty, payload u16.
        c["UserEvent: sequence 1"] = (MessageType.UserEvent, UserEvent(1, 0, N("e"), U16(0)), Ok);
        c["UserEvent: sequence 0"] = (MessageType.UserEvent, UserEvent(0, 0, N("e"), U16(0)), Bad);
        c["UserEvent: coalesce-from = sequence"] = (MessageType.UserEvent, UserEvent(7, 7, N("e"), U16(0)), Ok);
        c["UserEvent: coalesce-from = sequence + 1"] = (MessageType.UserEvent, UserEvent(7, 8, N("e"), U16(0)), Bad);
        c["UserEvent: empty name"] = (MessageType.UserEvent, UserEvent(1, 0, [0], U16(0)), Bad);
        c["UserEvent: empty origin"] = (MessageType.UserEvent, [0, .. UserEvent(1, 0, N("e"), U16(0))[2..]], Bad);
        c["UserEvent: name not UTF-8"] = (MessageType.UserEvent, UserEvent(1, 0, [1, 0xFE], U16(0)), Bad);
        c["UserEvent: payload 65535 bytes"] = (MessageType.UserEvent, UserEvent(1, 0, N("e"), [.. U16(ushort.MaxValue), .. new byte[ushort.MaxValue]]), Ok);
        c["UserEvent: payload length 65535 over 10 bytes"] = (MessageType.UserEvent, UserEvent(1, 0, N("e"), [.. U16(ushort.MaxValue), .. new byte[10]]), Short);

        // EventDigest (15): hashes 1..32, flags bit 0, bits non-empty.
        c["EventDigest: 1 hash"] = (MessageType.EventDigest, EventDigest(1, 0, [.. U16(1), 1]), Ok);
        c["EventDigest: 32 hashes"] = (MessageType.EventDigest, EventDigest(32, 1, [.. U16(1), 1]), Ok);
        c["EventDigest: 0 hashes"] = (MessageType.EventDigest, EventDigest(0, 0, [.. U16(1), 1]), Bad);
        c["EventDigest: 33 hashes"] = (MessageType.EventDigest, EventDigest(33, 0, [.. U16(1), 1]), Bad);
        c["EventDigest: flags 0x02"] = (MessageType.EventDigest, EventDigest(3, 2, [.. U16(1), 1]), Bad);
        c["EventDigest: flags 0x80"] = (MessageType.EventDigest, EventDigest(3, 0x80, [.. U16(1), 1]), Bad);
        c["EventDigest: empty bits"] = (MessageType.EventDigest, EventDigest(3, 0, U16(0)), Bad);
        c["EventDigest: bits length 65535 over 10 bytes"] = (MessageType.EventDigest, EventDigest(3, 0, [.. U16(ushort.MaxValue), .. new byte[10]]), Short);

        // Query (16): id, timeout and port >= 1, filter UTF-8.
        c["Query: id 1, timeout 1, port 1"] = (MessageType.Query, Query(1, [4, 10, 0, 0, 1, 1, 0], 1, U16(0)), Ok);
        c["Query: id 0"] = (MessageType.Query, Query(0, Ipv4, 1, U16(0)), Bad);
        c["Query: timeout 0"] = (MessageType.Query, Query(1, Ipv4, 0, U16(0)), Bad);
        c["Query: port 0"] = (MessageType.Query, Query(1, [4, 10, 0, 0, 1, 0, 0], 1, U16(0)), Bad);
        c["Query: IPv6 port 0"] = (MessageType.Query, Query(1, [6, .. new byte[16], 0, 0], 1, U16(0)), Bad);
        c["Query: filter not UTF-8"] = (MessageType.Query, Query(1, Ipv4, 1, [.. U16(2), 0x61, 0xFF]), Bad);
        c["Query: filter length 65535 over 10 bytes"] = (MessageType.Query, [.. Query(1, Ipv4, 1, U16(0))[..^4], .. U16(ushort.MaxValue), .. new byte[10]], Short);
        c["Query: payload length 65535 over 10 bytes"] = (MessageType.Query, [.. Query(1, Ipv4, 1, U16(0))[..^2], .. U16(ushort.MaxValue), .. new byte[10]], Short);
        c["Query: empty name"] = (MessageType.Query, [.. Query(1, Ipv4, 1, U16(0))[..^6], 0, .. U16(0), .. U16(0)], Bad);
        c["Query: name not UTF-8"] = (MessageType.Query, [.. Query(1, Ipv4, 1, U16(0))[..^6], 1, 0xFF, .. U16(0), .. U16(0)], Bad);
        c["Query: empty asker"] = (MessageType.Query, [0, .. Query(1, Ipv4, 1, U16(0))[2..]], Bad);

        // QueryResponse (17): id >= 1, responder non-empty.
        c["QueryResponse: id 1"] = (MessageType.QueryResponse, [.. U64(1), .. U64(1), .. N("r"), .. U16(0)], Ok);
        c["QueryResponse: id 0"] = (MessageType.QueryResponse, [.. U64(1), .. U64(0), .. N("r"), .. U16(0)], Bad);
        c["QueryResponse: empty responder"] = (MessageType.QueryResponse, [.. U64(1), .. U64(1), 0, .. U16(0)], Bad);
        c["QueryResponse: payload length 65535 over 10 bytes"] = (MessageType.QueryResponse, [.. U64(1), .. U64(1), .. N("r"), .. U16(ushort.MaxValue), .. new byte[10]], Short);

        // Aggregate (18): flags bit 0; key 1..65535 bytes of UTF-8; flows finite, holders/nodes/weight
        // >= 0; min and max not NaN; estimates not infinite.
        double[] good = [1, 0, 0, 0, double.NegativeInfinity, double.PositiveInfinity, double.NaN, double.NaN, double.NaN];
        c["Aggregate: reply flag"] = (MessageType.Aggregate, Aggregate(1, "k", good), Ok);
        c["Aggregate: flags 0x08"] = (MessageType.Aggregate, Aggregate(8, "k", good), Bad);
        c["Aggregate: lifetime flag without the lifetime"] = (MessageType.Aggregate, Aggregate(2, "k", good), Short);
        c["Aggregate: lifetime flag with function 4"] = (MessageType.Aggregate, [.. Aggregate(2, "k", good), 1, 0, 0, 0, 4], Ok);
        c["Aggregate: lifetime flag with function 5"] = (MessageType.Aggregate, [.. Aggregate(2, "k", good), 1, 0, 0, 0, 5], Bad);
        c["Aggregate: ended flag"] = (MessageType.Aggregate, Aggregate(4, "k", good), Ok);
        c["Aggregate: flags 0x80"] = (MessageType.Aggregate, Aggregate(0x80, "k", good), Bad);
        c["Aggregate: empty key"] = (MessageType.Aggregate, Aggregate(0, string.Empty, good), Bad);
        c["Aggregate: key not UTF-8"] = (MessageType.Aggregate, [0, .. U16(1), 0xFF, .. Aggregate(0, "k", good)[4..]], Bad);
        c["Aggregate: key length 65535 over 100 bytes"] = (MessageType.Aggregate, [0, .. U16(ushort.MaxValue), .. new byte[100]], Short);
        c["Aggregate: empty initiator"] = (MessageType.Aggregate, [.. Aggregate(0, "k", good)[..8], 0, .. Aggregate(0, "k", good)[10..]], Bad);
        c["Aggregate: negative flow value"] = (MessageType.Aggregate, Aggregate(0, "k", [-1e300, 0, 0, 0, 0, 0, 0, 0, 0]), Ok);
        c["Aggregate: zero and negative-zero flows"] = (MessageType.Aggregate, Aggregate(0, "k", [-0.0, -0.0, -0.0, -0.0, 0, 0, 0, 0, 0]), Ok);
        string[] fields = ["value", "holders", "nodes", "weight", "min", "max", "average", "count", "holder count"];
        for (int i = 0; i < 9; i++)
        {
            double[] nan = (double[])good.Clone();
            nan[i] = double.NaN;
            c[$"Aggregate: {fields[i]} NaN"] = (MessageType.Aggregate, Aggregate(0, "k", nan), i <= 5 ? Bad : Ok);
            foreach (double infinity in new[] { double.PositiveInfinity, double.NegativeInfinity })
            {
                double[] inf = (double[])good.Clone();
                inf[i] = infinity;
                c[$"Aggregate: {fields[i]} {infinity}"] = (MessageType.Aggregate, Aggregate(0, "k", inf), i is 4 or 5 ? Ok : Bad);
            }

            if (i is >= 1 and <= 3)
            {
                double[] negative = (double[])good.Clone();
                negative[i] = -double.Epsilon;
                c[$"Aggregate: {fields[i]} below zero"] = (MessageType.Aggregate, Aggregate(0, "k", negative), Bad);
            }
        }

        // Coordinate (19): dimensions 1..16; every number finite; error and height >= 0.
        // ViewChecksum (20): exactly twelve bytes.
        c["ViewChecksum: 12 bytes"] = (MessageType.ViewChecksum, [.. U32(1), 1, 2, 3, 4, 5, 6, 7, 8], Ok);
        c["ViewChecksum: 11 bytes"] = (MessageType.ViewChecksum, [.. U32(1), 1, 2, 3, 4, 5, 6, 7], Short);
        c["ViewChecksum: 13 bytes"] = (MessageType.ViewChecksum, [.. U32(1), 1, 2, 3, 4, 5, 6, 7, 8, 9], DecodeError.TrailingBytes);

        c["Coordinate: 1 dimension"] = (MessageType.Coordinate, Coordinate(1, 0.5, 0, 1e-5), Ok);
        c["Coordinate: 16 dimensions"] = (MessageType.Coordinate, Coordinate(16, 0.5, 0, 1e-5), Ok);
        c["Coordinate: 0 dimensions"] = (MessageType.Coordinate, [.. U32(1), 0, .. F64(0.5), .. F64(0), .. F64(1e-5)], Bad);
        c["Coordinate: 17 dimensions"] = (MessageType.Coordinate, Coordinate(17, 0.5, 0, 1e-5), Bad);
        c["Coordinate: 255 dimensions over 10 bytes"] = (MessageType.Coordinate, [.. U32(1), 255, .. new byte[10]], Bad);
        c["Coordinate: 8 dimensions, one number short"] = (MessageType.Coordinate, Coordinate(8, 0.5, 0, 1e-5)[..^8], Short);
        c["Coordinate: error and height zero, adjustment negative"] = (MessageType.Coordinate, Coordinate(8, 0, -1, 0), Ok);
        c["Coordinate: error below zero"] = (MessageType.Coordinate, Coordinate(8, -double.Epsilon, 0, 0), Bad);
        c["Coordinate: height below zero"] = (MessageType.Coordinate, Coordinate(8, 0, 0, -double.Epsilon), Bad);
        foreach (double bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
        {
            c[$"Coordinate: component {bad}"] = (MessageType.Coordinate, [.. U32(1), 2, .. F64(0), .. F64(bad), .. F64(0.5), .. F64(0), .. F64(0)], Bad);
            c[$"Coordinate: error {bad}"] = (MessageType.Coordinate, Coordinate(2, bad, 0, 0), Bad);
            c[$"Coordinate: adjustment {bad}"] = (MessageType.Coordinate, Coordinate(2, 0.5, bad, 0), Bad);
            c[$"Coordinate: height {bad}"] = (MessageType.Coordinate, Coordinate(2, 0.5, 0, bad), Bad);
        }

        return c;
    }

    /// <summary>A coordinate message of sequence 1 with <paramref name="dimensions"/> components of -0.001 and the numbers given.</summary>
    private static byte[] Coordinate(int dimensions, double error, double adjustment, double height) =>
        [.. U32(1), (byte)dimensions, .. Enumerable.Repeat(-0.001, dimensions).SelectMany(F64), .. F64(error), .. F64(adjustment), .. F64(height)];

    private static byte[] U16(int value) => [(byte)value, (byte)(value >> 8)];

    private static byte[] U32(uint value)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] U32(int value) => U32((uint)value);

    private static byte[] U64(ulong value)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] F64(double value) => U64(BitConverter.DoubleToUInt64Bits(value));

    /// <summary>A name: u8 length + UTF-8.</summary>
    private static byte[] N(string name) => [(byte)Encoding.UTF8.GetByteCount(name), .. Encoding.UTF8.GetBytes(name)];

    private static byte[] Repeat(byte[] part, int times) => [.. Enumerable.Repeat(part, times).SelectMany(x => x)];

    /// <summary>Alive "n" at 10.0.0.1:7946 with the given versions and metadata of <paramref name="meta"/> zero bytes.</summary>
    private static byte[] Alive(byte[] versions, int meta) => [.. N("n"), .. Ipv4, .. U32(1), .. U64(1), .. versions, .. U16(meta), .. new byte[meta]];

    /// <summary>A push-pull member "n" (the 30-byte minimum when <paramref name="meta"/> is 0).</summary>
    private static byte[] Member(byte state, byte[] versions, int meta) => [.. N("n"), .. Ipv4, .. U32(1), .. U64(1), state, .. versions, .. U16(meta), .. new byte[meta]];

    /// <summary>A full-digest line of the smallest size (18 bytes).</summary>
    private static byte[] DigestLine() => [.. N("o"), .. U64(1), .. U64(2)];

    private static byte[] Bloom(byte hashes, uint length, byte[] bits) => [0x04, .. N("a"), .. U64(0), .. U32(9), hashes, .. U32(2), .. U32(length), .. bits];

    private static byte[] Delta(byte[] owner) => [0, .. U16(1), .. owner];

    /// <summary>An owner header (31 bytes with a one-byte name).</summary>
    private static byte[] Owner(string name, byte flags, ulong from, ulong to, uint count) => [.. N(name), .. U64(1), flags, .. U64(from), .. U64(to), .. U32(count)];

    /// <summary>An entry (19 bytes with an empty key and value).</summary>
    private static byte[] Entry(string key, ulong version, byte kind, byte[] value) =>
        [.. U16(Encoding.UTF8.GetByteCount(key)), .. Encoding.UTF8.GetBytes(key), .. U64(version), kind, .. U32(0), .. U32(value.Length), .. value];

    /// <summary>A heartbeat entry of the smallest size (18 bytes).</summary>
    private static byte[] Heartbeat() => [.. N("h"), .. U64(1), .. U64(2)];

    private static byte[] UserEvent(ulong sequence, ulong coalesceFrom, byte[] name, byte[] payload) =>
        [.. N("o"), .. U64(1), .. U64(sequence), .. U64(5), .. U64(coalesceFrom), .. name, .. payload];

    private static byte[] EventDigest(byte hashes, byte flags, byte[] bits) => [.. U32(1), hashes, flags, .. U32(2), .. bits];

    /// <summary>A query from "a" named "q" with the given filter field (u16 length + bytes) and an empty payload; it ends in name (2) · filter · payload (2).</summary>
    private static byte[] Query(ulong id, byte[] address, uint timeout, byte[] filter) =>
        [.. N("a"), .. U64(1), .. U64(id), .. U64(2), .. address, .. U32(timeout), .. N("q"), .. filter, .. U16(0)];

    /// <summary>An aggregate from initiator "i" with the nine numbers given (flow value, holders, nodes, weight, min, max, average, count, holder count).</summary>
    private static byte[] Aggregate(byte flags, string key, double[] numbers) =>
        [flags, .. U16(Encoding.UTF8.GetByteCount(key)), .. Encoding.UTF8.GetBytes(key), .. U32(1), .. N("i"), .. U32(2), .. U32(1), .. numbers.SelectMany(F64)];
}
