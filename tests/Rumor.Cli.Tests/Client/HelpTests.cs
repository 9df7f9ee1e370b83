namespace Rumor.Cli.Tests.Client;

/// <summary>
/// The top-level help names every command, and every command answers --help with its own usage
/// (System.CommandLine's layout; the usage line starts with the program's name, which is not
/// <c>rumor</c> under the test host, so the rows give what follows it).
/// </summary>
public sealed class HelpTests
{
    public static readonly TheoryData<string[], string> Commands = new()
    {
        { ["agent"], "agent [options]" },
        { ["demo"], "demo [options]" },
        { ["members"], "members [command] [options]" },
        { ["members", "show"], "members show <NAME> [options]" },
        { ["join"], "join <ADDR>... [options]" },
        { ["leave"], "leave [options]" },
        { ["kv"], "kv [command] [options]" },
        { ["kv", "get"], "kv get <KEY> [options]" },
        { ["kv", "set"], "kv set <KEY> [<VALUE|->] [options]" },
        { ["kv", "delete"], "kv delete <KEY> [options]" },
        { ["kv", "list"], "kv list [options]" },
        { ["kv", "watch"], "kv watch [options]" },
        { ["event"], "event <NAME> [<PAYLOAD|->] [options]" },
        { ["events"], "events [options]" },
        { ["query"], "query <NAME> [<PAYLOAD|->] [options]" },
        { ["aggregate"], "aggregate [command] [options]" },
        { ["aggregate", "start"], "aggregate start <KEY> [options]" },
        { ["aggregate", "show"], "aggregate show <KEY> [options]" },
        { ["aggregate", "list"], "aggregate list [options]" },
        { ["aggregate", "stop"], "aggregate stop <KEY> [options]" },
        { ["status"], "status [options]" },
        { ["info"], "info [options]" },
        { ["tags"], "tags [command] [options]" },
        { ["tags", "set"], "tags set <KEY=VALUE>... [options]" },
        { ["tags", "delete"], "tags delete <KEY>... [options]" },
        { ["tags", "list"], "tags list [options]" },
        { ["force-leave"], "force-leave <NAME> [options]" },
        { ["monitor"], "monitor [options]" },
        { ["completion"], "completion <SHELL> [options]" },
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
        Assert.Contains("Usage:\n  ", output, StringComparison.Ordinal);
        Assert.Contains(" " + usage + "\n", output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Every_client_command_offers_agent_and_json(string[] command, string usage)
    {
        if (command[0] is "agent" or "demo" or "completion" || command is ["kv"] or ["aggregate"] or ["tags"])
        {
            return;
        }

        (_, string output, _) = await ClientRun.RunAsync([.. command, "--help"]);

        Assert.Contains(" " + usage + "\n", output, StringComparison.Ordinal);
        Assert.Contains("--agent <URL>", output, StringComparison.Ordinal);
        Assert.Contains("--json", output, StringComparison.Ordinal);
    }
}
