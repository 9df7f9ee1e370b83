using Rumor.Core;
using Rumor.Core.Security;
using Rumor.Transport.Tests.Support;

namespace Rumor.Transport.Tests;

/// <summary>keyring.json: mode 0600, written atomically, checksummed, refused when corrupt, followed by the transport at start and on every change.</summary>
public sealed class KeyringFileTests : IDisposable
{
    private static readonly byte[] KeyA = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
    private static readonly byte[] KeyB = [.. Enumerable.Range(50, 16).Select(i => (byte)i)];
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rumor-keyring-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void A_saved_ring_reloads_with_mode_0600_and_a_damaged_one_is_refused()
    {
        Directory.CreateDirectory(_directory);
        string path = Path.Combine(_directory, KeyringFile.FileName);
        Assert.Null(KeyringFile.Load(path));

        // A leftover temporary file with a looser mode must not lend it to the new file.
        File.WriteAllText(path + ".tmp", "leftover");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path + ".tmp", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        using GossipKeyring ring = new([KeyB, KeyA], "prod", version: 5);
        KeyringFile.Save(path, ring);
        Assert.False(File.Exists(path + ".tmp"), "the temporary file was renamed into place");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        using (GossipKeyring loaded = KeyringFile.Load(path)!)
        {
            Assert.Equal(5ul, loaded.Version);
            Assert.Equal("prod", loaded.ClusterLabel);
            Assert.Equal([KeyB, KeyA], loaded.Keys);
        }

        string good = File.ReadAllText(path);

        // A changed version: the checksum catches it, and the message says what to do.
        File.WriteAllText(path, good.Replace("\"version\": 5", "\"version\": 6", StringComparison.Ordinal));
        KeyringFileException checksum = Assert.Throws<KeyringFileException>(() => KeyringFile.Load(path));
        Assert.Contains("checksum", checksum.Message, StringComparison.Ordinal);
        Assert.Contains("delete it", checksum.Message, StringComparison.Ordinal);

        File.WriteAllText(path, good[..(good.Length / 2)]);
        Assert.Contains("corrupt", Assert.Throws<KeyringFileException>(() => KeyringFile.Load(path)).Message, StringComparison.Ordinal);

        File.WriteAllText(path, "{ \"format\": 9 }");
        Assert.Contains("format 9", Assert.Throws<KeyringFileException>(() => KeyringFile.Load(path)).Message, StringComparison.Ordinal);

        // Atomic: a write that fails before the rename leaves the previous file whole.
        File.WriteAllText(path, good);
        File.Delete(path + ".tmp");
        Directory.CreateDirectory(path + ".tmp");
        using GossipKeyring other = new([KeyA]);
        Exception failed = Assert.ThrowsAny<Exception>(() => KeyringFile.Save(path, other));
        Assert.True(failed is IOException or UnauthorizedAccessException, failed.ToString());
        Assert.Equal(good, File.ReadAllText(path));
        Directory.Delete(path + ".tmp");
    }

    [Fact]
    public async Task The_transport_writes_the_ring_at_start_and_on_change_and_restarts_from_it()
    {
        GossipTransportSettings settings = new() { DataDirectory = _directory };
        string path = Path.Combine(_directory, KeyringFile.FileName);
        using GossipKeyring configured = new([KeyA], "loopback");
        GossipOptions options = LocalCluster.FastOptions("keyed") with { Keyring = configured };
        await using (GossipTransport first = await GossipTransport.StartAsync(options, settings))
        {
            using (GossipKeyring atStart = KeyringFile.Load(path)!)
            {
                Assert.Equal([KeyA], atStart.Keys);
            }

            Assert.Null(await first.InvokeAsync(node => node.ApplyKeyOperation(KeyOperation.Install, KeyB, 1)));
            Assert.Null(await first.InvokeAsync(node => node.ApplyKeyOperation(KeyOperation.Use, KeyB, 2)));
            using GossipKeyring changed = KeyringFile.Load(path)!;
            Assert.Equal(2ul, changed.Version);
            Assert.Equal([KeyB, KeyA], changed.Keys);
        }

        // The restart starts from the file (the rotation survives), not from the configured key.
        await using (GossipTransport second = await GossipTransport.StartAsync(options, settings))
        {
            (ulong version, int count, bool primaryIsB) = await second.InvokeAsync(node => (node.Keyring!.Version, node.Keyring!.Keys.Count, node.Keyring!.PrimaryKey.AsSpan().SequenceEqual(KeyB)));
            Assert.Equal((2ul, 2, true), (version, count, primaryIsB));
        }

        // A corrupt file stops the start with a message naming the file.
        await File.WriteAllTextAsync(path, File.ReadAllText(path).Replace("\"version\": 2", "\"version\": 3", StringComparison.Ordinal));
        KeyringFileException refused = await Assert.ThrowsAsync<KeyringFileException>(() => GossipTransport.StartAsync(options, settings));
        Assert.Contains(path, refused.Message, StringComparison.Ordinal);
        Assert.Contains("checksum", refused.Message, StringComparison.Ordinal);
    }
}
