namespace Rumor.Core;

/// <summary>
/// Hashes that are the same in every process and on every run (string.GetHashCode is randomised per
/// process), for what members compare with each other or a seed must replay: FNV-1a 64 over a
/// string's UTF-16 code units, and SplitMix64's finalizer, which carries every input bit to every
/// output bit. Hand-written: each is a few lines, and System.IO.Hashing has no SplitMix finalizer
/// and no hash over UTF-16 chars without copying them into bytes first.
/// </summary>
internal static class StableHash
{
    /// <summary>FNV-1a 64's offset basis.</summary>
    public const ulong FnvOffsetBasis = 14695981039346656037UL;

    private const ulong FnvPrime = 1099511628211UL;

    /// <summary>FNV-1a 64 over the UTF-16 code units of <paramref name="text"/>, from <paramref name="basis"/> (a salt may be folded into it).</summary>
    public static ulong Fnv1a(ReadOnlySpan<char> text, ulong basis = FnvOffsetBasis)
    {
        ulong hash = basis;
        foreach (char c in text)
        {
            hash = (hash ^ c) * FnvPrime;
        }

        return hash;
    }

    /// <summary>FNV-1a 64 over the eight bytes of <paramref name="value"/>, least significant first, continued from <paramref name="basis"/>.</summary>
    public static ulong Fnv1a(ulong value, ulong basis)
    {
        ulong hash = basis;
        for (int i = 0; i < 8; i++)
        {
            hash = (hash ^ (byte)(value >> (8 * i))) * FnvPrime;
        }

        return hash;
    }

    /// <summary>SplitMix64's finalizer.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
