using System.Text;

namespace Rumor.Core.Membership;

/// <summary>
/// Member metadata as tags: UTF-8 lines of <c>key=value</c>, one per tag, joined by '\n'. Plain
/// text so that any member (or a human with a packet dump) can read it; the membership protocol
/// treats metadata as opaque bytes, and query tag filters and the agent read it through this type.
/// Keys are non-empty and hold neither '=' nor line breaks; values hold no line breaks.
/// </summary>
public static class MemberTags
{
    /// <summary>Why <paramref name="key"/> / <paramref name="value"/> cannot be a tag, or null when they can.</summary>
    public static string? Check(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (key.Length == 0)
        {
            return "a tag key is empty.";
        }

        if (key.Contains('=', StringComparison.Ordinal))
        {
            return $"tag key '{key}' contains '='.";
        }

        if (key.AsSpan().IndexOfAny('\n', '\r') >= 0 || value.AsSpan().IndexOfAny('\n', '\r') >= 0)
        {
            return $"tag '{key}' contains a line break; keys and values are single lines.";
        }

        return null;
    }

    /// <summary>Encodes tags as key=value lines. Throws <see cref="ArgumentException"/> for a bad or repeated key.</summary>
    public static byte[] Encode(IEnumerable<KeyValuePair<string, string>> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        List<string> lines = [];
        HashSet<string> keys = new(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> tag in tags)
        {
            if (Check(tag.Key, tag.Value) is { } problem)
            {
                throw new ArgumentException(problem, nameof(tags));
            }

            if (!keys.Add(tag.Key))
            {
                throw new ArgumentException($"tag '{tag.Key}' is given more than once.", nameof(tags));
            }

            lines.Add(tag.Key + "=" + tag.Value);
        }

        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }

    /// <summary>Decodes key=value lines; lines without '=' are skipped (metadata from another tool).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Decode(ReadOnlySpan<byte> metadata)
    {
        List<KeyValuePair<string, string>> tags = [];
        if (metadata.IsEmpty)
        {
            return tags;
        }

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

    /// <summary>True when every (key, value) of <paramref name="filter"/> is among the tags in <paramref name="metadata"/>.</summary>
    public static bool Matches(ReadOnlySpan<byte> metadata, IReadOnlyDictionary<string, string> filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.Count == 0)
        {
            return true;
        }

        IReadOnlyList<KeyValuePair<string, string>> tags = Decode(metadata);
        foreach (KeyValuePair<string, string> wanted in filter)
        {
            bool found = false;
            foreach (KeyValuePair<string, string> tag in tags)
            {
                if (tag.Key == wanted.Key && tag.Value == wanted.Value)
                {
                    found = true;
                    break;
                }
            }

            if (!found)
            {
                return false;
            }
        }

        return true;
    }
}
