namespace Rumor.Core.Tests;

public sealed class DurationTextTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("5s", 5_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("1d", 86_400_000)]
    [InlineData("1m30s250ms", 90_250)]
    public void Reads_the_grammar(string text, long milliseconds)
    {
        Assert.True(DurationText.TryParse(text, out TimeSpan duration, out string error), error);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("s")]
    [InlineData("5x")]
    [InlineData("5 s")]
    [InlineData("-5s")]
    [InlineData("1..5s")]
    [InlineData("99999999999999999d")]
    public void Refuses_what_is_not_a_duration(string text)
    {
        Assert.False(DurationText.TryParse(text, out _, out string error));
        Assert.Contains(text, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Bounds_name_the_range()
    {
        Assert.False(DurationText.TryParse("2h", TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1), out _, out string error));
        Assert.Contains("between 1ms and 1h", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(500, "500ms")]
    [InlineData(1_500, "1.5s")]
    [InlineData(5_400_000, "1h30m")]
    [InlineData(90_000, "1m30s")]
    [InlineData(0, "0s")]
    public void Formats_round_trip(long milliseconds, string text)
    {
        TimeSpan duration = TimeSpan.FromMilliseconds(milliseconds);
        Assert.Equal(text, DurationText.Format(duration));
        Assert.True(DurationText.TryParse(text, out TimeSpan back, out _));
        Assert.Equal(duration, back);
    }
}
