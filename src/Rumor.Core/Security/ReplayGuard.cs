namespace Rumor.Core.Security;

/// <summary>
/// Refuses envelopes this node has already accepted, by sender and counter (the nonce). Each
/// sender (nonce prefix) and channel (datagrams, streams) has a sliding window, as IPsec and DTLS
/// keep one: the highest counter accepted and a bitmap of the <see cref="WindowSize"/> counters
/// below it. A counter inside the window that was seen, or one below the window, is a replay (or a
/// packet delayed past <see cref="WindowSize"/> of the sender's later packets) and is refused.
/// <para>
/// Bounds and trade-offs: at most <see cref="SendersMax"/> windows are kept; when full, the window
/// used least recently is forgotten (counted), and a replay of that sender's old packets would be
/// accepted once. So would a replay of packets captured before this node started. Membership
/// messages carry incarnations, state deltas versions and events Lamport times, so such a replay
/// only repeats old news that the receiver's newer knowledge outranks. The window counts a sender's
/// packets to everyone, so a datagram overtaken by more than <see cref="WindowSize"/> of the
/// sender's later packets is dropped too (at 50 packets/s, about 20 s of reordering).
/// </para>
/// </summary>
public sealed class ReplayGuard
{
    /// <summary>Counters tracked below a sender's highest (bits in the window).</summary>
    public const int WindowSize = 1024;

    /// <summary>Senders (prefix × channel) remembered at once.</summary>
    public const int SendersMax = 4096;

    private const int Words = WindowSize / 64;

    private readonly Dictionary<ulong, Window> _windows = [];
    private long _uses;

    /// <summary>Windows forgotten because <see cref="SendersMax"/> were kept.</summary>
    public long Evictions { get; private set; }

    /// <summary>Senders tracked.</summary>
    public int Count => _windows.Count;

    /// <summary>Accepts (and records) a counter never seen from this sender within the window; false for a replay or one too old.</summary>
    public bool TryAccept(uint prefix, ulong counter)
    {
        ulong id = prefix | (counter & PacketEnvelope.StreamChannelBit);
        ulong sequence = counter & ~PacketEnvelope.StreamChannelBit;
        if (!_windows.TryGetValue(id, out Window? window))
        {
            if (_windows.Count >= SendersMax)
            {
                EvictLeastRecent();
            }

            window = new Window { Highest = sequence };
            window.Bits[0] = 1;
            window.LastUse = ++_uses;
            _windows[id] = window;
            return true;
        }

        if (sequence > window.Highest)
        {
            window.Shift(sequence - window.Highest);
            window.Highest = sequence;
            window.Bits[0] |= 1;
            window.LastUse = ++_uses;
            return true;
        }

        ulong age = window.Highest - sequence;
        if (age >= WindowSize)
        {
            return false;
        }

        ulong mask = 1UL << (int)(age % 64);
        ref ulong word = ref window.Bits[(int)(age / 64)];
        if ((word & mask) != 0)
        {
            return false;
        }

        word |= mask;
        window.LastUse = ++_uses;
        return true;
    }

    private void EvictLeastRecent()
    {
        // Use stamps are unique, so the victim does not depend on the dictionary's order.
        ulong victim = 0;
        long oldest = long.MaxValue;
        foreach (KeyValuePair<ulong, Window> pair in _windows)
        {
            if (pair.Value.LastUse < oldest)
            {
                oldest = pair.Value.LastUse;
                victim = pair.Key;
            }
        }

        _windows.Remove(victim);
        Evictions++;
    }

    /// <summary>Bit i of the bitmap: counter Highest − i was accepted.</summary>
    private sealed class Window
    {
        public ulong Highest;
        public long LastUse;
        public readonly ulong[] Bits = new ulong[Words];

        public void Shift(ulong by)
        {
            if (by >= WindowSize)
            {
                Array.Clear(Bits);
                return;
            }

            int words = (int)(by / 64);
            int bits = (int)(by % 64);
            for (int i = Words - 1; i >= 0; i--)
            {
                ulong value = i - words >= 0 ? Bits[i - words] << bits : 0;
                if (bits != 0 && i - words - 1 >= 0)
                {
                    value |= Bits[i - words - 1] >> (64 - bits);
                }

                Bits[i] = value;
            }
        }
    }
}
