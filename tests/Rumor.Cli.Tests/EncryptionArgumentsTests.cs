using System.Collections;
using Rumor.Agent;
using Rumor.Core.Security;
using Rumor.Hosting;

namespace Rumor.Cli.Tests;

/// <summary>`rumor keygen`, `rumor agent --encrypt / --keyring-file` and RUMOR_ENCRYPT (issue 12).</summary>
public sealed class EncryptionArgumentsTests
{
    [Fact]
    public async Task Keygen_prints_a_new_32_byte_key()
    {
        using StringWriter output = new();
        using StringWriter error = new();
        Assert.Equal(0, await RumorCommand.RunAsync(["keygen"], output, error, CancellationToken.None));
        Assert.Equal(32, GossipKeyring.ParseKey(output.ToString().Trim()).Length);
    }

    [Fact]
    public void Encrypt_and_a_keyring_file_make_one_keyring_with_the_flag_key_primary()
    {
        string primary = GossipKeyring.GenerateKey();
        string other = GossipKeyring.GenerateKey();
        string file = Path.Combine(Path.GetTempPath(), $"rumor-keyring-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, $"[\"{other}\"]");
        try
        {
            AgentSettings settings = AgentCommand.ParseArguments(["--encrypt", primary, "--keyring-file", file])!.Load(new Hashtable());
            using GossipKeyring keyring = ResolvedRumorOptions.Resolve(settings.Rumor).Options.Keyring!;
            Assert.Equal(2, keyring.Keys.Count);
            Assert.Equal(GossipKeyring.ParseKey(primary), keyring.PrimaryKey);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void The_environment_key_turns_encryption_on()
    {
        string key = GossipKeyring.GenerateKey();
        AgentSettings settings = AgentCommand.ParseArguments([])!.Load(new Hashtable { ["RUMOR_ENCRYPT"] = key });
        Assert.Equal(GossipKeyring.ParseKey(key), ResolvedRumorOptions.Resolve(settings.Rumor).Options.Keyring!.PrimaryKey);
    }

    [Fact]
    public void A_bad_key_is_a_usage_error() =>
        Assert.Throws<UsageException>(() => AgentCommand.ParseArguments(["--encrypt", "short"]));
}
