using Rumor.Cli.Client;

namespace Rumor.Cli.Tests.Client;

public sealed class FormatTests
{
    [Theory]
    [InlineData(0, "0ms")]
    [InlineData(999, "999ms")]
    [InlineData(59_999, "59s")]
    [InlineData(65_000, "1m05s")]
    [InlineData(3_723_000, "1h02m")]
    [InlineData(97_200_000, "1d03h")]
    public void Ages_are_short(long milliseconds, string expected)
    {
        Assert.Equal(expected, Format.Age(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Fact]
    public void Cells_keep_one_value_on_one_line()
    {
        Assert.Equal("a\\nb\\tc\\u0001", Format.Cell("a\nb\tc\u0001"));
    }

    [Theory]
    [InlineData("127.0.0.1:7373", "http://127.0.0.1:7373/")]
    [InlineData("http://10.0.0.5:8000", "http://10.0.0.5:8000/")]
    [InlineData("https://agent.example/rumor", "https://agent.example/rumor/")]
    public void Agent_addresses_accept_urls_and_host_port(string text, string expected)
    {
        Assert.Equal(expected, ClientCommand.ParseAddress(text).AbsoluteUri);
    }
}
