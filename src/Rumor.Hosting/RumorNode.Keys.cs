using Rumor.Core;
using Rumor.Core.Events;
using Rumor.Core.Security;

namespace Rumor.Hosting;

/// <summary>
/// Live key rotation as cluster-wide operations (<c>rumor keys</c>, docs/SECURITY.md "Rotating
/// keys"): each is one key query (<see cref="KeyringQueries"/>) that every member answers by
/// changing its own keyring, which the transport then writes to the data directory. The report
/// names every member that answered, how, and who did not answer.
/// </summary>
public sealed partial class RumorNode
{
    /// <summary>How long a key operation waits for the members' answers when no timeout is given.</summary>
    public static readonly TimeSpan DefaultKeyQueryTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Lists every member's keys: each key with how many members hold it and on how many it is primary.</summary>
    public Task<KeyOperationReport> ListKeysAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        RunKeyOperationAsync(null, null, timeout, cancellationToken);

    /// <summary>Installs <paramref name="key"/> (base64) on every member: it decrypts from now on.</summary>
    /// <exception cref="ArgumentException">The key is not base64 of 16, 24 or 32 bytes.</exception>
    /// <exception cref="InvalidOperationException">Encryption is off or still migrating on this node.</exception>
    public Task<KeyOperationReport> InstallKeyAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        RunKeyOperationAsync(KeyOperation.Install, key, timeout, cancellationToken);

    /// <summary>Makes <paramref name="key"/> (base64, installed) primary on every member: it encrypts from now on.</summary>
    /// <exception cref="ArgumentException">The key is not base64 of 16, 24 or 32 bytes.</exception>
    /// <exception cref="InvalidOperationException">Encryption is off or still migrating on this node, or the key is not installed here.</exception>
    public Task<KeyOperationReport> UseKeyAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        RunKeyOperationAsync(KeyOperation.Use, key, timeout, cancellationToken);

    /// <summary>Removes <paramref name="key"/> (base64) from every member. The primary key cannot be removed.</summary>
    /// <exception cref="ArgumentException">The key is not base64 of 16, 24 or 32 bytes.</exception>
    /// <exception cref="InvalidOperationException">Encryption is off or still migrating on this node, or the key is its primary key.</exception>
    public Task<KeyOperationReport> RemoveKeyAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        RunKeyOperationAsync(KeyOperation.Remove, key, timeout, cancellationToken);

    private async Task<KeyOperationReport> RunKeyOperationAsync(KeyOperation? operation, string? keyText, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        byte[]? key = null;
        if (operation is not null)
        {
            ArgumentNullException.ThrowIfNull(keyText);
            try
            {
                key = GossipKeyring.ParseKey(keyText);
            }
            catch (FormatException e)
            {
                throw new ArgumentException(e.Message, nameof(keyText), e);
            }
        }

        (string? refusal, ulong version) = await Transport.InvokeAsync(node => CheckKeyOperation(node, operation, key), cancellationToken).ConfigureAwait(false);
        if (refusal is not null)
        {
            throw new InvalidOperationException(refusal);
        }

        string name = operation is { } op ? KeyringQueries.NameOf(op) : KeyringQueries.List;
        byte[] payload = operation is null ? [] : KeyringQueries.EncodeRequest(version + 1, key!);
        QueryResult result = await QueryAsync(name, payload, null, timeout ?? DefaultKeyQueryTimeout, cancellationToken).ConfigureAwait(false);
        return BuildReport(operation?.ToString().ToLowerInvariant() ?? "list", result);
    }

    /// <summary>On the loop: refuses what this node can tell is wrong before asking anyone; the ring version to raise from.</summary>
    private static (string? Refusal, ulong Version) CheckKeyOperation(GossipNode node, KeyOperation? operation, byte[]? key)
    {
        if (node.Keyring is not { } ring)
        {
            return ("Gossip encryption is off on this agent: start it with --encrypt KEY (or --keyring-file) to manage keys.", 0);
        }

        if (!node.VerifyIncoming || !node.EncryptOutgoing)
        {
            return ("This agent is still migrating to encryption (it accepts or sends plaintext); finish the migration before managing keys.", 0);
        }

        if (operation == KeyOperation.Remove && ring.PrimaryKey.AsSpan().SequenceEqual(key))
        {
            return ("The key is this agent's primary key and cannot be removed; make another key primary first (rumor keys use KEY).", 0);
        }

        if (operation == KeyOperation.Use && !ring.Contains(key!))
        {
            return ("The key is not installed on this agent; install it everywhere first (rumor keys install KEY).", 0);
        }

        return (null, ring.Version);
    }

    private static KeyOperationReport BuildReport(string operation, QueryResult result)
    {
        List<KeyMemberAnswer> answers = [];
        Dictionary<string, (int Members, int Primary)> holdings = new(StringComparer.Ordinal);
        foreach (QueryAnswer answer in result.Responses.OrderBy(a => a.From, StringComparer.Ordinal))
        {
            KeyAnswer decoded = KeyringQueries.DecodeAnswer(answer.Payload);
            string[] keys = [.. decoded.Keys.Select(Convert.ToBase64String)];
            for (int i = 0; i < keys.Length; i++)
            {
                (int members, int primary) = holdings.GetValueOrDefault(keys[i]);
                holdings[keys[i]] = (members + 1, primary + (i == 0 ? 1 : 0));
            }

            bool isList = string.Equals(operation, "list", StringComparison.Ordinal);
            answers.Add(new KeyMemberAnswer(answer.From, decoded.Ok, decoded.Error, isList && decoded.Ok ? decoded.RingVersion : null, keys));
        }

        KeyHolding[] held = [.. holdings
            .Select(h => new KeyHolding(h.Key, h.Value.Members, h.Value.Primary))
            .OrderByDescending(h => h.PrimaryOn)
            .ThenByDescending(h => h.Members)
            .ThenBy(h => h.Key, StringComparer.Ordinal)];
        return new KeyOperationReport(operation, result.Expected, answers, result.Missing, held);
    }
}
