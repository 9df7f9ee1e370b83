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
        (PingMessage or IndirectPingMessage or AckMessage or NackMessage or SuspectMessage or DeadMessage, _) => Equals(expected, actual),
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
        _ => message.ToString() ?? string.Empty,
    };

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
