using Rumor.Core;

namespace Rumor.Transport;

/// <summary>The outcome of <see cref="GossipTransport.JoinAsync(IEnumerable{NodeAddress}, CancellationToken)"/>: one entry per seed contacted (our own address is skipped).</summary>
/// <param name="Succeeded">Seeds we exchanged full state with.</param>
/// <param name="Failed">Seeds that were unreachable, timed out or answered garbage, each with the reason.</param>
public sealed record JoinResult(IReadOnlyList<JoinSucceeded> Succeeded, IReadOnlyList<JoinFailed> Failed)
{
    /// <summary>True when at least one seed answered (or there was nobody to contact).</summary>
    public bool Joined => Succeeded.Count > 0 || Failed.Count == 0;
}
