using System.Globalization;
using System.Text;

namespace Rumor.Agent.Streams;

/// <summary>One server-sent event, already framed (<c>event: NAME\ndata: JSON\n\n</c>): shared by every subscriber it is offered to.</summary>
internal sealed record StreamItem(byte[] Frame)
{
    public static StreamItem Create(string type, byte[] json)
    {
        // Compact JSON has no line breaks, so the data is one "data:" line.
        byte[] head = Encoding.UTF8.GetBytes("event: " + type + "\ndata: ");
        byte[] frame = new byte[head.Length + json.Length + 2];
        head.CopyTo(frame, 0);
        json.CopyTo(frame, head.Length);
        frame[^2] = (byte)'\n';
        frame[^1] = (byte)'\n';
        return new StreamItem(frame);
    }
}

/// <summary>
/// One stream client's queue: bounded in events and in bytes, dropping its oldest when either bound
/// is reached (a slow reader loses the past, never slows the hub), counting what it dropped and
/// telling the reader with a <c>dropped</c> event before the next one it reads. Disposing it
/// removes it from the hub and lets go of everything queued at once.
/// </summary>
internal sealed class StreamSubscriber : IDisposable
{
    /// <summary>The option named when the event bound was reached.</summary>
    public const string ItemsOption = "StreamQueueMax";

    /// <summary>The option named when the byte bound was reached.</summary>
    public const string BytesOption = "StreamQueueMaxBytes";

    private readonly StreamHub _hub;
    private readonly int _itemsMax;
    private readonly long _bytesMax;
    private readonly Lock _gate = new();
    private readonly Queue<StreamItem> _items = new();
    private long _bytes;
    private long _droppedUnreported;
    private string _dropReason = ItemsOption;
    private TaskCompletionSource? _signal;
    private bool _completed;
    private bool _disposed;

    public StreamSubscriber(StreamHub hub, StreamKinds kinds, string client, int itemsMax, long bytesMax)
    {
        _hub = hub;
        Kinds = kinds;
        Client = client;
        _itemsMax = itemsMax;
        _bytesMax = bytesMax;
    }

    public StreamKinds Kinds { get; }

    public string Client { get; }

    /// <summary>Events queued now (tests read it).</summary>
    public int Queued
    {
        get
        {
            lock (_gate)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>Bytes queued now.</summary>
    public long QueuedBytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Queues <paramref name="items"/> in order without waiting, dropping the oldest past either bound.</summary>
    public void Offer(params ReadOnlySpan<StreamItem> items)
    {
        TaskCompletionSource? signal;
        long dropped = 0;
        lock (_gate)
        {
            if (_completed || _disposed)
            {
                return;
            }

            foreach (StreamItem item in items)
            {
                if (item.Frame.Length > _bytesMax)
                {
                    // Larger than the whole queue: it can never be delivered within the bound.
                    dropped++;
                    _dropReason = BytesOption;
                    continue;
                }

                _items.Enqueue(item);
                _bytes += item.Frame.Length;
                while (_items.Count > _itemsMax || _bytes > _bytesMax)
                {
                    _dropReason = _items.Count > _itemsMax ? ItemsOption : BytesOption;
                    _bytes -= _items.Dequeue().Frame.Length;
                    dropped++;
                }
            }

            _droppedUnreported += dropped;
            signal = _signal;
            _signal = null;
        }

        if (dropped > 0)
        {
            _hub.CountDropped(dropped);
        }

        signal?.TrySetResult();
    }

    /// <summary>
    /// The next frame to write: a <c>dropped</c> notice first when events were lost since the last
    /// read, then the oldest queued event. Null once the hub ended the stream (the node stopped).
    /// </summary>
    public async ValueTask<byte[]?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_droppedUnreported > 0)
                {
                    long dropped = _droppedUnreported;
                    string option = _dropReason;
                    _droppedUnreported = 0;
                    _hub.LogDropped(Client, dropped, option);
                    return DroppedFrame(dropped, option);
                }

                if (_items.TryDequeue(out StreamItem? item))
                {
                    _bytes -= item.Frame.Length;
                    return item.Frame;
                }

                if (_completed || _disposed)
                {
                    return null;
                }

                _signal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _signal.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Ends the stream after what is queued (the node stopped).</summary>
    public void Complete()
    {
        TaskCompletionSource? signal;
        lock (_gate)
        {
            _completed = true;
            signal = _signal;
            _signal = null;
        }

        signal?.TrySetResult();
    }

    /// <summary>Leaves the hub and lets go of everything queued.</summary>
    public void Dispose()
    {
        _hub.Remove(this);
        TaskCompletionSource? signal;
        long unreported;
        string option;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _items.Clear();
            _bytes = 0;
            unreported = _droppedUnreported;
            option = _dropReason;
            _droppedUnreported = 0;
            signal = _signal;
            _signal = null;
        }

        if (unreported > 0)
        {
            _hub.LogDropped(Client, unreported, option);
        }

        signal?.TrySetResult();
    }

    private static byte[] DroppedFrame(long dropped, string option) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"event: dropped\ndata: {{\"dropped\":{dropped},\"option\":\"{option}\"}}\n\n"));
}
