using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Rumor.Client;

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
    public static string AgeOfMilliseconds(long? milliseconds) =>
        milliseconds is { } ms ? Age(TimeSpan.FromMilliseconds(ms)) : "-";

    /// <summary>An enum of the API as the API writes it (<c>alive</c>, <c>ownProbe</c>).</summary>
    public static string Name<TEnum>(TEnum value)
        where TEnum : struct, Enum => JsonNamingPolicy.CamelCase.ConvertName(value.ToString());

    /// <summary>A value of the API as a cell: text as written, "-" when absent.</summary>
    public static string Cell(object? value) => value switch
    {
        null => "-",
        string text => Cell(text),
        bool flag => flag ? "true" : "false",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => Cell(value.ToString() ?? "-"),
    };

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
    public static string Payload(string? text, string? base64) =>
        text is not null ? Cell(text) : base64 is not null ? "base64:" + base64 : "-";

    /// <summary>A time as local wall-clock time of day, for stream lines.</summary>
    public static string TimeOfDay(DateTimeOffset time, TimeProvider clock) =>
        TimeZoneInfo.ConvertTime(time, clock.LocalTimeZone).ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);

    /// <summary>
    /// A model of the API as indented JSON for people (<c>--json</c>), written through the shared
    /// source-generated metadata (non-ASCII text left readable).
    /// </summary>
    public static string PrettyJson<T>(T value) => JsonSerializer.Serialize(value, (JsonTypeInfo<T>)PrettyOptions.GetTypeInfo(typeof(T)));

    /// <summary>A model of the API as one compact line of JSON (stream events with <c>--json</c>).</summary>
    public static string CompactJson<T>(T value) => JsonSerializer.Serialize(value, (JsonTypeInfo<T>)RumorJsonContext.Default.Options.GetTypeInfo(typeof(T)));

    private static readonly JsonSerializerOptions PrettyOptions = new(RumorJsonContext.Default.Options)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
