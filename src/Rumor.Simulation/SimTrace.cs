using Rumor.Core;
using Rumor.Core.Wire;

namespace Rumor.Simulation;

/// <summary>Kinds of trace records.</summary>
public enum TraceKind : byte
{
    /// <summary>A datagram was sent.</summary>
    Packet = 1,

    /// <summary>A stream was opened with a request.</summary>
    StreamOpen = 2,

    /// <summary>A stream request was answered.</summary>
    StreamReply = 3,

    /// <summary>A node reported an event.</summary>
    Event = 4,
}

/// <summary>
/// A running 64-bit FNV-1a hash over everything the nodes did: every send (time, sender, receiver,
/// the bytes' CRC32C and length) and every event. Two runs with the same seed must end with the same
/// hash; any divergence, however small, changes it. Optionally keeps the last records as text for
/// a failure report.
/// </summary>
public sealed class SimTrace
{
    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;
    private readonly Queue<string>? _recent;
    private readonly int _recentMax;

    /// <summary>Creates a trace; <paramref name="keepRecent"/> records are kept as text (0: none).</summary>
    public SimTrace(int keepRecent = 0)
    {
        _recentMax = keepRecent;
        _recent = keepRecent > 0 ? new Queue<string>(keepRecent) : null;
    }

    /// <summary>The hash of everything recorded so far.</summary>
    public ulong Hash { get; private set; } = FnvOffset;

    /// <summary>Records so far.</summary>
    public long Count { get; private set; }

    /// <summary>The most recent records as text (when enabled).</summary>
    public IEnumerable<string> Recent => _recent ?? Enumerable.Empty<string>();

    internal void Record(TraceKind kind, TimeSpan at, int from, NodeAddress to, ReadOnlySpan<byte> bytes)
    {
        uint crc = Crc32C.Compute(bytes);
        Mix((ulong)kind);
        Mix((ulong)at.Ticks);
        Mix((ulong)from);
        Span<byte> address = stackalloc byte[16];
        to.WriteAddressBytes(address);
        foreach (byte b in address[..to.AddressLength])
        {
            Mix(b);
        }

        Mix(to.Port);
        Mix(crc);
        Mix((ulong)bytes.Length);
        Count++;
        Remember(kind, at, $"{from}->{to} {bytes.Length}B crc={crc:x8}");
    }

    internal void RecordEvent(TimeSpan at, int node, string text)
    {
        Mix((ulong)TraceKind.Event);
        Mix((ulong)at.Ticks);
        Mix((ulong)node);
        foreach (char c in text)
        {
            Mix(c);
        }

        Count++;
        Remember(TraceKind.Event, at, $"node {node}: {text}");
    }

    private void Remember(TraceKind kind, TimeSpan at, string text)
    {
        if (_recent is null)
        {
            return;
        }

        if (_recent.Count == _recentMax)
        {
            _recent.Dequeue();
        }

        _recent.Enqueue($"{at.TotalSeconds,10:0.000000}s {kind,-11} {text}");
    }

    private void Mix(ulong value)
    {
        ulong hash = Hash;
        for (int i = 0; i < 8; i++)
        {
            hash ^= (byte)(value >> (8 * i));
            hash *= FnvPrime;
        }

        Hash = hash;
    }
}
