using System.Text;

namespace Rumor.Cli;

/// <summary>One option a command accepts. A null <see cref="ValueName"/> makes it a flag without a value.</summary>
internal sealed record OptionSpec(string Name, string? ValueName, string Help, bool Repeatable = false);

/// <summary>
/// A small GNU-style parser: <c>--name value</c> or <c>--name=value</c>, repeatable options, flags,
/// and <c>-h</c>/<c>--help</c> everywhere. It rejects what it does not know (unknown options, stray
/// arguments, a missing value, a non-repeatable option given twice) with a message naming the
/// culprit, so that a typo never silently runs a node with defaults.
/// </summary>
internal sealed class ArgParser
{
    private readonly string _command;
    private readonly string _summary;
    private readonly OptionSpec[] _specs;
    private string? _positionalSynopsis;
    private int _positionalMin;
    private int _positionalMax;

    public ArgParser(string command, string summary, params OptionSpec[] specs)
    {
        _command = command;
        _summary = summary;
        _specs = specs;
    }

    /// <summary>
    /// Positional arguments this command takes, as written in its synopsis (<c>KEY VALUE</c>), with
    /// how many it needs and allows (<see cref="int.MaxValue"/> for any number). None by default, so
    /// a stray word is an error.
    /// </summary>
    public ArgParser WithPositionals(string synopsis, int min, int max)
    {
        _positionalSynopsis = synopsis;
        _positionalMin = min;
        _positionalMax = max;
        return this;
    }

    /// <summary>Parses <paramref name="args"/>; throws <see cref="UsageException"/> on any mistake.</summary>
    public ParsedArgs Parse(IReadOnlyList<string> args)
    {
        ParsedArgs parsed = new();
        bool optionsEnded = false;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!optionsEnded && arg is "-h" or "--help")
            {
                parsed.Help = true;
                continue;
            }

            // "--" ends the options, so a value that starts with dashes can still be a positional.
            if (!optionsEnded && arg == "--" && _positionalMax > 0)
            {
                optionsEnded = true;
                continue;
            }

            if (optionsEnded || !arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                if (parsed.Positionals.Count >= _positionalMax)
                {
                    throw new UsageException($"unexpected argument '{arg}' for '{_command}'.");
                }

                parsed.Positionals.Add(arg);
                continue;
            }

            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            string name = equals < 0 ? arg[2..] : arg[2..equals];
            OptionSpec spec = Array.Find(_specs, s => s.Name == name)
                ?? throw new UsageException($"unknown option '--{name}' for '{_command}'.");
            string value;
            if (spec.ValueName is null)
            {
                if (equals >= 0)
                {
                    throw new UsageException($"option '--{name}' takes no value.");
                }

                value = "true";
            }
            else if (equals >= 0)
            {
                value = arg[(equals + 1)..];
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            else
            {
                throw new UsageException($"option '--{name}' needs a value ({spec.ValueName}).");
            }

            if (!spec.Repeatable && parsed.Has(name))
            {
                throw new UsageException($"option '--{name}' is given more than once.");
            }

            parsed.Add(name, value);
        }

        if (!parsed.Help && parsed.Positionals.Count < _positionalMin)
        {
            throw new UsageException($"missing arguments: expected {_positionalSynopsis}.");
        }

        return parsed;
    }

    /// <summary>The command's usage: a synopsis line, the summary, and one line per option.</summary>
    public string FormatUsage()
    {
        StringBuilder text = new();
        text.Append("Usage: ").Append(_command);
        if (_positionalSynopsis is not null)
        {
            text.Append(' ').Append(_positionalSynopsis);
        }

        foreach (OptionSpec spec in _specs)
        {
            text.Append(" [--").Append(spec.Name);
            if (spec.ValueName is not null)
            {
                text.Append(' ').Append(spec.ValueName);
            }

            text.Append(spec.Repeatable ? " ...]" : "]");
        }

        text.AppendLine().AppendLine().AppendLine(_summary).AppendLine().AppendLine("Options:");
        List<(string Left, string Help)> rows = [.. _specs.Select(s => ("--" + s.Name + (s.ValueName is null ? string.Empty : " " + s.ValueName), s.Help))];
        rows.Add(("-h, --help", "Show this help."));
        int width = rows.Max(r => r.Left.Length) + 2;
        foreach ((string left, string help) in rows)
        {
            text.Append("  ").Append(left.PadRight(width)).AppendLine(help);
        }

        return text.ToString();
    }
}

/// <summary>The options found on a command line, by name (without the leading dashes).</summary>
internal sealed class ParsedArgs
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);

    public bool Help { get; set; }

    /// <summary>The arguments that are not options, in order.</summary>
    public List<string> Positionals { get; } = [];

    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>The single value of <paramref name="name"/>, or null when absent.</summary>
    public string? Get(string name) => _values.TryGetValue(name, out List<string>? values) ? values[^1] : null;

    /// <summary>Every value of a repeatable option, in order.</summary>
    public IReadOnlyList<string> GetAll(string name) => _values.TryGetValue(name, out List<string>? values) ? values : [];

    public void Add(string name, string value)
    {
        if (!_values.TryGetValue(name, out List<string>? values))
        {
            values = [];
            _values.Add(name, values);
        }

        values.Add(value);
    }
}
