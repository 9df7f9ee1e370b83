using System.CommandLine;
using System.CommandLine.Parsing;

namespace Rumor.Cli;

/// <summary>
/// Usage errors, one way for every command: <c>rumor kv get: the problem</c> and a pointer to the
/// command's help on standard error, exit <see cref="ExitCodes.Usage"/>.
/// </summary>
internal static class UsageErrors
{
    /// <summary>What is wrong with the command line, or nothing.</summary>
    /// <remarks>
    /// System.CommandLine takes <c>--frobnicate</c> for a positional value when the command has
    /// one, and the next word for an option's value even when it is <c>--json</c>. The rule our
    /// commands always had is stricter, so that a typo never runs with defaults: before <c>--</c>,
    /// a word starting with <c>--</c> is an option, never a value. (<c>--name=--x</c> and
    /// <c>-- --x</c> are how to pass such a value.)
    /// </remarks>
    public static IReadOnlyList<string> Find(ParseResult result)
    {
        // The library's errors, in order, with ours in place of its "unrecognized" for a dashed word;
        // ours that it has no error for (a dashed word taken as a value) come first.
        List<string> errors = [.. result.Errors.Select(e => e.Message)];
        int unmatched = 0;
        foreach ((string word, string message) in DashedWords(result))
        {
            // The library's message for the word quotes it (in every language it speaks).
            int index = errors.FindIndex(e => e.Contains($"'{word}'", StringComparison.Ordinal));
            if (index >= 0)
            {
                errors[index] = message;
            }
            else
            {
                errors.Insert(unmatched++, message);
            }
        }

        return errors;
    }

    private static IEnumerable<(string Word, string Message)> DashedWords(ParseResult result)
    {
        foreach (Token token in result.Tokens)
        {
            if (token.Type == TokenType.DoubleDash)
            {
                break;
            }

            if (token.Type != TokenType.Argument || token.Value.Length <= 2 || !token.Value.StartsWith("--", StringComparison.Ordinal))
            {
                continue;
            }

            OptionResult? owner = OptionConsuming(result.CommandResult, token);
            yield return (token.Value, owner is null
                ? $"unknown option '{token.Value}'."
                : $"option '{owner.Option.Name}' needs a value ({owner.Option.HelpName ?? "a value"}).");
        }
    }

    /// <summary>The command's full name as typed: <c>rumor kv get</c>, whatever the executable is called.</summary>
    public static string CommandPath(ParseResult result) => string.Join(' ', ["rumor", .. CommandWords(result)]);

    /// <summary>The words that name the parsed command after <c>rumor</c>: <c>kv</c>, <c>get</c>.</summary>
    public static IReadOnlyList<string> CommandWords(ParseResult result)
    {
        List<string> names = [];
        for (SymbolResult? symbol = result.CommandResult; symbol is not null; symbol = symbol.Parent)
        {
            if (symbol is CommandResult { Command: not RootCommand } command)
            {
                names.Add(command.Command.Name);
            }
        }

        names.Reverse();
        return names;
    }

    /// <summary>Prints <paramref name="errors"/> for <paramref name="command"/> and the way to its help; returns the usage exit code.</summary>
    public static async Task<int> ReportAsync(TextWriter error, string command, IEnumerable<string> errors)
    {
        foreach (string message in errors)
        {
            await error.WriteLineAsync($"{command}: {message}").ConfigureAwait(false);
        }

        await error.WriteLineAsync($"Run '{command} --help' for usage.").ConfigureAwait(false);
        return ExitCodes.Usage;
    }

    private static OptionResult? OptionConsuming(CommandResult command, Token token)
    {
        for (SymbolResult? symbol = command; symbol is not null; symbol = symbol.Parent)
        {
            if (symbol is CommandResult c)
            {
                foreach (OptionResult option in c.Children.OfType<OptionResult>())
                {
                    if (option.Tokens.Any(t => ReferenceEquals(t, token)))
                    {
                        return option;
                    }
                }
            }
        }

        return null;
    }
}
