using System.Globalization;
using System.Text.Json;
using Rumor.Core.Security;

namespace Rumor.Transport;

/// <summary>The keyring file is unreadable, corrupt or of an unknown version.</summary>
public sealed class KeyringFileException : IOException
{
    /// <summary>Creates the exception.</summary>
    public KeyringFileException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public KeyringFileException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public KeyringFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The node's gossip keyring as kept in the data directory (<c>keyring.json</c>): the keys, primary
/// first, the ring's version and the cluster label, with a format version and a CRC32C of the
/// fields, so a torn or edited file is refused at start instead of trusted. Like the identity file
/// it is written to a temporary file, flushed to the disk and renamed over the old one (a crash
/// leaves the old or the new ring, never half of one); on Unix both are created with mode 0600
/// (owner read and write only), because the file holds the cluster's secrets. The transport writes
/// it at start and on every <see cref="Core.KeyringChanged"/>, and a restart starts from it, so a
/// rotation survives restarts and a member offline during one comes back with the ring it had.
/// </summary>
public static class KeyringFile
{
    /// <summary>The file's name inside the data directory.</summary>
    public const string FileName = "keyring.json";

    /// <summary>The format version this code writes and reads.</summary>
    public const int Format = 1;

    /// <summary>Mode of the file and its temporary on Unix: 0600.</summary>
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const string Advice = "restore it from a backup, or delete it to start from the configured key (--encrypt or --keyring-file) and let the cluster hand over its current ring at join";

    /// <summary>Reads the keyring at <paramref name="path"/>; null when there is no file. Throws <see cref="KeyringFileException"/> when it is corrupt.</summary>
    public static GossipKeyring? Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            return null;
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KeyringFileException($"Cannot read the keyring file {path}: {e.Message}", e);
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(bytes);
            JsonElement root = document.RootElement;
            int format = root.GetProperty("format").GetInt32();
            if (format != Format)
            {
                throw new KeyringFileException($"The keyring file {path} has format {format}; this build reads format {Format}.");
            }

            ulong version = root.GetProperty("version").GetUInt64();
            string label = root.GetProperty("label").GetString() ?? string.Empty;
            List<string> texts = [];
            foreach (JsonElement key in root.GetProperty("keys").EnumerateArray())
            {
                texts.Add(key.GetString() ?? string.Empty);
            }

            string stored = root.GetProperty("crc32c").GetString() ?? string.Empty;
            string computed = Checksum(version, label, texts);
            if (!string.Equals(stored, computed, StringComparison.Ordinal))
            {
                throw new KeyringFileException($"The keyring file {path} fails its checksum (stored {stored}, computed {computed}): it was damaged or edited; {Advice}.");
            }

            if (texts.Count == 0)
            {
                throw new KeyringFileException($"The keyring file {path} holds no key; {Advice}.");
            }

            return new GossipKeyring(texts.ConvertAll(GossipKeyring.ParseKey), label, version);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new KeyringFileException($"The keyring file {path} is corrupt ({e.Message}); {Advice}.", e);
        }
    }

    /// <summary>Writes <paramref name="keyring"/> to <paramref name="path"/> durably and atomically (temporary file, flush to disk, rename), mode 0600 on Unix.</summary>
    public static void Save(string path, GossipKeyring keyring)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(keyring);
        DurableFile.ReplaceAtomically(path, Encode(keyring), Mode);
    }

    private static byte[] Encode(GossipKeyring keyring)
    {
        List<string> texts = [.. keyring.Keys.Select(Convert.ToBase64String)];
        using MemoryStream buffer = new();
        using (Utf8JsonWriter writer = new(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("format", Format);
            writer.WriteNumber("version", keyring.Version);
            writer.WriteString("label", keyring.ClusterLabel);
            writer.WriteStartArray("keys");
            foreach (string text in texts)
            {
                writer.WriteStringValue(text);
            }

            writer.WriteEndArray();
            writer.WriteString("crc32c", Checksum(keyring.Version, keyring.ClusterLabel, texts));
            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>CRC32C (Castagnoli) of the fields in a fixed text form, as 8 hex digits.</summary>
    private static string Checksum(ulong version, string label, IReadOnlyList<string> keys) =>
        DurableFile.Crc32CHex(string.Create(CultureInfo.InvariantCulture, $"{Format}\n{version}\n{label}\n{string.Join('\n', keys)}"));
}
