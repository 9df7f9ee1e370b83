using System.Text;

namespace Rumor.Client;

/// <summary>Request paths relative to the agent's base URL, with names and query values escaped.</summary>
internal static class ApiPath
{
    /// <summary>One path segment: every reserved character escaped, the slash included.</summary>
    public static string Segment(string value) => Uri.EscapeDataString(value);

    /// <summary>
    /// A key as the tail of a path: each '/'-separated part escaped, the slashes kept, because the
    /// agent routes keys with a catch-all (<c>/v1/kv/{**key}</c>) and ASP.NET Core leaves an escaped
    /// slash (<c>%2F</c>) undecoded in route values, so <c>config/db</c> must travel as
    /// <c>config/db</c>. An empty part (a leading, trailing or doubled slash) survives as it is.
    /// </summary>
    public static string Key(string key) => string.Join('/', key.Split('/').Select(Uri.EscapeDataString));

    /// <summary><paramref name="path"/> with the query parameters that have a value.</summary>
    public static string With(string path, params (string Name, string? Value)[] query)
    {
        StringBuilder text = new(path);
        char separator = '?';
        foreach ((string name, string? value) in query)
        {
            if (value is null)
            {
                continue;
            }

            text.Append(separator).Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
            separator = '&';
        }

        return text.ToString();
    }
}
