using System.Globalization;
using System.Text;
using Rumor.Core;
using Rumor.Core.Events;

namespace Rumor.Hosting;

/// <summary>
/// The queries every hosted node answers by itself (on its loop, through
/// <c>GossipNode.QueryResponder</c>), so that <c>rumor query</c> is useful without writing a
/// handler: <c>rumor.ping</c> answers the member's name; <c>rumor.kv</c> takes a key as payload and
/// answers this member's own value of it (empty when it has none); <c>rumor.status</c> answers one
/// line of name, members known and local health; <c>rumor.tags</c> answers the member's tags as
/// key=value lines. Other names get no automatic answer: the asker sees those members as missing.
/// </summary>
public static class BuiltInQueries
{
    /// <summary>The names answered, for documentation and help texts.</summary>
    public static readonly IReadOnlyList<string> Names = ["rumor.ping", "rumor.kv", "rumor.status", "rumor.tags"];

    /// <summary>A responder for <paramref name="node"/>; called only on the node's loop.</summary>
    public static Func<QueryRequest, byte[]?> Create(GossipNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return request => request.Name switch
        {
            "rumor.ping" => Encoding.UTF8.GetBytes(node.Name),
            "rumor.kv" => node.GetValue(node.Name, Encoding.UTF8.GetString(request.Payload)) is { } entry ? entry.Value : [],
            "rumor.status" => Encoding.UTF8.GetBytes(string.Create(
                CultureInfo.InvariantCulture,
                $"{node.Name} members={node.ActiveMemberCount} health={node.LocalHealthScore}")),
            "rumor.tags" => (byte[])node.Self.Metadata.Clone(),
            _ => Core.Security.KeyringQueries.TryAnswer(node, request), // rumor keys (RumorNode.Keys.cs)
        };
    }
}
