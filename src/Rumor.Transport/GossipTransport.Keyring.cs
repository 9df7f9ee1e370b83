using Rumor.Core;
using Rumor.Core.Security;

namespace Rumor.Transport;

/// <summary>The keyring kept in the data directory (<see cref="KeyringFile"/>): read at start, written at start and on every change.</summary>
public sealed partial class GossipTransport
{
    /// <summary>
    /// With a keyring file in the data directory, the node starts from it (it holds the latest
    /// rotation; the configured label still applies), else from the configured ring; either is then
    /// written back, so the file exists from the first start. A corrupt file stops the start with
    /// <see cref="KeyringFileException"/>: guessing a ring would lock the member out or, worse,
    /// trust a ring someone edited.
    /// </summary>
    private static GossipOptions RestoreKeyring(GossipOptions options, string directory)
    {
        string path = Path.Combine(directory, KeyringFile.FileName);
        GossipKeyring? stored = KeyringFile.Load(path);
        GossipKeyring? keyring = options.Keyring;
        if (stored is not null)
        {
            keyring = keyring is not null && !string.Equals(keyring.ClusterLabel, stored.ClusterLabel, StringComparison.Ordinal)
                ? new GossipKeyring(stored.Keys, keyring.ClusterLabel, stored.Version)
                : stored;
        }

        if (keyring is not null)
        {
            KeyringFile.Save(path, keyring);
        }

        return options with { Keyring = keyring };
    }

    /// <summary>On the loop, when the node's keyring changed: write it (a failure is counted; the ring in memory goes on).</summary>
    private void PersistKeyring()
    {
        if (_keyringPath is null || _node.Keyring is not { } keyring)
        {
            return;
        }

        try
        {
            KeyringFile.Save(_keyringPath, keyring);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _counters.IdentityWriteError();
            _lastLoopFault = e;
        }
    }
}
