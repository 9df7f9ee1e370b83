namespace Rumor.Core;

// The public shapes of the replicated-state module's API (AntiEntropy/ReplicatedStateModule.cs).

/// <summary>One replicated entry as the API returns it.</summary>
public sealed record KeyValueEntry(string Owner, string Key, byte[] Value, ulong Version, TimeSpan? TimeToLive);

/// <summary>A key under a watched prefix changed (set, overwritten, deleted, expired, or gone with its owner).</summary>
public sealed record KeyChanged(TimeSpan At, long WatchId, string Owner, string Key, byte[]? OldValue, byte[]? NewValue, ulong Version) : GossipEvent(At);

/// <summary>Whether every live member reports the same state checksum as this node, since when, and who differs.</summary>
public sealed record StateConvergence(bool Converged, TimeSpan? Since, ulong Checksum, IReadOnlyList<string> Differing, IReadOnlyList<string> Unknown);
