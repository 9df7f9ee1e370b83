using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Support;

/// <summary>
/// Field-by-field equality of decoded messages. The record structs' own equality compares byte arrays
/// and lists by reference, which is not what a round trip promises; this compares them by content.
/// </summary>
internal static class MessageEquality
{
    public static bool AreEqual(object? expected, object? actual) => (expected, actual) switch
    {
        (null, null) => true,
        (AliveMessage e, AliveMessage a) => e.Name == a.Name && e.Address == a.Address && e.Incarnation == a.Incarnation
            && e.Generation == a.Generation && e.Versions == a.Versions && e.Meta.AsSpan().SequenceEqual(a.Meta),
        (PushPullMessage e, PushPullMessage a) => PushPullEqual(e, a),
        (StateDigestMessage e, StateDigestMessage a) => e.Flags == a.Flags && e.Sender == a.Sender && e.Checksum == a.Checksum
            && e.Entries.SequenceEqual(a.Entries) && BloomEqual(e.Bloom, a.Bloom),
        (StateDeltaMessage e, StateDeltaMessage a) => e.MorePending == a.MorePending && e.Owners.Count == a.Owners.Count
            && e.Owners.Zip(a.Owners).All(p => OwnerEqual(p.First, p.Second)),
        (HeartbeatsMessage e, HeartbeatsMessage a) => e.Entries.SequenceEqual(a.Entries),
        (UserEventMessage e, UserEventMessage a) => e with { Payload = [] } == a with { Payload = [] } && e.Payload.AsSpan().SequenceEqual(a.Payload),
        (EventDigestMessage e, EventDigestMessage a) => e with { Bits = [] } == a with { Bits = [] } && e.Bits.AsSpan().SequenceEqual(a.Bits),
        (QueryMessage e, QueryMessage a) => e with { Filter = [], Payload = [] } == a with { Filter = [], Payload = [] }
            && e.Filter.AsSpan().SequenceEqual(a.Filter) && e.Payload.AsSpan().SequenceEqual(a.Payload),
        (QueryResponseMessage e, QueryResponseMessage a) => e with { Payload = [] } == a with { Payload = [] } && e.Payload.AsSpan().SequenceEqual(a.Payload),
        (AggregateMessage e, AggregateMessage a) => AggregateEqual(e, a),
        (CoordinateMessage e, CoordinateMessage a) => CoordinateEqual(e, a),
        (PingMessage or IndirectPingMessage or AckMessage or NackMessage or SuspectMessage or DeadMessage or StateChecksumMessage or ViewChecksumMessage, _) => Equals(expected, actual),
        _ => false,
    };

    public static void AssertEqual(object? expected, object? actual)
    {
        Assert.True(AreEqual(expected, actual), $"expected {Describe(expected)}{Environment.NewLine}  actual {Describe(actual)}");
    }

    public static string Describe(object? message) => message switch
    {
        null => "(unknown)",
        AliveMessage m => $"{m with { Meta = [] }} meta={Convert.ToHexString(m.Meta)}",
        PushPullMessage m => $"PushPull join={m.Join} members=[{string.Join(", ", m.Members.Select(x => $"{x with { Meta = [] }} meta={Convert.ToHexString(x.Meta)}"))}] sections=[{string.Join(", ", m.Sections.Select(s => $"{s.Kind}:{Convert.ToHexString(s.Data)}"))}]",
        StateDigestMessage m => $"StateDigest {m.Flags} sender={m.Sender} checksum={m.Checksum} entries=[{string.Join(", ", m.Entries)}] bloom={(m.Bloom is { } b ? $"{b.Salt}/{b.HashCount}/{b.OwnerCount}/{Convert.ToHexString(b.Bits)}" : "none")}",
        StateDeltaMessage m => $"StateDelta more={m.MorePending} owners=[{string.Join(", ", m.Owners.Select(o => $"{o.Owner} g{o.Generation} reset={o.Reset} ({o.FromVersion},{o.ToVersion}] [{string.Join(", ", o.Entries.Select(x => $"{x with { Value = [] }} value={Convert.ToHexString(x.Value)}"))}]"))}]",
        HeartbeatsMessage m => $"Heartbeats [{string.Join(", ", m.Entries)}]",
        _ => message.ToString() ?? string.Empty,
    };

    private static bool BloomEqual(BloomDigest? e, BloomDigest? a) => (e, a) switch
    {
        (null, null) => true,
        ({ } x, { } y) => x.Salt == y.Salt && x.HashCount == y.HashCount && x.OwnerCount == y.OwnerCount && x.Bits.AsSpan().SequenceEqual(y.Bits),
        _ => false,
    };

    private static bool OwnerEqual(OwnerDelta e, OwnerDelta a) =>
        e.Owner == a.Owner && e.Generation == a.Generation && e.Reset == a.Reset && e.FromVersion == a.FromVersion && e.ToVersion == a.ToVersion
        && e.Entries.Count == a.Entries.Count
        && e.Entries.Zip(a.Entries).All(p => p.First with { Value = [] } == p.Second with { Value = [] } && p.First.Value.AsSpan().SequenceEqual(p.Second.Value));

    /// <summary>Doubles compared by their bits: a round trip keeps NaN payloads and the sign of zero.</summary>
    private static bool AggregateEqual(AggregateMessage e, AggregateMessage a) =>
        e.Flags == a.Flags && e.Key == a.Key && e.Epoch == a.Epoch && e.Initiator == a.Initiator && e.Sequence == a.Sequence && e.Ack == a.Ack
        && Bits(e.Flow.Value) == Bits(a.Flow.Value) && Bits(e.Flow.Holders) == Bits(a.Flow.Holders)
        && Bits(e.Flow.Nodes) == Bits(a.Flow.Nodes) && Bits(e.Flow.Weight) == Bits(a.Flow.Weight)
        && Bits(e.Min) == Bits(a.Min) && Bits(e.Max) == Bits(a.Max) && Bits(e.Average) == Bits(a.Average)
        && Bits(e.Count) == Bits(a.Count) && Bits(e.HolderCount) == Bits(a.HolderCount);

    /// <summary>Coordinates compared by the bits of every number.</summary>
    private static bool CoordinateEqual(CoordinateMessage e, CoordinateMessage a) =>
        e.Sequence == a.Sequence && e.Coordinate.Vec.Select(Bits).SequenceEqual(a.Coordinate.Vec.Select(Bits))
        && Bits(e.Coordinate.Error) == Bits(a.Coordinate.Error) && Bits(e.Coordinate.Adjustment) == Bits(a.Coordinate.Adjustment)
        && Bits(e.Coordinate.Height) == Bits(a.Coordinate.Height);

    private static ulong Bits(double value) => BitConverter.DoubleToUInt64Bits(value);

    private static bool PushPullEqual(PushPullMessage e, PushPullMessage a)
    {
        if (e.Join != a.Join || e.Members.Count != a.Members.Count || e.Sections.Count != a.Sections.Count)
        {
            return false;
        }

        for (int i = 0; i < e.Members.Count; i++)
        {
            PushPullMember x = e.Members[i];
            PushPullMember y = a.Members[i];
            if (x.Name != y.Name || x.Address != y.Address || x.Incarnation != y.Incarnation || x.Generation != y.Generation
                || x.State != y.State || x.Versions != y.Versions || !x.Meta.AsSpan().SequenceEqual(y.Meta))
            {
                return false;
            }
        }

        for (int i = 0; i < e.Sections.Count; i++)
        {
            if (e.Sections[i].Kind != a.Sections[i].Kind || !e.Sections[i].Data.AsSpan().SequenceEqual(a.Sections[i].Data))
            {
                return false;
            }
        }

        return true;
    }
}
