namespace Rumor.Core.Tests.Support;

/// <summary>
/// A deliberately naive, bit-at-a-time CRC-32C (reflected polynomial 0x82F63B78, init and final xor
/// 0xFFFFFFFF), written from the definition so that the production code (hardware instruction via
/// BitOperations) is checked against something that shares none of its code.
/// </summary>
internal static class ReferenceCrc32C
{
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }

        return ~crc;
    }
}
