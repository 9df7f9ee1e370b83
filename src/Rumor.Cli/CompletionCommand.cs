using System.CommandLine;

namespace Rumor.Cli;

/// <summary>
/// <c>rumor completion bash|zsh|fish|pwsh</c>: prints a script that makes the shell complete
/// <c>rumor</c>'s commands, options and option values. Each script asks <c>rumor</c> itself,
/// through System.CommandLine's suggest directive (<c>rumor "[suggest:N]" "rumor kv s"</c>, N the
/// cursor position), so completion always matches the installed version; nothing to regenerate.
/// </summary>
internal static class CompletionCommand
{
    private static readonly Dictionary<string, string> Scripts = new(StringComparer.Ordinal)
    {
        ["bash"] = """
            # rumor tab completion for bash: eval "$(rumor completion bash)" (e.g. in ~/.bashrc)
            _rumor_complete() {
                local line="${COMP_LINE:0:COMP_POINT}"
                local IFS=$'\n'
                COMPREPLY=($(compgen -W "$(rumor "[suggest:${#line}]" "$line" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}"))
            }
            complete -o default -F _rumor_complete rumor

            """,
        ["zsh"] = """
            # rumor tab completion for zsh: eval "$(rumor completion zsh)" (e.g. in ~/.zshrc, after compinit)
            _rumor_complete() {
                local line="${words[1,CURRENT]}"
                local -a suggestions
                suggestions=("${(@f)$(rumor "[suggest:${#line}]" "$line" 2>/dev/null)}")
                compadd -a suggestions
            }
            compdef _rumor_complete rumor

            """,
        ["fish"] = """
            # rumor tab completion for fish: rumor completion fish | source (e.g. in ~/.config/fish/config.fish)
            complete -c rumor -f -a '(set -l line (commandline -cp); rumor "[suggest:"(string length -- "$line")"]" "$line" 2>/dev/null)'

            """,
        ["pwsh"] = """
            # rumor tab completion for PowerShell: rumor completion pwsh | Out-String | Invoke-Expression (e.g. in $PROFILE)
            Register-ArgumentCompleter -Native -CommandName rumor -ScriptBlock {
                param($wordToComplete, $commandAst, $cursorPosition)
                $line = $commandAst.ToString()
                $position = [Math]::Min($cursorPosition - $commandAst.Extent.StartOffset, $line.Length)
                rumor "[suggest:$position]" "$line" 2>$null | ForEach-Object {
                    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
                }
            }

            """,
    };

    /// <summary>The command for the parser, printing to <paramref name="output"/>.</summary>
    public static Command Create(TextWriter output)
    {
        Argument<string> shell = new("SHELL") { Description = "bash, zsh, fish or pwsh." };
        shell.AcceptOnlyFromAmong([.. Scripts.Keys]);
        Command command = new("completion", "Print a tab-completion script for a shell: eval \"$(rumor completion bash)\".") { shell };
        command.SetAction(async (parsed, _) =>
        {
            await output.WriteAsync(Scripts[parsed.GetValue(shell)!]).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
