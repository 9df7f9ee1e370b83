using System.Text;

namespace Rumor.Cli.Client;

/// <summary>Request paths relative to the agent's base URL, with names and query values escaped.</summary>
internal static class ApiPath
{
    /// <summary>
    /// One path segment: every reserved character escaped, the slash included, so a key like
    /// <c>config/db</c> stays one segment (<c>config%2Fdb</c>) and cannot reach another route.
    /// </summary>
    public static string Segment(string value) => Uri.EscapeDataString(value);

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
