namespace Rumor.Transport;

/// <summary>
/// What the shell dropped or failed at, so that nothing is lost silently. The protocol's own
/// counters (decode failures among them) live in the node: read them with
/// <see cref="GossipTransport.InvokeAsync{T}(Func{Rumor.Core.GossipNode, T}, CancellationToken)"/>.
/// Thread-safe: written with interlocked operations from the loop and the socket tasks.
/// </summary>
public sealed class TransportCounters
{
    private long _datagramsDropped;
    private long _sendErrors;
    private long _receiveErrors;
    private long _streamsRefused;
    private long _streamErrors;
    private long _eventsDropped;
    private long _eventHandlerErrors;
    private long _loopFaults;
    private long _identityWriteErrors;
    private long _stallsReported;

    /// <summary>Datagrams received but dropped because the event loop's inbox was full.</summary>
    public long DatagramsDropped => Interlocked.Read(ref _datagramsDropped);

    /// <summary>Datagrams the socket refused to send (unreachable network, full buffer, wrong address family); dropped.</summary>
    public long SendErrors => Interlocked.Read(ref _sendErrors);

    /// <summary>Socket errors while receiving datagrams or accepting connections.</summary>
    public long ReceiveErrors => Interlocked.Read(ref _receiveErrors);

    /// <summary>Streams refused because <see cref="GossipTransportSettings.StreamsMax"/> were open, or the inbox was full.</summary>
    public long StreamsRefused => Interlocked.Read(ref _streamsRefused);

    /// <summary>Incoming streams that failed (timeout, oversized frame, peer closed early).</summary>
    public long StreamErrors => Interlocked.Read(ref _streamErrors);

    /// <summary>Events dropped because a reader of <see cref="GossipTransport.Events"/> or the <see cref="GossipTransportSettings.OnEvent"/> handler fell behind.</summary>
    public long EventsDropped => Interlocked.Read(ref _eventsDropped);

    /// <summary>Exceptions thrown by the <see cref="GossipTransportSettings.OnEvent"/> handler (caught).</summary>
    public long EventHandlerErrors => Interlocked.Read(ref _eventHandlerErrors);

    /// <summary>
    /// Exceptions thrown by the node while handling an input (a bug in the core: caught so the
    /// process survives; see <see cref="GossipTransport.LastLoopFault"/>).
    /// </summary>
    public long LoopFaults => Interlocked.Read(ref _loopFaults);

    /// <summary>Writes of the identity file that failed (the node goes on; see <see cref="GossipTransport.LastLoopFault"/>).</summary>
    public long IdentityWriteErrors => Interlocked.Read(ref _identityWriteErrors);

    /// <summary>Stalls of this process the shell reported to the node (late loop, GC pause, thread-pool starvation).</summary>
    public long StallsReported => Interlocked.Read(ref _stallsReported);

    internal void IdentityWriteError() => Interlocked.Increment(ref _identityWriteErrors);

    internal void StallReported() => Interlocked.Increment(ref _stallsReported);

    internal void DatagramDropped() => Interlocked.Increment(ref _datagramsDropped);

    internal void SendError() => Interlocked.Increment(ref _sendErrors);

    internal void ReceiveError() => Interlocked.Increment(ref _receiveErrors);

    internal void StreamRefused() => Interlocked.Increment(ref _streamsRefused);

    internal void StreamError() => Interlocked.Increment(ref _streamErrors);

    internal void EventDropped() => Interlocked.Increment(ref _eventsDropped);

    internal void EventHandlerError() => Interlocked.Increment(ref _eventHandlerErrors);

    internal void LoopFault() => Interlocked.Increment(ref _loopFaults);
}
