using Rumor.Core;
using Rumor.Core.Events;
using Rumor.Core.Membership;

namespace Rumor.Hosting;

// What an operator does to a running node besides joining and leaving: answer a query from
// outside the loop (event handlers), change its own tags, and force a failed member out.
public sealed partial class RumorNode
{
    /// <summary>
    /// Answers a query this node received (a <see cref="QueryReceived"/> event), from outside the
    /// loop: an event handler's output. False when it was answered already or its deadline passed.
    /// Throws <see cref="ArgumentException"/> past QueryResponseMaxBytes.
    /// </summary>
    public Task<bool> RespondToQueryAsync(QueryRequest request, byte[] payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(payload);
        if (payload.Length > GossipOptions.QueryResponseMaxBytes)
        {
            throw new ArgumentException($"The answer is {payload.Length} bytes; QueryResponseMaxBytes allows {GossipOptions.QueryResponseMaxBytes}.", nameof(payload));
        }

        byte[] copy = payload.ToArray();
        return Transport.InvokeAsync((node, now) => node.RespondToQuery(request, copy, now), cancellationToken);
    }

    /// <summary>This node's own tags as the cluster sees them now.</summary>
    public Task<IReadOnlyDictionary<string, string>> GetTagsAsync(CancellationToken cancellationToken = default) =>
        Transport.InvokeAsync<IReadOnlyDictionary<string, string>>(
            node => new SortedDictionary<string, string>(MemberTags.Decode(node.Self.Metadata).ToDictionary(StringComparer.Ordinal), StringComparer.Ordinal),
            cancellationToken);

    /// <summary>
    /// Sets <paramref name="set"/> and removes <paramref name="delete"/> from this node's tags and
    /// spreads the change (a metadata update: a higher incarnation). Returns the tags after the change.
    /// Throws <see cref="ArgumentException"/> for a tag the encoding refuses or past MetadataMaxBytes.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> UpdateTagsAsync(IReadOnlyDictionary<string, string> set, IReadOnlyCollection<string> delete, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(delete);
        return await Transport.InvokeAsync<IReadOnlyDictionary<string, string>>(
            (node, now) =>
            {
                SortedDictionary<string, string> tags = new(MemberTags.Decode(node.Self.Metadata).ToDictionary(StringComparer.Ordinal), StringComparer.Ordinal);
                foreach (string key in delete)
                {
                    tags.Remove(key);
                }

                foreach (KeyValuePair<string, string> tag in set)
                {
                    tags[tag.Key] = tag.Value;
                }

                byte[] metadata = MemberTags.Encode(tags);
                if (!metadata.AsSpan().SequenceEqual(node.Self.Metadata))
                {
                    node.UpdateMetadata(metadata, now);
                }

                return tags;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Forces a failed (dead or suspected) member into the left state, so it stops being probed
    /// and counted; a live member is not touched (it should leave by itself). Returns the member's
    /// state afterwards, or null when no member has that name.
    /// </summary>
    public Task<MemberState?> ForceLeaveAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Transport.InvokeAsync<MemberState?>(
            (node, now) =>
            {
                node.ForceLeave(name, now);
                return node.FindMember(name)?.State;
            },
            cancellationToken);
    }
}
