namespace Rumor.Hosting;

/// <summary>
/// A call reached <see cref="RumorNode"/> while the node does not run: before the hosted service
/// started it, or after it stopped. A shell (the agent's HTTP API) answers it as "unavailable"
/// rather than as a fault. Derives from <see cref="InvalidOperationException"/>, what such calls threw before.
/// </summary>
public sealed class RumorNodeNotRunningException : InvalidOperationException
{
    /// <summary>Creates the exception with the default message.</summary>
    public RumorNodeNotRunningException()
        : base("The Rumor node is not running.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public RumorNodeNotRunningException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause (the transport's <see cref="ObjectDisposedException"/>).</summary>
    public RumorNodeNotRunningException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
