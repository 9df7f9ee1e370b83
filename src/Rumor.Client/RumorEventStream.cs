using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;

namespace Rumor.Client;

/// <summary>
/// An open <c>text/event-stream</c> of the agent, read with <see cref="SseParser"/> into typed items.
/// Enumerate it (once) for the items until the agent closes the stream or the token is cancelled
/// (an <see cref="OperationCanceledException"/>); the enumeration also ends quietly when the connection
/// drops mid-stream (the agent was stopped). Dispose it to close the connection.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class RumorEventStream<T> : IAsyncEnumerable<T>, IAsyncDisposable, IDisposable
    where T : class
{
    private readonly HttpResponseMessage _response;
    private readonly Stream _stream;
    private readonly SseItemParser<T?> _parse;
    private int _enumerated;

    internal RumorEventStream(HttpResponseMessage response, Stream stream, SseItemParser<T?> parse)
    {
        _response = response;
        _stream = stream;
        _parse = parse;
    }

    /// <summary>Reads the items as they arrive. A stream can be enumerated once.</summary>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>The items.</returns>
    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _enumerated, 1) != 0)
        {
            throw new InvalidOperationException("An event stream can be enumerated once.");
        }

        return ReadAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
    }

    /// <summary>Closes the connection.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Closes the connection.</summary>
    public void Dispose()
    {
        _stream.Dispose();
        _response.Dispose();
    }

    private async IAsyncEnumerable<T> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        IAsyncEnumerator<SseItem<T?>> items = SseParser.Create(_stream, _parse).EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (items.ConfigureAwait(false))
        {
            while (true)
            {
                try
                {
                    if (!await items.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }
                }
                catch (Exception e) when (e is IOException or HttpRequestException or ObjectDisposedException && !cancellationToken.IsCancellationRequested)
                {
                    // The agent went away mid-stream (killed, restarted) or the stream was disposed: it has ended.
                    yield break;
                }

                if (items.Current.Data is { } item)
                {
                    yield return item;
                }
            }
        }
    }
}
