using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Rumor.Core;

namespace Rumor.Hosting;

/// <summary>
/// A live subscription to a node's events (see <see cref="RumorNode.OpenStream"/> and
/// <see cref="RumorNode.OpenWatchAsync"/>): registered when created, so nothing that happens
/// afterwards is missed (short of the per-subscriber bound). Read it once; dispose it to stop.
/// </summary>
public sealed class RumorSubscription : IAsyncDisposable
{
    private readonly ChannelReader<GossipEvent> _reader;
    private readonly Func<GossipEvent, bool> _filter;
    private readonly Func<ValueTask> _dispose;
    private int _disposed;

    internal RumorSubscription(ChannelReader<GossipEvent> reader, Func<GossipEvent, bool> filter, Func<ValueTask> dispose)
    {
        _reader = reader;
        _filter = filter;
        _dispose = dispose;
    }

    /// <summary>The events, in order, until cancelled, disposed, or the node stops.</summary>
    public async IAsyncEnumerable<GossipEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (GossipEvent gossipEvent in _reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_filter(gossipEvent))
            {
                yield return gossipEvent;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Interlocked.Exchange(ref _disposed, 1) == 0 ? _dispose() : ValueTask.CompletedTask;
}
