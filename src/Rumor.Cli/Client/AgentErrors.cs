namespace Rumor.Cli.Client;

/// <summary>
/// Nothing answered at the agent's address: connection refused, host not found, or no answer
/// within the request timeout. Reported as one line and <see cref="ExitCodes.NoAgent"/>.
/// </summary>
internal sealed class AgentUnreachableException : Exception
{
    public AgentUnreachableException()
    {
    }

    public AgentUnreachableException(string message)
        : base(message)
    {
    }

    public AgentUnreachableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The agent answered, but with an error: its problem details' <c>detail</c> (or a description of
/// an answer that was not the API's) is the message. Reported as one line and exit 1.
/// </summary>
internal sealed class AgentErrorException : Exception
{
    public AgentErrorException()
    {
    }

    public AgentErrorException(string message)
        : base(message)
    {
    }

    public AgentErrorException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The HTTP status of the answer; 0 when the status was fine but the body was not.</summary>
    public int Status { get; init; }
}
