namespace Rumor.Cli;

/// <summary>The command line is wrong (unknown option, missing or malformed value): report it with usage and exit 2.</summary>
internal sealed class UsageException : Exception
{
    public UsageException()
    {
    }

    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
