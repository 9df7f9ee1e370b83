using Rumor.Cli.Tests.Support;

namespace Rumor.Cli.Tests;

/// <summary>The commands run in-process for what needs no sockets: help, usage errors, invalid option values.</summary>
public sealed class CommandTests
{
    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public async Task Top_level_help_lists_the_commands(string flag)
    {
        (int code, string output, _) = await RunAsync(flag);

        Assert.Equal(0, code);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
        Assert.Contains("Commands:", output, StringComparison.Ordinal);
        Assert.Contains("agent", output, StringComparison.Ordinal);
        Assert.Contains("Exit codes: 0 ok", output, StringComparison.Ordinal);
        Assert.Contains("demo", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_command_prints_usage_and_fails()
    {
        (int code, _, string error) = await RunAsync();

        Assert.Equal(2, code);
        Assert.Contains("Usage:", error, StringComparison.Ordinal);
        Assert.Contains("Commands:", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_command_is_named()
    {
        (int code, _, string error) = await RunAsync("agnet");

        Assert.Equal(2, code);
        Assert.Contains("rumor: Unrecognized command or argument 'agnet'.", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("agent", "agent [options]")]
    [InlineData("demo", "demo [options]")]
    public async Task Command_help_prints_its_options(string command, string expected)
    {
        (int code, string output, _) = await RunAsync(command, "--help");

        Assert.Equal(0, code);
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_agent_flag_fails_with_usage_exit_code()
    {
        (int code, _, string error) = await RunAsync("agent", "--bind", "127.0.0.1:0", "--frobnicate");

        Assert.Equal(2, code);
        Assert.Contains("rumor agent: unknown option '--frobnicate'.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_address_fails_with_usage_exit_code()
    {
        (int code, _, string error) = await RunAsync("agent", "--bind", "127.0.0.1");

        Assert.Equal(2, code);
        Assert.Contains("--bind: '127.0.0.1' is not an address", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_option_value_reports_the_option()
    {
        (int code, _, string error) = await RunAsync("agent", "--bind", "127.0.0.1:0", "--name", new string('x', 300));

        Assert.Equal(2, code);
        Assert.Contains("Name is 300 bytes of UTF-8", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_node_count_is_rejected()
    {
        (int code, _, string error) = await RunAsync("demo", "--nodes", "1");

        Assert.Equal(2, code);
        Assert.Contains("--nodes: '1' is not a node count", error, StringComparison.Ordinal);
    }

    private static Task<(int Code, string Output, string Error)> RunAsync(params string[] args) => InProcessCli.RunAsync(args);
}
