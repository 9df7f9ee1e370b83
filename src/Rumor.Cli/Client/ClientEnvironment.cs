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
    TimeProvider Time)
{
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
        TimeProvider.System);
}
