using System.Globalization;
using System.Numerics;
using System.Text;

namespace Rumor.Transport;

/// <summary>
/// The write and checksum steps shared by the small state files in the data directory
/// (<see cref="IdentityFile"/>, <see cref="KeyringFile"/>): a whole file replaced atomically, and a
/// CRC32C over a canonical text of its fields.
/// </summary>
internal static class DurableFile
{
    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="bytes"/> durably and atomically: a fresh
    /// temporary file beside it (created with <paramref name="unixMode"/> on Unix when given, so a
    /// secret is never readable by others, not even for a moment), flushed to disk, then renamed over
    /// the old file. A crash leaves either the old file or the new one whole.
    /// </summary>
    public static void ReplaceAtomically(string path, byte[] bytes, UnixFileMode? unixMode = null)
    {
        string temporary = path + ".tmp";
        File.Delete(temporary); // a leftover from a crash keeps its mode when reopened: start afresh
        FileStreamOptions create = new() { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (unixMode is { } mode && !OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = mode;
        }

        using (FileStream stream = new(temporary, create))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>CRC32C (Castagnoli) of <paramref name="canonical"/>'s UTF-8 bytes, as 8 hex digits.</summary>
    public static string Crc32CHex(string canonical)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in Encoding.UTF8.GetBytes(canonical))
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return (crc ^ 0xFFFFFFFFu).ToString("x8", CultureInfo.InvariantCulture);
    }
}
