using System.Collections;
using Rumor.Agent;
using Rumor.Cli.Tests.Client;
using Rumor.Core;
using Rumor.Hosting;

namespace Rumor.Cli.Tests;

/// <summary>
/// The management token end to end in one process: the agent's options take it from the
/// environment, a file or the config (checked at load), and the client commands send
/// <c>--token</c> or <c>RUMOR_TOKEN</c> to a real agent on 127.0.0.1 that requires it.
/// </summary>
public sealed class TokenTests
{
    private const string Token = "cli-token-0123456789abcdef0123";
    private const string ReadToken = "cli-read-0123456789abcdef0123";

    [Fact]
    public void The_agent_takes_its_tokens_from_the_environment_or_a_file_and_checks_them()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, ReadToken + "\n");
            AgentSettings settings = AgentCommand.ParseArguments(["--read-token-file", file])!.Load(new Hashtable { ["RUMOR_TOKEN"] = Token });
            Assert.Equal(Token, settings.Api.Token);
            Assert.Equal(ReadToken, settings.Api.ReadToken);
            Assert.True(settings.Api.RequiresToken);

            AgentSettings open = AgentCommand.ParseArguments([])!.Load(new Hashtable());
            Assert.False(open.Api.RequiresToken);
            Assert.Equal(ApiSettings.DefaultRequestsPerSecond, open.Api.RequestsPerSecond);

            AgentConfigurationException shortToken = Assert.Throws<AgentConfigurationException>(() => AgentCommand.ParseArguments([])!.Load(new Hashtable { ["RUMOR_TOKEN"] = "secret" }));
            Assert.Contains("at least 16", shortToken.Message, StringComparison.Ordinal);
            AgentConfigurationException both = Assert.Throws<AgentConfigurationException>(() => AgentCommand.ParseArguments(["--token-file", file])!.Load(new Hashtable { ["RUMOR_TOKEN"] = Token }));
            Assert.Contains("Both Token and TokenFile", both.Message, StringComparison.Ordinal);
            AgentConfigurationException limit = Assert.Throws<AgentConfigurationException>(() => AgentCommand.ParseArguments([])!.Load(new Hashtable { ["RUMOR_HTTPRATELIMIT"] = "fast" }));
            Assert.Contains("HttpRateLimit", limit.Message, StringComparison.Ordinal);
            Assert.Equal(ApiSettings.DefaultBodyGraceSeconds, open.Api.BodyGraceSeconds);
            Assert.Equal(7, AgentCommand.ParseArguments([])!.Load(new Hashtable { ["RUMOR_HTTPBODYGRACESECONDS"] = "7" }).Api.BodyGraceSeconds);
            AgentConfigurationException grace = Assert.Throws<AgentConfigurationException>(() => AgentCommand.ParseArguments([])!.Load(new Hashtable { ["RUMOR_HTTPBODYGRACESECONDS"] = "0" }));
            Assert.Contains("HttpBodyGraceSeconds", grace.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Client_commands_send_the_token_from_the_flag_or_the_environment()
    {
        RumorOptions options = new() { Name = "cli-tok", Bind = "127.0.0.1:0", Preset = "local", LeaveTimeout = TimeSpan.FromSeconds(2) };
        await using RumorAgent agent = await RumorAgent.StartAsync(new AgentSettings(options, NodeAddress.Parse("127.0.0.1:0")) { Api = new ApiSettings { Token = Token, ReadToken = ReadToken } });
        string url = agent.Url.ToString();

        (int code, _, string error) = await ClientRun.RunAsync(["members", "--agent", url]);
        Assert.Equal(1, code);
        Assert.Contains("requires a token", error, StringComparison.Ordinal);

        (code, _, error) = await ClientRun.RunAsync(["kv", "set", "greeting", "hello", "--agent", url, "--token", Token]);
        Assert.True(code == 0, error);

        (code, string output, error) = await ClientRun.RunAsync(["kv", "get", "greeting", "--agent", url], variables: new() { ["RUMOR_TOKEN"] = ReadToken });
        Assert.True(code == 0, error);
        Assert.Contains("hello", output, StringComparison.Ordinal);

        // The flag wins over the environment; the read-only token cannot write.
        (code, _, error) = await ClientRun.RunAsync(["kv", "set", "greeting", "again", "--agent", url, "--token", ReadToken], variables: new() { ["RUMOR_TOKEN"] = Token });
        Assert.Equal(1, code);
        Assert.Contains("read-only token", error, StringComparison.Ordinal);

        (code, _, error) = await ClientRun.RunAsync(["members", "--agent", url, "--token", "wrong-token-0123456789abcdef"]);
        Assert.Equal(1, code);
        Assert.Contains("not valid", error, StringComparison.Ordinal);
    }
}
