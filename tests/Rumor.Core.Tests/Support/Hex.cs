namespace Rumor.Core.Tests.Support;

/// <summary>Hex helpers for golden bytes: hand-written hex may contain spaces and '|' separators for readability.</summary>
internal static class Hex
{
    public static byte[] Parse(string hex) => Convert.FromHexString(Normalize(hex));

    public static string Normalize(string hex) => hex.Replace(" ", string.Empty, StringComparison.Ordinal)
        .Replace("|", string.Empty, StringComparison.Ordinal)
        .ToUpperInvariant();

    public static string Format(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);
}
