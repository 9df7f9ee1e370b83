using Rumor.Transport;

namespace Rumor.Cli.Tests;

public sealed class AgentIdentityErrorTests
{
    // Found by deploy/kubernetes/check-manifests.sh: an identity file of another member was
    // reported as "the HTTP address ... cannot be bound" (IdentityFileException is an IOException,
    // and the HTTP address's catch came first), exit 1 instead of the usage error 2.
    [Fact]
    public async Task An_identity_file_of_another_member_is_reported_as_such()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"rumor-identity-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            IdentityFile.Save(Path.Combine(directory, "identity.json"), new PersistedIdentity("someone-else", 1, 1));
            using StringWriter output = new();
            using StringWriter error = new();
            using CancellationTokenSource stop = new(TimeSpan.FromSeconds(60));
            int code = await RumorCommand.RunAsync(["agent", "--name", "me", "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0", "--data-dir", directory], output, error, stop.Token);
            Assert.Equal(ExitCodes.Usage, code);
            Assert.Contains("someone-else", error.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("HTTP address", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    // Issue 13: '--data-dir /proc/nope' was reported as "the HTTP address cannot be bound".
    [Fact]
    public async Task A_data_directory_that_cannot_be_created_is_blamed_not_the_HTTP_address()
    {
        using StringWriter output = new();
        using StringWriter error = new();
        using CancellationTokenSource stop = new(TimeSpan.FromSeconds(60));

        int code = await RumorCommand.RunAsync(["agent", "--name", "me", "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0", "--data-dir", "/proc/nope"], output, error, stop.Token);

        Assert.Equal(ExitCodes.Failure, code);
        Assert.StartsWith("rumor agent: the data directory /proc/nope cannot be used: ", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("HTTP address", error.ToString(), StringComparison.Ordinal);
    }
}
