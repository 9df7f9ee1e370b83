using Rumor.Core;
using Rumor.Transport.Tests.Support;

namespace Rumor.Transport.Tests;

/// <summary>The identity state file: written before the node speaks, reloaded on restart, refused when corrupt.</summary>
public sealed class IdentityFileTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rumor-identity-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void A_saved_identity_reloads_and_a_damaged_one_is_refused()
    {
        Directory.CreateDirectory(_directory);
        string path = Path.Combine(_directory, IdentityFile.FileName);
        Assert.Null(IdentityFile.Load(path));

        IdentityFile.Save(path, new PersistedIdentity("web-1", 1_700_000_000_000, 41));
        Assert.Equal(new PersistedIdentity("web-1", 1_700_000_000_000, 41), IdentityFile.Load(path));
        Assert.False(File.Exists(path + ".tmp"), "the temporary file was renamed into place");

        // One changed digit: the checksum catches it.
        File.WriteAllText(path, File.ReadAllText(path).Replace("41", "42", StringComparison.Ordinal));
        IdentityFileException checksum = Assert.Throws<IdentityFileException>(() => IdentityFile.Load(path));
        Assert.Contains("checksum", checksum.Message, StringComparison.Ordinal);

        File.WriteAllText(path, "{ \"version\": 1, \"name\": ");
        IdentityFileException torn = Assert.Throws<IdentityFileException>(() => IdentityFile.Load(path));
        Assert.Contains("corrupt", torn.Message, StringComparison.Ordinal);

        File.WriteAllText(path, "{ \"version\": 9 }");
        Assert.Contains("version 9", Assert.Throws<IdentityFileException>(() => IdentityFile.Load(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_restart_with_the_same_name_outranks_its_previous_run()
    {
        GossipTransportSettings settings = new() { DataDirectory = _directory };
        GossipOptions options = LocalCluster.FastOptions("persisted");
        ulong firstGeneration;
        uint raisedIncarnation;
        await using (GossipTransport first = await GossipTransport.StartAsync(options, settings))
        {
            firstGeneration = first.Options.Generation;
            Assert.Equal(new PersistedIdentity("persisted", firstGeneration, 0), IdentityFile.Load(Path.Combine(_directory, IdentityFile.FileName)));

            // A metadata change raises the incarnation; the file follows before the news is sent.
            await first.UpdateMetadataAsync([1, 2, 3]);
            raisedIncarnation = await first.InvokeAsync(node => node.Self.Incarnation);
            Assert.Equal(1u, raisedIncarnation);
            Assert.Equal(raisedIncarnation, IdentityFile.Load(Path.Combine(_directory, IdentityFile.FileName))!.Incarnation);
        }

        await using (GossipTransport second = await GossipTransport.StartAsync(options, settings))
        {
            Assert.True(second.Options.Generation > firstGeneration);
            uint incarnation = await second.InvokeAsync(node => node.Self.Incarnation);
            Assert.Equal(raisedIncarnation + 1, incarnation);
        }

        // Another name in the same directory is a clear error, not a silent takeover.
        IdentityFileException mismatch = await Assert.ThrowsAsync<IdentityFileException>(() => GossipTransport.StartAsync(LocalCluster.FastOptions("other"), settings));
        Assert.Contains("belongs to 'persisted'", mismatch.Message, StringComparison.Ordinal);

        // Corrupt: refused, unless the operator says to reset.
        await File.WriteAllTextAsync(Path.Combine(_directory, IdentityFile.FileName), "garbage");
        await Assert.ThrowsAsync<IdentityFileException>(() => GossipTransport.StartAsync(options, settings));
        await using GossipTransport reset = await GossipTransport.StartAsync(options, settings with { ResetInvalidIdentity = true });
        Assert.Equal(0u, await reset.InvokeAsync(node => node.Self.Incarnation));
        Assert.Equal("persisted", IdentityFile.Load(Path.Combine(_directory, IdentityFile.FileName))!.Name);
    }
}
