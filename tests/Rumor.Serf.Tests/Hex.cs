namespace Rumor.Serf.Tests;

internal static class Hex
{
    /// <summary>Bytes from hex written with spaces and line breaks, as in serf-wire.md.</summary>
    public static byte[] Parse(string hex) => Convert.FromHexString(string.Concat(hex.Where(Uri.IsHexDigit)));

    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
