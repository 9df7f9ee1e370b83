using System.CommandLine;
using System.Globalization;
using Rumor.Core;

namespace Rumor.Cli;

/// <summary>
/// Typed options shared by the commands, so every command line reads a duration and a bounded
/// count the same way and reports a bad one as a usage error naming the option.
/// </summary>
internal static class CliOptions
{
    /// <summary>
    /// A duration in the one grammar of <see cref="DurationText"/> (<c>500ms</c>, <c>1.5s</c>,
    /// <c>1h30m</c>), within [<paramref name="min"/>, <paramref name="max"/>]; null when absent.
    /// </summary>
    public static Option<TimeSpan?> Duration(string name, string description, TimeSpan min, TimeSpan max) => new(name)
    {
        Description = description,
        HelpName = "DURATION",
        CustomParser = result =>
        {
            string text = result.Tokens[0].Value;
            if (DurationText.TryParse(text, min, max, out TimeSpan duration, out string error))
            {
                return duration;
            }

            result.AddError($"{name}: {error}.");
            return null;
        },
    };

    /// <summary>A whole number within [<paramref name="min"/>, <paramref name="max"/>] (<paramref name="what"/> names it in the error); null when absent.</summary>
    public static Option<int?> Count(string name, string helpName, string description, int min, int max, string what) => new(name)
    {
        Description = description,
        HelpName = helpName,
        CustomParser = result =>
        {
            string text = result.Tokens[0].Value;
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max)
            {
                return value;
            }

            result.AddError($"{name}: '{text}' is not {what} between {min.ToString("N0", CultureInfo.InvariantCulture)} and {max.ToString("N0", CultureInfo.InvariantCulture)}.");
            return null;
        },
    };

    /// <summary>
    /// An option whose text <paramref name="parse"/> reads into a value (a plan, a strategy), or
    /// refuses by throwing <see cref="UsageException"/>, whose message becomes the parse error.
    /// </summary>
    public static Option<T> Parsed<T>(string name, string helpName, string description, Func<string, T> parse) => new(name)
    {
        Description = description,
        HelpName = helpName,
        CustomParser = result =>
        {
            try
            {
                return parse(result.Tokens[0].Value);
            }
            catch (UsageException e)
            {
                result.AddError(e.Message);
                return default!;
            }
        },
    };

    /// <summary>An option with one text value.</summary>
    public static Option<string> Text(string name, string helpName, string description) => new(name)
    {
        Description = description,
        HelpName = helpName,
    };

    /// <summary>An option that may be given several times, one value each time (<c>--tag a=1 --tag b=2</c>).</summary>
    public static Option<string[]> Repeated(string name, string helpName, string description) => new(name)
    {
        Description = description,
        HelpName = helpName,
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>A flag without a value.</summary>
    public static Option<bool> Flag(string name, string description) => new(name)
    {
        Description = description,
        Arity = ArgumentArity.Zero,
    };

    /// <summary>Offers <paramref name="values"/> to tab completion (the option still validates its own value).</summary>
    public static T Completing<T>(this T option, params string[] values)
        where T : Option
    {
        option.CompletionSources.Add(values);
        return option;
    }
}
