using System.Numerics;

namespace Rumor.Simulation;

/// <summary>
/// Buffers for datagrams in flight in the simulated network: a free list per power-of-two size
/// (64 B to 64 KiB), so delivering a datagram allocates nothing once the pool holds as many
/// buffers as the network has in flight. A buffer may be longer than asked; callers keep the
/// length. Single-threaded, as a cluster is; each free list is bounded (<see cref="MaxFreePerSize"/>),
/// beyond which returned buffers are left to the collector.
/// </summary>
internal sealed class PacketBufferPool
{
    /// <summary>Buffers kept per size class.</summary>
    public const int MaxFreePerSize = 4096;

    private const int MinShift = 6; // 64 B
    private const int MaxShift = 16; // 64 KiB

    private readonly Stack<byte[]>[] _free = new Stack<byte[]>[MaxShift - MinShift + 1];

    /// <summary>Buffers handed out that were not taken from a free list.</summary>
    public long Allocated { get; private set; }

    /// <summary>A buffer of at least <paramref name="length"/> bytes (exactly that long when it is over 64 KiB).</summary>
    public byte[] Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        int shift = ShiftFor(length);
        if (shift > MaxShift)
        {
            Allocated++;
            return new byte[length];
        }

        Stack<byte[]>? free = _free[shift - MinShift];
        if (free is not null && free.TryPop(out byte[]? buffer))
        {
            return buffer;
        }

        Allocated++;
        return new byte[1 << shift];
    }

    /// <summary>Gives back a buffer from <see cref="Rent"/>; the caller must not use it again.</summary>
    public void Return(byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        int length = buffer.Length;
        if (length < 1 << MinShift || length > 1 << MaxShift || !BitOperations.IsPow2(length))
        {
            return; // not one of ours (an oversized datagram's exact buffer)
        }

        int index = BitOperations.Log2((uint)length) - MinShift;
        Stack<byte[]> free = _free[index] ??= new Stack<byte[]>();
        if (free.Count < MaxFreePerSize)
        {
            free.Push(buffer);
        }
    }

    private static int ShiftFor(int length) => length <= 1 << MinShift ? MinShift : BitOperations.Log2((uint)length - 1) + 1;
}
