using System.Text;

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

    /// <summary>Encodes tags as key=value lines. A repeated key is an error: which value would win is not obvious.</summary>
    public static byte[] Encode(IEnumerable<KeyValuePair<string, string>> tags)
    {
        List<string> lines = [];
        HashSet<string> keys = new(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> tag in tags)
        {
            if (!keys.Add(tag.Key))
            {
                throw new UsageException($"tag '{tag.Key}' is given more than once.");
            }

            lines.Add(tag.Key + "=" + tag.Value);
        }

        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }

    /// <summary>Decodes key=value lines; lines without '=' are skipped (metadata from another tool).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Decode(ReadOnlySpan<byte> metadata)
    {
        List<KeyValuePair<string, string>> tags = [];
        foreach (string line in Encoding.UTF8.GetString(metadata).Split('\n'))
        {
            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                tags.Add(new KeyValuePair<string, string>(line[..equals], line[(equals + 1)..]));
            }
        }

        return tags;
    }
}
