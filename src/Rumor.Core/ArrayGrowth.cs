namespace Rumor.Core;

/// <summary>
/// Growth of the per-member arrays that every node of a simulated cluster holds (N² slots in all):
/// a quarter more at a time instead of doubling, so at most a fifth of such an array is empty
/// rather than up to half (at N = 5,000 a doubled member list is 8,192 slots, 13 bytes a member
/// record; grown by a quarter it is 6,163, 10 bytes). Still geometric, so an append stays amortized O(1): the elements are
/// copied about five times over a table's growth instead of twice.
/// </summary>
internal static class ArrayGrowth
{
    /// <summary>The next length after <paramref name="length"/>.</summary>
    public static int Next(int length) => checked(length + Math.Max(4, length / 4));
}
