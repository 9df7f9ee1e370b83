using Rumor.Cli.Tests.Support;

namespace Rumor.Cli.Tests;

/// <summary><c>rumor vopr --describe</c> in-process: what a seed draws, without running it.</summary>
public sealed class VoprCommandTests
{
    [Fact]
    public async Task Describe_prints_each_seeds_draw_and_runs_nothing()
    {
        (int code, string output, string error) = await RunAsync("vopr", "--seeds", "7472,1905", "--describe");

        Assert.True(code == 0, error);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(3, lines.Length);

        // The failing report of seed 7472 printed this draw: 3 nodes, the φ detector, 19.6 % loss.
        Assert.StartsWith("seed 7472: 3 nodes, local", lines[0], StringComparison.Ordinal);
        Assert.Contains("PhiAccrual", lines[0], StringComparison.Ordinal);
        Assert.Contains("loss 19.6 %", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("seed 1905: ", lines[1], StringComparison.Ordinal);
        Assert.Equal("2 seeds described, none run", lines[2]);
        Assert.DoesNotContain(" ok:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("failed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Describe_takes_ten_thousand_seeds()
    {
        (int code, string output, _) = await RunAsync("vopr", "--seeds", "1-10000", "--describe");

        Assert.Equal(0, code);
        Assert.EndsWith("10000 seeds described, none run", output.TrimEnd(), StringComparison.Ordinal);
        Assert.Contains("PhiAccrual", output, StringComparison.Ordinal);
        Assert.Contains("Swim", output, StringComparison.Ordinal);
    }

    private static Task<(int Code, string Output, string Error)> RunAsync(params string[] args) => InProcessCli.RunAsync(args);
}
