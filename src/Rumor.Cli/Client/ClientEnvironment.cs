namespace Rumor.Cli.Client;

/// <summary>
/// What the client commands take from the process around them: environment variables, standard
/// input, the clock and the per-request time limit. One record, so tests can run a command
/// in-process with their own stdin, variables and clock instead of the real ones.
/// </summary>
internal sealed record ClientEnvironment(
    Func<string, string?> GetVariable,
    Func<Stream> OpenStandardInput,
    TimeSpan RequestTimeout,
    TimeProvider Time,
    Func<int?>? TerminalWidth = null)
{
    /// <summary>The width tables are fitted to when neither <c>COLUMNS</c> nor a terminal says: what a default terminal shows.</summary>
    public const int DefaultColumns = 100;

    /// <summary>
    /// The columns a table may use: <c>COLUMNS</c> when it holds a positive number (shells set it;
    /// <c>COLUMNS=200 rumor kv list</c> widens one run), else the terminal's width when standard
    /// output is one, else <see cref="DefaultColumns"/>.
    /// </summary>
    public int Columns =>
        int.TryParse(GetVariable("COLUMNS"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int columns) && columns > 0 ? columns
        : TerminalWidth?.Invoke() is > 0 and int terminal ? terminal
        : DefaultColumns;

    /// <summary>
    /// How long one request may take before the agent counts as not answering: long enough for a
    /// busy agent on a loaded machine, short enough that a script never hangs on a dead one.
    /// Commands that wait on purpose (leave, query) add their own wait to it.
    /// </summary>
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The real process: its environment, its stdin, the system clock.</summary>
    public static ClientEnvironment Default { get; } = new(
        Environment.GetEnvironmentVariable,
        Console.OpenStandardInput,
        DefaultRequestTimeout,
        TimeProvider.System,
        ConsoleWidth);

    /// <summary>The console's width when standard output is a terminal; null when it is redirected or has no width.</summary>
    private static int? ConsoleWidth()
    {
        try
        {
            return Console.IsOutputRedirected ? null : Console.WindowWidth;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
