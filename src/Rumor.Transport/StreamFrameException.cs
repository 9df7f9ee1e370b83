namespace Rumor.Transport;

/// <summary>A stream frame that breaks the framing rules (see <see cref="StreamFraming"/>).</summary>
internal sealed class StreamFrameException : IOException
{
    public StreamFrameException()
    {
    }

    public StreamFrameException(string message)
        : base(message)
    {
    }

    public StreamFrameException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
