using Rumor.Core.FailureDetection;

namespace Rumor.Core.Tests.FailureDetection;

/// <summary>The packed, lazily grown probe ring keeps the last records, oldest first, exactly.</summary>
public sealed class ProbeHistoryTests
{
    private static ProbeRecord Record(int i) => new(
        TimeSpan.FromMilliseconds(1000 * i + 1),
        (ProbeOutcome)(i % 4),
        i % 3 == 0 ? null : TimeSpan.FromTicks(1234 + i),
        (byte)(i % 5),
        (byte)(i % 2));

    [Theory]
    [InlineData(1, 5)]
    [InlineData(3, 2)]
    [InlineData(3, 3)]
    [InlineData(3, 10)]
    [InlineData(8, 4)]
    [InlineData(8, 8)]
    [InlineData(8, 21)]
    public void Keeps_the_last_records_in_order(int capacity, int added)
    {
        ProbeHistory history = new(capacity);
        for (int i = 0; i < added; i++)
        {
            history.Add(Record(i));
        }

        ProbeRecord[] expected = [.. Enumerable.Range(Math.Max(0, added - capacity), Math.Min(added, capacity)).Select(Record)];
        Assert.Equal(expected, history.ToArray());
    }
}
