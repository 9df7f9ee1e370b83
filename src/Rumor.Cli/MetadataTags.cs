using Rumor.Core.Membership;

namespace Rumor.Cli;

/// <summary>
/// Member metadata as tags: UTF-8 lines of <c>key=value</c>, one per tag, joined by '\n'. Plain
/// text so that any member (or a human with a packet dump) can read it; the core treats it as
/// opaque bytes either way. Keys are non-empty and hold neither '=' nor line breaks; values hold
/// no line breaks.
/// </summary>
internal static class MetadataTags
{
    /// <summary>Parses one <c>key=value</c> argument; throws <see cref="UsageException"/> when malformed.</summary>
    public static KeyValuePair<string, string> Parse(string text)
    {
        int equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            throw new UsageException($"'{text}' is not a tag: expected key=value (for example role=web).");
        }

        string key = text[..equals];
        string value = text[(equals + 1)..];
        if (key.AsSpan().IndexOfAny('\n', '\r') >= 0 || value.AsSpan().IndexOfAny('\n', '\r') >= 0)
        {
            throw new UsageException($"tag '{key}' contains a line break; keys and values are single lines.");
        }

        return new KeyValuePair<string, string>(key, value);
    }

    /// <summary>Encodes tags as key=value lines; a repeated or bad key is a usage error.</summary>
    public static byte[] Encode(IEnumerable<KeyValuePair<string, string>> tags)
    {
        try
        {
            return MemberTags.Encode(tags);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message.Split(" (Parameter", 2)[0]);
        }
    }

    /// <summary>Decodes key=value lines; lines without '=' are skipped (metadata from another tool).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Decode(ReadOnlySpan<byte> metadata) => MemberTags.Decode(metadata);
}
