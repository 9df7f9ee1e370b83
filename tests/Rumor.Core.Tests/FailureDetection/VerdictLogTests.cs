using Rumor.Core.FailureDetection;

namespace Rumor.Core.Tests.FailureDetection;

/// <summary>The verdict ring: grown as records come, then the newest capacity of them, oldest first.</summary>
public sealed class VerdictLogTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(17)]
    [InlineData(256)]
    public void The_ring_keeps_the_newest_records_in_order_while_it_grows_and_after_it_wraps(int capacity)
    {
        VerdictLog log = new(capacity);
        Assert.Equal(capacity, log.Capacity);
        Assert.Empty(log);
        List<VerdictRecord> model = [];
        for (int i = 0; i < capacity * 3 + 7; i++)
        {
            VerdictRecord record = Record(i);
            log.Add(record);
            model.Add(record);
            List<VerdictRecord> expected = [.. model.TakeLast(capacity)];
            Assert.Equal(expected.Count, log.Count);
            Assert.Equal(expected, log.ToList());
            Assert.Equal(expected[^1], log[log.Count - 1]);
            Assert.Equal(i + 1, log.Written);
            Assert.Equal(Math.Max(0, i + 1 - capacity), log.Overwritten);
            Assert.Equal(capacity, log.Capacity);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => log[log.Count]);
    }

    private static VerdictRecord Record(int i) =>
        new(TimeSpan.FromSeconds(i), VerdictKind.Suspect, default, $"m{i}", 1, (uint)i, "accuser", ["accuser"], 0, null, null, 0, false, []);
}
