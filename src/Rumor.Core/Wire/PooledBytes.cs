using System.Buffers;

namespace Rumor.Core.Wire;

/// <summary>
/// Bytes in an array rented from <see cref="ArrayPool{T}.Shared"/> (or a plain array that is not),
/// with the length in use: the full-state streams of push-pull are encoded, compressed and
/// decompressed in these, because at a few thousand members each is hundreds of kilobytes, a
/// large-object-heap allocation that only a full collection gives back (issue 17: at N = 2,000 the
/// join's push-pull arrays were a third of its allocation). One owner disposes it once; the host
/// copies what it sends (<see cref="IGossipHost.OpenStream"/> and <see cref="IGossipHost.ReplyStream"/>
/// take spans).
/// </summary>
internal struct PooledBytes : IDisposable
{
    private byte[]? _rented;

    private PooledBytes(byte[] array, int length, bool rented)
    {
        Array = array;
        Length = length;
        _rented = rented ? array : null;
    }

    /// <summary>The array (longer than <see cref="Length"/> when rented).</summary>
    public byte[] Array { get; }

    /// <summary>Bytes in use.</summary>
    public int Length { get; }

    /// <summary>The bytes in use.</summary>
    public readonly ReadOnlySpan<byte> Span => Array.AsSpan(0, Length);

    /// <summary>The bytes in use, as memory (to list several for one packet).</summary>
    public readonly ReadOnlyMemory<byte> Memory => Array.AsMemory(0, Length);

    /// <summary>Rents an array of at least <paramref name="minimumLength"/> bytes; <see cref="WithLength"/> says how many are used.</summary>
    public static PooledBytes Rent(int minimumLength) => new(ArrayPool<byte>.Shared.Rent(minimumLength), minimumLength, rented: true);

    /// <summary>A plain array, not rented (disposing it does nothing).</summary>
    public static PooledBytes Of(byte[] array) => new(array, array.Length, rented: false);

    /// <summary>The same array with <paramref name="length"/> bytes in use; this value must not be disposed afterwards (the result owns the array).</summary>
    public readonly PooledBytes WithLength(int length) => new(Array, length, _rented is not null);

    /// <summary>Gives a rented array back to the pool.</summary>
    public void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
            _rented = null;
        }
    }
}
