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
    /// refused, the host was not found, nothing answered within the request timeout, or what
    /// answered is not a Rumor agent's API (another web server, a wrong path in <c>--agent</c>).
    /// Distinct from 1 so a script can tell "no agent at that address" from "the agent said no".
    /// </summary>
    public const int NoAgent = 3;

    /// <summary>
    /// The agent answered that the thing named does not exist: no such member (<c>members show</c>,
    /// <c>force-leave</c>), key (<c>kv get</c>, <c>kv delete</c>) or aggregate (<c>aggregate show|stop</c>).
    /// Distinct from 1 so a script can test for absence (<c>rumor kv get k || ...</c> tells "not
    /// there" from "refused").
    /// </summary>
    public const int NotFound = 4;

    /// <summary>Interrupted before it finished (128 + SIGINT, the shell convention).</summary>
    public const int Interrupted = 130;
}
