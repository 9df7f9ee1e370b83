namespace Rumor.Core;

/// <summary>A change to a node's keyring (<c>rumor keys</c>).</summary>
public enum KeyOperation
{
    /// <summary>Install a key for decryption.</summary>
    Install,

    /// <summary>Make an installed key primary (it encrypts).</summary>
    Use,

    /// <summary>Remove a key that is not primary.</summary>
    Remove,
}

/// <summary>This node's keyring changed: a key operation, or a newer ring adopted from a push-pull (<paramref name="Cause"/>). Persist it (the transport writes keyring.json in the data directory).</summary>
public sealed record KeyringChanged(TimeSpan At, ulong Version, int KeyCount, string Cause) : GossipEvent(At);
