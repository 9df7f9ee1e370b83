using Rumor.Core.Modules;
using Rumor.Core.Security;

namespace Rumor.Core;

/// <summary>
/// The public face of live key rotation on <see cref="GossipNode"/> (docs/SECURITY.md "Rotating
/// keys"), as extension members so the kernel's files stay small; the logic is in
/// <see cref="PacketSecurity"/>. Call on the node's loop only.
/// </summary>
public static class GossipNodeKeys
{
    extension(GossipNode node)
    {
        /// <summary>This node's own keyring (a copy of <see cref="GossipOptions.Keyring"/>, changed at run time); null without encryption.</summary>
        public GossipKeyring? Keyring => node.Security.Keyring;

        /// <summary>
        /// Installs, makes primary or removes <paramref name="key"/> in this node's keyring and raises
        /// its version to at least <paramref name="ringVersion"/>. Returns null on success (also when
        /// nothing had to change), else why it was refused: no encryption, an uninstalled key made
        /// primary, the primary removed, a full ring. Reports <see cref="KeyringChanged"/> on a change.
        /// </summary>
        public string? ApplyKeyOperation(KeyOperation operation, byte[] key, ulong ringVersion)
        {
            string? refused = node.Security.ApplyKeyOperation(operation, key, ringVersion, out bool changed);
            if (changed)
            {
                IModuleContext context = node;
                context.Emit(new KeyringChanged(context.Now, node.Security.Keyring!.Version, node.Security.Keyring.Count, operation.ToString().ToLowerInvariant()));
            }

            return refused;
        }
    }
}
