namespace Rumor.Cli.Client;

/// <summary>One event of a <c>text/event-stream</c>: its type (<c>message</c> when unnamed) and its data lines joined by newlines.</summary>
internal sealed record ServerSentEvent(string Type, string Data, string? Id);

/// <summary>
/// The server-sent events parser of the HTML standard (§9.2.6), line by line: <c>event:</c> names
/// the type, <c>data:</c> lines accumulate (joined with newlines), <c>id:</c> is kept, a line
/// starting with a colon is a comment (keep-alives), one leading space after the colon is dropped,
/// and a blank line dispatches the event. An event with no data is not dispatched, and an event cut
/// off by the end of the stream is discarded, as the standard says.
/// </summary>
internal sealed class ServerSentEventParser
{
    private readonly System.Text.StringBuilder _data = new();
    private string? _type;
    private string? _id;
    private bool _hasData;

    /// <summary>Feeds one line (without its line ending); returns the event it completes, if any.</summary>
    public ServerSentEvent? Feed(string line)
    {
        if (line.Length == 0)
        {
            ServerSentEvent? completed = _hasData ? new ServerSentEvent(_type ?? "message", _data.ToString(), _id) : null;
            _data.Clear();
            _hasData = false;
            _type = null;
            return completed;
        }

        if (line[0] == ':')
        {
            return null;
        }

        int colon = line.IndexOf(':', StringComparison.Ordinal);
        string field = colon < 0 ? line : line[..colon];
        string value = colon < 0 ? string.Empty : line[(colon + 1)..];
        if (value.StartsWith(' '))
        {
            value = value[1..];
        }

        switch (field)
        {
            case "event":
                _type = value;
                break;
            case "data":
                if (_hasData)
                {
                    _data.Append('\n');
                }

                _data.Append(value);
                _hasData = true;
                break;
            case "id" when !value.Contains('\0', StringComparison.Ordinal):
                _id = value;
                break;
            default:
                // "retry" and unknown fields: ignored, as the standard says.
                break;
        }

        return null;
    }
}
