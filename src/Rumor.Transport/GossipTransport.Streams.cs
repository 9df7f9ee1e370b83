using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Rumor.Core;

namespace Rumor.Transport;

/// <summary>
/// Streams over TCP, one exchange per connection (framing in <see cref="StreamFraming"/>).
/// Outgoing: the node calls OpenStream; a task connects, sends the request, reads the one reply
/// and posts it (or the failure, in words) back to the loop, all within StreamTimeout. Incoming:
/// the accept loop hands each connection to a task that reads the request within StreamTimeout,
/// posts it to the loop, and writes whatever reply the node gave during OnStreamRequest, then
/// closes. At most StreamsMax streams run in each direction; the rest are refused and counted.
/// </summary>
public sealed partial class GossipTransport
{
    private readonly ConcurrentDictionary<Task, bool> _tasks = new();
    private StreamRequestWork? _currentRequest;
    private long _nextIncomingStreamId;
    private int _outgoingStreams;
    private int _incomingStreams;

    /// <summary>Keeps <paramref name="task"/> until it ends, so that dispose can wait for it.</summary>
    private void Track(Task task)
    {
        _tasks.TryAdd(task, true);
        _ = task.ContinueWith(static (done, state) => ((ConcurrentDictionary<Task, bool>)state!).TryRemove(done, out _), _tasks, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void OpenStream(long streamId, NodeAddress to, ReadOnlySpan<byte> request)
    {
        if (Interlocked.Increment(ref _outgoingStreams) > _settings.StreamsMax)
        {
            Interlocked.Decrement(ref _outgoingStreams);
            _counters.StreamRefused();
            Post(new StreamResultWork(streamId, null, $"more than {_settings.StreamsMax} streams are open"), droppable: false);
            return;
        }

        byte[] frame = StreamFraming.Frame(request);
        Track(Task.Run(() => ExchangeAsync(streamId, to, frame)));
    }

    private async Task ExchangeAsync(long streamId, NodeAddress to, byte[] requestFrame)
    {
        string failure;
        try
        {
            using CancellationTokenSource deadline = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
            deadline.CancelAfter(_options.StreamTimeout);
            try
            {
                IPEndPoint endPoint = to.ToIPEndPoint();
                using Socket socket = new(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(endPoint, deadline.Token).ConfigureAwait(false);
                await using NetworkStream stream = new(socket, ownsSocket: false);
                await stream.WriteAsync(requestFrame, deadline.Token).ConfigureAwait(false);
                byte[] reply = await StreamFraming.ReadFrameAsync(stream, _options.StreamMaxBytes, deadline.Token).ConfigureAwait(false);
                Post(new StreamResultWork(streamId, reply, null), droppable: false);
                return;
            }
            catch (OperationCanceledException) when (!_shutdown.IsCancellationRequested)
            {
                failure = string.Create(CultureInfo.InvariantCulture, $"no answer within StreamTimeout ({_options.StreamTimeout.TotalSeconds:0.###} s)");
            }
            catch (SocketException e)
            {
                failure = DescribeSocketError(e);
            }
            catch (EndOfStreamException)
            {
                failure = "the peer closed the stream without replying";
            }
            catch (IOException e)
            {
                failure = e.InnerException is SocketException inner ? DescribeSocketError(inner) : e.Message;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            return; // Shutting down: nobody is left to tell.
        }
        finally
        {
            Interlocked.Decrement(ref _outgoingStreams);
        }

        Post(new StreamResultWork(streamId, null, failure), droppable: false);
    }

    private static string DescribeSocketError(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.ConnectionReset => "connection reset by the peer",
        SocketError.TimedOut => "connection timed out",
        SocketError.HostUnreachable => "host unreachable",
        SocketError.NetworkUnreachable => "network unreachable",
        SocketError.AddressNotAvailable => "address not available",
        SocketError.AddressFamilyNotSupported => "address family not supported (an IPv4 and IPv6 mismatch?)",
        _ => e.Message,
    };

    private async Task AcceptStreamsAsync()
    {
        CancellationToken cancellationToken = _shutdown.Token;
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                // Out of file descriptors, a connection reset before accept...: pause, then go on.
                _counters.ReceiveError();
                await Task.Delay(TimeSpan.FromMilliseconds(50), _time, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            if (Interlocked.Increment(ref _incomingStreams) > _settings.StreamsMax)
            {
                Interlocked.Decrement(ref _incomingStreams);
                _counters.StreamRefused();
                client.Dispose();
                continue;
            }

            Track(Task.Run(() => ServeStreamAsync(client)));
        }
    }

    private async Task ServeStreamAsync(Socket client)
    {
        try
        {
            using CancellationTokenSource deadline = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
            deadline.CancelAfter(_options.StreamTimeout);
            client.NoDelay = true;
            NodeAddress from = NodeAddress.From((IPEndPoint)client.RemoteEndPoint!);
            await using NetworkStream stream = new(client, ownsSocket: true);
            byte[] request = await StreamFraming.ReadFrameAsync(stream, _options.StreamMaxBytes, deadline.Token).ConfigureAwait(false);
            StreamRequestWork work = new(Interlocked.Increment(ref _nextIncomingStreamId), from, request, current => _currentRequest = current);
            if (!Post(work, droppable: true))
            {
                _counters.StreamRefused();
                return;
            }

            byte[]? reply = await work.Completion.WaitAsync(deadline.Token).ConfigureAwait(false);
            if (reply is not null)
            {
                await stream.WriteAsync(reply, deadline.Token).ConfigureAwait(false);

                // Half-close so the peer reads our reply and then a clean end, never a reset.
                client.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            if (!_shutdown.IsCancellationRequested)
            {
                _counters.StreamError();
            }
        }
        finally
        {
            client.Dispose();
            Interlocked.Decrement(ref _incomingStreams);
        }
    }

    /// <summary>The node's reply to the request it is handling right now (it replies during OnStreamRequest or never).</summary>
    private void ReplyStream(long streamId, ReadOnlySpan<byte> response)
    {
        if (_currentRequest is { } current && current.StreamId == streamId && current.ReplyFrame is null)
        {
            current.ReplyFrame = StreamFraming.Frame(response);
        }
    }
}
