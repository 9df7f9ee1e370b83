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
    private readonly RecentRecord[]? _recent;
    private int _recentNext;
    private int _recentCount;

    /// <summary>Creates a trace; <paramref name="keepRecent"/> records are kept as text (0: none).</summary>
    public SimTrace(int keepRecent = 0)
    {
        _recent = keepRecent > 0 ? new RecentRecord[keepRecent] : null;
    }

    /// <summary>The hash of everything recorded so far.</summary>
    public ulong Hash { get; private set; } = StableHash.FnvOffsetBasis;

    /// <summary>Records so far.</summary>
    public long Count { get; private set; }

    /// <summary>The most recent records as text (when enabled).</summary>
    /// <remarks>
    /// The records are kept as fields in a ring and only formatted here (the trace is written for
    /// every datagram; a failure report reads it once).
    /// </remarks>
    public IEnumerable<string> Recent
    {
        get
        {
            if (_recent is null)
            {
                return [];
            }

            string[] texts = new string[_recentCount];
            int first = (_recentNext - _recentCount + _recent.Length) % _recent.Length;
            for (int i = 0; i < _recentCount; i++)
            {
                texts[i] = _recent[(first + i) % _recent.Length].Format();
            }

            return texts;
        }
    }

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
        Remember(new RecentRecord(kind, at, from, to, bytes.Length, crc, null));
    }

    internal void RecordEvent(TimeSpan at, int node, string text) => RecordEvent(at, node, text.AsSpan(), text);

    /// <summary>An event whose text was formatted on the stack: hashed the same as the string form, made a string only when recent records are kept.</summary>
    internal void RecordEvent(TimeSpan at, int node, ReadOnlySpan<char> text) => RecordEvent(at, node, text, null);

    private void RecordEvent(TimeSpan at, int node, ReadOnlySpan<char> text, string? kept)
    {
        Mix((ulong)TraceKind.Event);
        Mix((ulong)at.Ticks);
        Mix((ulong)node);
        foreach (char c in text)
        {
            Mix(c);
        }

        Count++;
        if (_recent is not null)
        {
            Remember(new RecentRecord(TraceKind.Event, at, node, default, 0, 0, kept ?? new string(text)));
        }
    }

    private void Remember(in RecentRecord record)
    {
        if (_recent is null)
        {
            return;
        }

        _recent[_recentNext] = record;
        _recentNext = (_recentNext + 1) % _recent.Length;
        _recentCount = Math.Min(_recentCount + 1, _recent.Length);
    }

    private void Mix(ulong value) => Hash = StableHash.Fnv1a(value, Hash);

    /// <summary>One kept record, formatted only when read: a send (<see cref="Text"/> null) or an event.</summary>
    private readonly record struct RecentRecord(TraceKind Kind, TimeSpan At, int From, NodeAddress To, int Length, uint Crc, string? Text)
    {
        public string Format()
        {
            string text = Text is null ? $"{From}->{To} {Length}B crc={Crc:x8}" : $"node {From}: {Text}";
            return $"{At.TotalSeconds,10:0.000000}s {Kind,-11} {text}";
        }
    }
}
