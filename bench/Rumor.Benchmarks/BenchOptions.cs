using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Rumor.Core;

namespace Rumor.Benchmarks;

/// <summary>
/// The experiments' options, typed and checked by System.CommandLine: comma lists
/// (<c>--nodes 1000,10000</c>), numbers, seeds, names from a fixed set, and durations in the one
/// grammar of every Rumor command line (<see cref="DurationText"/>: <c>10000s</c>, <c>1h</c>).
/// </summary>
internal static class BenchOptions
{
    public static Option<int> Int(string name, string description, int fallback) => new(name)
    {
        Description = description,
        HelpName = "N",
        DefaultValueFactory = _ => fallback,
    };

    public static Option<double> Double(string name, string description, double fallback) => new(name)
    {
        Description = description,
        HelpName = "X",
        DefaultValueFactory = _ => fallback,
    };

    public static Option<ulong> Seed() => new("--seed")
    {
        Description = "The seed; one seed gives one result.",
        HelpName = "S",
        DefaultValueFactory = _ => 1,
    };

    /// <summary>A comma-separated list of whole numbers; <c>none</c> is the empty list when <paramref name="allowNone"/>.</summary>
    public static Option<int[]> Ints(string name, string description, int[] fallback, bool allowNone = false) =>
        List(name, description, fallback, allowNone, text => int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture));

    /// <summary>A comma-separated list of numbers (<c>0.01,0.05</c>).</summary>
    public static Option<double[]> Doubles(string name, string description, double[] fallback) =>
        List(name, description, fallback, false, text => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));

    /// <summary>A comma-separated list of names, each one of <paramref name="known"/>.</summary>
    public static Option<string[]> Names(string name, string description, string[] known, string[]? fallback = null) =>
        List(name, description + $" ({string.Join(", ", known)})", fallback ?? known, false, text => known.Contains(text) ? text : throw new FormatException($"'{text}' is not one of {string.Join(", ", known)}"));

    /// <summary>
    /// A duration of virtual time in the <see cref="DurationText"/> grammar, positive and at most a
    /// year; null when absent (the caller's default, which the description names in the same grammar).
    /// </summary>
    public static Option<TimeSpan?> Duration(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "DURATION",
        CustomParser = result =>
        {
            if (DurationText.TryParse(result.Tokens[0].Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(365), out TimeSpan duration, out string error))
            {
                return duration;
            }

            result.AddError($"{name}: {error}.");
            return null;
        },
    };

    private static Option<T[]> List<T>(string name, string description, T[] fallback, bool allowNone, Func<string, T> parse) => new(name)
    {
        Description = description + " (comma-separated).",
        HelpName = "LIST",
        Arity = ArgumentArity.ExactlyOne,
        DefaultValueFactory = _ => fallback,
        CustomParser = result => ParseList(result, name, allowNone, parse),
    };

    private static T[] ParseList<T>(ArgumentResult result, string name, bool allowNone, Func<string, T> parse)
    {
        string text = result.Tokens[0].Value;
        if (allowNone && text == "none")
        {
            return [];
        }

        try
        {
            return [.. text.Split(',', StringSplitOptions.TrimEntries).Select(parse)];
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            result.AddError($"{name}: '{text}' is not a comma-separated list: {e.Message}");
            return [];
        }
    }
}
