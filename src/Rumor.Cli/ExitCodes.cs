namespace Rumor.Cli;

/// <summary>Process exit codes, so scripts can tell a usage mistake from a runtime failure.</summary>
internal static class ExitCodes
{
    /// <summary>Success (including a graceful stop on Ctrl+C or SIGTERM).</summary>
    public const int Ok = 0;

    /// <summary>Something failed at run time: address in use, no seed reachable, the demo's bound passed.</summary>
    public const int Failure = 1;

    /// <summary>The command line is wrong: unknown option, bad address, invalid option value.</summary>
    public const int Usage = 2;

    /// <summary>Interrupted before it finished (128 + SIGINT, the shell convention).</summary>
    public const int Interrupted = 130;
}
