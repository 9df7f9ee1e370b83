using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Rumor.Cli.Client;

/// <summary>How the client commands read durations and print ages, values and JSON.</summary>
internal static partial class Format
{
    /// <summary>
    /// A duration as people write it: <c>500ms</c>, <c>5s</c>, <c>1.5s</c>, <c>2m</c>, <c>1h</c>,
    /// or a sum like <c>1m30s</c>. A bare number is refused: seconds or milliseconds would be a guess.
    /// </summary>
    public static TimeSpan ParseDuration(string option, string text)
    {
        Match match = DurationPattern().Match(text);
        if (!match.Success)
        {
            throw new UsageException($"--{option}: '{text}' is not a duration: expected a number with a unit, like 500ms, 5s, 2m or 1h30m.");
        }

        double milliseconds = 0;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            Match piece = DurationPart().Match(part.Value);
            double number = double.Parse(piece.Groups["n"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
            milliseconds += number * piece.Groups["u"].Value switch
            {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                _ => 86_400_000,
            };
        }

        // The API carries milliseconds as integers; a week is far past any sensible wait or TTL bound we could check here.
        if (milliseconds < 1 || milliseconds > int.MaxValue)
        {
            throw new UsageException($"--{option}: '{text}' is out of range: expected between 1ms and {TimeSpan.FromMilliseconds(int.MaxValue).TotalDays:0} days.");
        }

        return TimeSpan.FromMilliseconds(Math.Round(milliseconds));
    }

    /// <summary>A span as a short age: <c>850ms</c>, <c>12s</c>, <c>3m20s</c>, <c>2h05m</c>, <c>3d04h</c>.</summary>
    public static string Age(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }

        return span.TotalSeconds < 1 ? $"{(int)span.TotalMilliseconds}ms"
            : span.TotalMinutes < 1 ? $"{(int)span.TotalSeconds}s"
            : span.TotalHours < 1 ? $"{(int)span.TotalMinutes}m{span.Seconds:00}s"
            : span.TotalDays < 1 ? $"{(int)span.TotalHours}h{span.Minutes:00}m"
            : $"{(int)span.TotalDays}d{span.Hours:00}h";
    }

    /// <summary>A number of milliseconds from the API as an age, or "-" when absent.</summary>
    public static string AgeOfMilliseconds(JsonElement element, string property) =>
        Json.Number(element, property) is { } ms ? Age(TimeSpan.FromMilliseconds(ms)) : "-";

    /// <summary>
    /// A text value for one table cell: control characters escaped (<c>\n</c>, <c>\t</c>), so one
    /// value stays on one line and the columns stay aligned.
    /// </summary>
    public static string Cell(string text)
    {
        if (!text.Any(char.IsControl))
        {
            return text;
        }

        StringBuilder escaped = new(text.Length + 8);
        foreach (char c in text)
        {
            escaped.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }

        return escaped.ToString();
    }

    /// <summary>
    /// A value or payload from the API's pair of properties (<c>value</c> / <c>valueBase64</c>):
    /// text as a cell, binary as <c>base64:…</c> so it is never mistaken for text.
    /// </summary>
    public static string Payload(JsonElement element, string name)
    {
        if (Json.Text(element, name) is { } text)
        {
            return Cell(text);
        }

        return Json.Text(element, name + "Base64") is { } base64 ? "base64:" + base64 : "-";
    }

    /// <summary>A time as local wall-clock time of day, for stream lines.</summary>
    public static string TimeOfDay(DateTimeOffset time, TimeProvider clock) =>
        TimeZoneInfo.ConvertTime(time, clock.LocalTimeZone).ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);

    /// <summary>The JSON as the API sent it, indented for people (non-ASCII text left readable).</summary>
    public static string PrettyJson(JsonElement element)
    {
        using MemoryStream buffer = new();
        using (Utf8JsonWriter writer = new(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            element.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    [GeneratedRegex(@"^(?<part>\d+(\.\d+)?(ms|s|m|h|d))+$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPattern();

    [GeneratedRegex(@"^(?<n>\d+(\.\d+)?)(?<u>ms|s|m|h|d)$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPart();
}

/// <summary>Tolerant readers for the API's JSON: a missing or differently typed property is null, never a crash.</summary>
internal static class Json
{
    public static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static double? Number(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    public static bool? Bool(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;

    public static JsonElement? Child(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null ? value : null;

    /// <summary>The items of an array property (or of the element itself when <paramref name="name"/> is null); empty when absent.</summary>
    public static IEnumerable<JsonElement> Items(JsonElement element, string? name = null)
    {
        JsonElement? array = name is null ? element : Child(element, name);
        return array is { ValueKind: JsonValueKind.Array } a ? a.EnumerateArray() : [];
    }

    /// <summary>Any JSON value as a short cell: strings bare, numbers and literals as written, objects and arrays compact.</summary>
    public static string Scalar(JsonElement? element) => element switch
    {
        null => "-",
        { ValueKind: JsonValueKind.String } e => Format.Cell(e.GetString() ?? string.Empty),
        { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => "-",
        { } e => e.GetRawText(),
    };

    /// <summary>A property of any type as a cell, "-" when absent.</summary>
    public static string Cell(JsonElement element, string name) => Scalar(Child(element, name));

    /// <summary>A time string (ISO 8601) property, or null when absent or unreadable.</summary>
    public static DateTimeOffset? Time(JsonElement element, string name) =>
        Text(element, name) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset time) ? time : null;
}
