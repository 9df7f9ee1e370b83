using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Rumor.Cli.Client;

/// <summary>How the client commands print ages, values and JSON (durations are read by the parser: <see cref="CliOptions.Duration"/>).</summary>
internal static class Format
{
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
