using System.CommandLine;
using Rumor.Core.Security;

namespace Rumor.Cli;

/// <summary>
/// <c>rumor keygen</c>: prints a new random 32-byte gossip encryption key in base64 (from the OS's
/// cryptographic generator), for <c>rumor agent --encrypt</c>, <c>RUMOR_ENCRYPT</c> or a keyring file.
/// </summary>
internal static class KeygenCommand
{
    /// <summary>The command for the parser, writing to <paramref name="output"/>.</summary>
    public static Command Create(TextWriter output)
    {
        Command command = new("keygen", "Prints a new random gossip encryption key (base64 of 32 bytes, AES-256) for `rumor agent --encrypt KEY`.");
        command.SetAction(async (_, cancellationToken) =>
        {
            await output.WriteLineAsync(GossipKeyring.GenerateKey().AsMemory(), cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
