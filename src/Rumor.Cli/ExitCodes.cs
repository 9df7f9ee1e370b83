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

    /// <summary>
    /// A client command (<c>rumor members</c>, <c>rumor kv …</c>) found no agent: the connection was
    /// refused, the host was not found, or nothing answered within the request timeout. Distinct
    /// from 1 so a script can tell "the agent is not running" from "the agent said no".
    /// </summary>
    public const int NoAgent = 3;

    /// <summary>Interrupted before it finished (128 + SIGINT, the shell convention).</summary>
    public const int Interrupted = 130;
}
