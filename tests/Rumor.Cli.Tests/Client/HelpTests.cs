namespace Rumor.Cli.Tests.Client;

/// <summary>The top-level help names every command, and every command answers --help with its own usage.</summary>
public sealed class HelpTests
{
    public static readonly TheoryData<string[], string> Commands = new()
    {
        { ["agent"], "Usage: rumor agent" },
        { ["demo"], "Usage: rumor demo" },
        { ["members"], "Usage: rumor members [show NAME]" },
        { ["members", "show"], "Usage: rumor members show NAME" },
        { ["join"], "Usage: rumor join ADDR..." },
        { ["leave"], "Usage: rumor leave" },
        { ["kv"], "Usage: rumor kv <get|set|delete|list|watch>" },
        { ["kv", "get"], "Usage: rumor kv get KEY" },
        { ["kv", "set"], "Usage: rumor kv set KEY [VALUE|-]" },
        { ["kv", "delete"], "Usage: rumor kv delete KEY" },
        { ["kv", "list"], "Usage: rumor kv list" },
        { ["kv", "watch"], "Usage: rumor kv watch" },
        { ["event"], "Usage: rumor event NAME [PAYLOAD|-]" },
        { ["events"], "Usage: rumor events" },
        { ["query"], "Usage: rumor query NAME [PAYLOAD|-]" },
        { ["aggregate"], "Usage: rumor aggregate KEY" },
        { ["status"], "Usage: rumor status" },
        { ["monitor"], "Usage: rumor monitor" },
    };

    [Fact]
    public async Task Top_level_help_lists_every_command()
    {
        (int code, string output, _) = await ClientRun.RunAsync(["--help"]);

        Assert.Equal(0, code);
        string[] listed = [.. output.Split('\n').Where(l => l.StartsWith("  ", StringComparison.Ordinal)).Select(l => l.Trim().Split(' ')[0])];
        foreach (string command in Commands.Select(row => ((string[])row[0])[0]).Distinct())
        {
            Assert.Contains(command, listed);
        }
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Every_command_answers_help_with_its_usage(string[] command, string usage)
    {
        (int code, string output, string error) = await ClientRun.RunAsync([.. command, "--help"]);

        Assert.True(code == 0, error);
        Assert.StartsWith(usage, output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Every_client_command_offers_agent_and_json(string[] command, string usage)
    {
        if (command[0] is "agent" or "demo" || command is ["kv"])
        {
            return;
        }

        (_, string output, _) = await ClientRun.RunAsync([.. command, "--help"]);

        Assert.StartsWith(usage, output, StringComparison.Ordinal);
        Assert.Contains("--agent URL", output, StringComparison.Ordinal);
        Assert.Contains("--json", output, StringComparison.Ordinal);
    }
}
