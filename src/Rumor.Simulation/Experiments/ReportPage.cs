using System.Text;
using System.Text.RegularExpressions;

namespace Rumor.Simulation.Experiments;

/// <summary>
/// The generated parts of a Markdown page (docs/BENCHMARKS.md): each lies between
/// <c>&lt;!-- report:NAME:begin --&gt;</c> and <c>&lt;!-- report:NAME:end --&gt;</c>, each on a line of
/// its own; <see cref="Replace"/> swaps what is between them and leaves every other character of
/// the page as it was. A page whose markers are missing, duplicated, unpaired, nested or out of
/// order is refused rather than guessed at.
/// </summary>
public static partial class ReportPage
{
    /// <summary>The line that opens section <paramref name="name"/>.</summary>
    public static string Begin(string name) => $"<!-- report:{name}:begin -->";

    /// <summary>The line that closes section <paramref name="name"/>.</summary>
    public static string End(string name) => $"<!-- report:{name}:end -->";

    /// <summary>The names of the page's sections in page order, after checking that the markers pair up.</summary>
    /// <exception cref="FormatException">The markers do not pair up.</exception>
    public static IReadOnlyList<string> Sections(string page) => [.. Parse(page).Select(s => s.Name)];

    /// <summary>
    /// Returns <paramref name="page"/> with the text between each named section's markers replaced by
    /// its new content (the markers themselves stay). Sections of the page not named in
    /// <paramref name="contents"/> are left alone.
    /// </summary>
    /// <exception cref="FormatException">The markers do not pair up, or a named section is not in the page.</exception>
    public static string Replace(string page, IReadOnlyDictionary<string, string> contents)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(contents);
        List<Section> sections = Parse(page);
        foreach (string name in contents.Keys)
        {
            if (!sections.Any(s => s.Name == name))
            {
                throw new FormatException($"the page has no section '{name}' (expected the lines {Begin(name)} and {End(name)})");
            }
        }

        string newline = page.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        StringBuilder result = new(page.Length);
        int at = 0;
        foreach (Section section in sections)
        {
            if (!contents.TryGetValue(section.Name, out string? content))
            {
                continue;
            }

            result.Append(page, at, section.ContentStart - at);
            string body = content.ReplaceLineEndings(newline).TrimEnd('\r', '\n');
            if (body.Length > 0)
            {
                result.Append(body).Append(newline);
            }

            at = section.ContentEnd;
        }

        result.Append(page, at, page.Length - at);
        return result.ToString();
    }

    private static List<Section> Parse(string page)
    {
        ArgumentNullException.ThrowIfNull(page);
        List<Section> sections = [];
        HashSet<string> seen = new(StringComparer.Ordinal);
        string? open = null;
        int contentStart = 0;
        foreach (Match marker in MarkerPattern().Matches(page))
        {
            string name = marker.Groups["name"].Value;
            bool begin = marker.Groups["kind"].Value == "begin";
            bool ownLine = (marker.Index == 0 || page[marker.Index - 1] == '\n')
                && (marker.Index + marker.Length == page.Length || page[marker.Index + marker.Length] is '\n' or '\r');
            if (!ownLine)
            {
                throw new FormatException($"the marker {marker.Value} is not on a line of its own");
            }

            if (begin)
            {
                if (open is not null)
                {
                    throw new FormatException($"{Begin(name)} inside section '{open}' (no {End(open)} before it)");
                }

                if (!seen.Add(name))
                {
                    throw new FormatException($"section '{name}' appears twice");
                }

                open = name;
                int lineEnd = page.IndexOf('\n', marker.Index);
                contentStart = lineEnd < 0 ? page.Length : lineEnd + 1;
            }
            else
            {
                if (open != name)
                {
                    throw new FormatException(open is null ? $"{End(name)} without {Begin(name)}" : $"{End(name)} inside section '{open}'");
                }

                sections.Add(new Section(name, contentStart, marker.Index));
                open = null;
            }
        }

        if (open is not null)
        {
            throw new FormatException($"{Begin(open)} has no {End(open)}");
        }

        return sections;
    }

    [GeneratedRegex(@"<!-- report:(?<name>[a-z0-9-]+):(?<kind>begin|end) -->", RegexOptions.CultureInvariant)]
    private static partial Regex MarkerPattern();

    private readonly record struct Section(string Name, int ContentStart, int ContentEnd);
}
