using System.Globalization;

namespace Rumor.Core;

/// <summary>
/// The one duration grammar of every Rumor command line and configuration text: a sum of numbers
/// with units, as people write them: <c>500ms</c>, <c>5s</c>, <c>1.5s</c>, <c>2m</c>, <c>1h</c>,
/// <c>1d</c>, <c>1h30m</c>. A bare number is refused (seconds or milliseconds would be a guess).
/// Hand-written because TimeSpan's own formats (<c>00:00:05</c>) are not what an operator types and
/// no library in reach parses this Go-style grammar.
/// </summary>
public static class DurationText
{
    /// <summary>Reads <paramref name="text"/>; on failure <paramref name="error"/> says what was expected.</summary>
    public static bool TryParse(string? text, out TimeSpan duration, out string error)
    {
        duration = TimeSpan.Zero;
        error = $"'{text}' is not a duration: expected a number with a unit (ms, s, m, h, d), like 500ms, 5s, 2m or 1h30m";
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        ReadOnlySpan<char> rest = text.AsSpan().Trim();
        decimal ticks = 0;
        while (!rest.IsEmpty)
        {
            int digits = 0;
            while (digits < rest.Length && (char.IsAsciiDigit(rest[digits]) || rest[digits] == '.'))
            {
                digits++;
            }

            if (digits == 0 || !decimal.TryParse(rest[..digits], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal number))
            {
                return false;
            }

            rest = rest[digits..];
            int unitLength = 0;
            while (unitLength < rest.Length && char.IsAsciiLetterLower(rest[unitLength]))
            {
                unitLength++;
            }

            decimal unitTicks = rest[..unitLength] switch
            {
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                "d" => TimeSpan.TicksPerDay,
                _ => 0,
            };
            if (unitTicks == 0)
            {
                return false;
            }

            rest = rest[unitLength..];
            if (number > (TimeSpan.MaxValue.Ticks - ticks) / unitTicks)
            {
                error = $"'{text}' is too long a duration";
                return false;
            }

            ticks += number * unitTicks;
            if (ticks > TimeSpan.MaxValue.Ticks)
            {
                error = $"'{text}' is too long a duration";
                return false;
            }
        }

        duration = TimeSpan.FromTicks((long)decimal.Round(ticks));
        error = string.Empty;
        return true;
    }

    /// <summary>Reads a duration that must lie in [<paramref name="min"/>, <paramref name="max"/>]; the error names the bounds.</summary>
    public static bool TryParse(string? text, TimeSpan min, TimeSpan max, out TimeSpan duration, out string error)
    {
        if (!TryParse(text, out duration, out error))
        {
            return false;
        }

        if (duration < min || duration > max)
        {
            error = $"'{text}' is out of range: expected between {Format(min)} and {Format(max)}";
            return false;
        }

        return true;
    }

    /// <summary>A duration in the same grammar, shortest exact form: <c>500ms</c>, <c>5s</c>, <c>1h30m</c>, <c>1.5ms</c>.</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration == TimeSpan.Zero)
        {
            return "0s";
        }

        string sign = duration < TimeSpan.Zero ? "-" : string.Empty;
        long ticks = Math.Abs(duration.Ticks);
        var parts = new System.Text.StringBuilder(sign);
        foreach ((long unit, string name) in new[] { (TimeSpan.TicksPerDay, "d"), (TimeSpan.TicksPerHour, "h"), (TimeSpan.TicksPerMinute, "m"), (TimeSpan.TicksPerSecond, "s") })
        {
            if (ticks >= unit)
            {
                long whole = ticks / unit;
                ticks -= whole * unit;
                if (unit == TimeSpan.TicksPerSecond && ticks % TimeSpan.TicksPerMillisecond == 0 && ticks > 0 && whole < 60)
                {
                    // 1.5s rather than 1s500ms.
                    parts.Append((((whole * TimeSpan.TicksPerSecond) + ticks) / (decimal)TimeSpan.TicksPerSecond).ToString(CultureInfo.InvariantCulture)).Append(name);
                    return parts.ToString();
                }

                parts.Append(whole.ToString(CultureInfo.InvariantCulture)).Append(name);
            }
        }

        if (ticks > 0)
        {
            parts.Append((ticks / (decimal)TimeSpan.TicksPerMillisecond).ToString(CultureInfo.InvariantCulture)).Append("ms");
        }

        return parts.ToString();
    }
}
