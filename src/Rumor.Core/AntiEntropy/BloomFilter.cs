namespace Rumor.Core.AntiEntropy;

/// <summary>
/// A Bloom filter of (owner, generation, version) triples, used as a compact digest when the full
/// digest would not fit a datagram. Sized for n items at false-positive rate p:
/// m = ⌈−n ln p / (ln 2)²⌉ bits, k = round(m / n · ln 2) hashes (double hashing h1 + i·h2). The
/// salt changes every message, so a false positive in one round is independent of the next: a
/// member hidden by one filter is found by a later one.
/// </summary>
internal sealed class BloomFilter
{
    private readonly byte[] _bits;
    private readonly long _bitCount;

    public BloomFilter(byte[] bits, int hashCount, uint salt)
    {
        _bits = bits;
        _bitCount = (long)bits.Length * 8;
        HashCount = hashCount;
        Salt = salt;
    }

    public int HashCount { get; }

    public uint Salt { get; }

    public byte[] Bits => _bits;

    public static BloomFilter Create(int items, double falsePositiveRate, uint salt)
    {
        int n = Math.Max(1, items);
        int bytes = ByteCount(items, falsePositiveRate);
        int k = Math.Clamp((int)Math.Round(bytes * 8.0 / n * Math.Log(2)), 1, 32);
        return new BloomFilter(new byte[bytes], k, salt);
    }

    /// <summary>The size in bytes of the filter <see cref="Create"/> makes for these arguments, without making it.</summary>
    public static int ByteCount(int items, double falsePositiveRate)
    {
        int n = Math.Max(1, items);
        double p = Math.Clamp(falsePositiveRate, 1e-9, 0.5);
        long m = (long)Math.Ceiling(-n * Math.Log(p) / (Math.Log(2) * Math.Log(2)));
        return (int)Math.Clamp((m + 7) / 8, 1, int.MaxValue / 2);
    }

    public void Add(string owner, ulong generation, ulong version)
    {
        (ulong h1, ulong h2) = Hash(owner, generation, version);
        for (int i = 0; i < HashCount; i++)
        {
            long bit = (long)((h1 + ((ulong)i * h2)) % (ulong)_bitCount);
            _bits[bit >> 3] |= (byte)(1 << (int)(bit & 7));
        }
    }

    public bool MayContain(string owner, ulong generation, ulong version)
    {
        (ulong h1, ulong h2) = Hash(owner, generation, version);
        for (int i = 0; i < HashCount; i++)
        {
            long bit = (long)((h1 + ((ulong)i * h2)) % (ulong)_bitCount);
            if ((_bits[bit >> 3] & (1 << (int)(bit & 7))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    private (ulong, ulong) Hash(string owner, ulong generation, ulong version)
    {
        // FNV-1a over the name's UTF-16 code units (deterministic, unlike string.GetHashCode), then
        // SplitMix64 finalisers over the numbers and the salt.
        ulong h = StableHash.Fnv1a(owner, StableHash.FnvOffsetBasis ^ Salt);
        ulong a = StableHash.Mix(h ^ StableHash.Mix(generation) ^ StableHash.Mix(version + 0x9E3779B97F4A7C15UL));
        ulong b = StableHash.Mix(a ^ 0xD6E8FEB86659FD93UL) | 1;
        return (a, b);
    }
}
