using System.Buffers;
using Rumor.Core;

namespace Rumor.Transport;

/// <summary>
/// One input waiting in the event loop's inbox. Socket tasks and callers never touch the node:
/// they wrap what they have in a work item, and the loop thread runs it. <see cref="Abandon"/>
/// releases what the item holds when the loop stops before running it, so no caller waits forever
/// and no pooled buffer leaks.
/// </summary>
internal abstract class LoopWork
{
    /// <summary>True when running it may change members without an event (our own state, metadata): the loop then marks the member copy stale, and the next read of <see cref="GossipTransport.Members"/> makes a new one.</summary>
    public virtual bool MayChangeMembers => false;

    /// <summary>An application's command (queued behind protocol input), not protocol input.</summary>
    public virtual bool IsCommand => false;

    public abstract void Execute(GossipNode node, TimeSpan now);

    /// <summary>
    /// Called by the loop after <see cref="Execute"/> and after the member copy is marked stale,
    /// so a caller awaiting the work sees its own change in <see cref="GossipTransport.Members"/>.
    /// </summary>
    public virtual void Complete()
    {
    }

    public virtual void Abandon()
    {
    }
}

/// <summary>
/// A received datagram, in a buffer rented from the shared pool (returned once handled). A struct in
/// a queue of its own (<c>GossipTransport._datagrams</c>), not a <see cref="LoopWork"/>: datagrams are
/// the hot path, and an object per packet would be garbage per packet.
/// </summary>
internal readonly record struct ReceivedDatagram(NodeAddress From, byte[] Rented, int Length)
{
    public void Execute(GossipNode node, TimeSpan now)
    {
        try
        {
            node.OnPacket(From, Rented.AsSpan(0, Length), now);
        }
        finally
        {
            Release();
        }
    }

    public void Release() => ArrayPool<byte>.Shared.Return(Rented);
}

/// <summary>
/// A request that arrived on an incoming stream. The node may reply during
/// <see cref="GossipNode.OnStreamRequest"/>; <see cref="Completion"/> then carries the framed reply
/// (null: close without one) back to the connection's task.
/// </summary>
internal sealed class StreamRequestWork(long streamId, NodeAddress from, byte[] request, Action<StreamRequestWork?> setCurrent) : LoopWork
{
    private readonly TaskCompletionSource<byte[]?> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long StreamId => streamId;

    /// <summary>The framed reply, set by the host's ReplyStream while the node handles the request.</summary>
    public byte[]? ReplyFrame { get; set; }

    public Task<byte[]?> Completion => _completion.Task;

    public override void Execute(GossipNode node, TimeSpan now)
    {
        setCurrent(this);
        try
        {
            node.OnStreamRequest(streamId, from, request, now);
        }
        finally
        {
            setCurrent(null);
            _completion.TrySetResult(ReplyFrame);
        }
    }

    public override void Abandon() => _completion.TrySetResult(null);
}

/// <summary>The outcome of a stream we opened: the reply, or why there is none.</summary>
internal sealed class StreamResultWork(long streamId, byte[]? response, string? failure) : LoopWork
{
    public override void Execute(GossipNode node, TimeSpan now)
    {
        if (response is not null)
        {
            node.OnStreamResponse(streamId, response, now);
        }
        else
        {
            node.OnStreamFailed(streamId, failure ?? "the stream failed", now);
        }
    }
}

/// <summary>Caller code to run on the loop (commands, queries); its result or exception goes back through a task.</summary>
internal sealed class InvokeWork<T>(Func<GossipNode, TimeSpan, T> function) : LoopWork
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override bool MayChangeMembers => true;

    public override bool IsCommand => true;

    public Task<T> Completion => _completion.Task;

    private T? _result;
    private Exception? _failure;

    public override void Execute(GossipNode node, TimeSpan now)
    {
        try
        {
            _result = function(node, now);
        }
        catch (Exception e)
        {
            _failure = e;
        }
    }

    public override void Complete()
    {
        if (_failure is not null)
        {
            _completion.TrySetException(_failure);
        }
        else
        {
            _completion.TrySetResult(_result!);
        }
    }

    public override void Abandon() =>
        _completion.TrySetException(new ObjectDisposedException(nameof(GossipTransport), "The transport stopped before running this call."));
}
