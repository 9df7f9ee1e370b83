using System.Globalization;
using System.Text.Json;

namespace Rumor.Transport;

/// <summary>What a node keeps across restarts: its name, process generation and incarnation.</summary>
public sealed record PersistedIdentity(string Name, ulong Generation, uint Incarnation);

/// <summary>The identity file is unreadable, corrupt, of an unknown version, or belongs to another name.</summary>
public sealed class IdentityFileException : IOException
{
    /// <summary>Creates the exception.</summary>
    public IdentityFileException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public IdentityFileException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public IdentityFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The node's identity state file (<c>identity.json</c> in the data directory): a small JSON
/// document with a format version and a CRC32C of its fields, so that a torn or edited file is
/// recognised instead of trusted. Writes go to a temporary file that is flushed to the disk and
/// then atomically renamed over the old one, so a crash leaves either the old or the new file,
/// never half of one. The transport writes it before the node speaks: at start (with the new
/// generation and incarnation) and whenever the node's incarnation rises.
/// </summary>
public static class IdentityFile
{
    /// <summary>The file's name inside the data directory.</summary>
    public const string FileName = "identity.json";

    /// <summary>The format version this code writes and reads.</summary>
    public const int Version = 1;

    /// <summary>Reads the identity at <paramref name="path"/>; null when there is no file. Throws <see cref="IdentityFileException"/> when it is corrupt.</summary>
    public static PersistedIdentity? Load(string path)
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
            throw new IdentityFileException($"Cannot read the identity file {path}: {e.Message}", e);
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(bytes);
            JsonElement root = document.RootElement;
            int version = root.GetProperty("version").GetInt32();
            if (version != Version)
            {
                throw new IdentityFileException($"The identity file {path} has format version {version}; this build reads version {Version}.");
            }

            PersistedIdentity identity = new(
                root.GetProperty("name").GetString() ?? throw new IdentityFileException($"The identity file {path} has no name."),
                root.GetProperty("generation").GetUInt64(),
                root.GetProperty("incarnation").GetUInt32());
            string checksum = root.GetProperty("crc32c").GetString() ?? string.Empty;
            if (!string.Equals(checksum, Checksum(identity), StringComparison.Ordinal))
            {
                throw new IdentityFileException($"The identity file {path} fails its checksum (stored {checksum}, computed {Checksum(identity)}): it was damaged or edited.");
            }

            return identity;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new IdentityFileException($"The identity file {path} is corrupt: {e.Message}", e);
        }
    }

    /// <summary>Writes <paramref name="identity"/> to <paramref name="path"/> durably and atomically (temporary file, flush to disk, rename).</summary>
    public static void Save(string path, PersistedIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(identity);
        DurableFile.ReplaceAtomically(path, Encode(identity));
    }

    private static byte[] Encode(PersistedIdentity identity)
    {
        using MemoryStream buffer = new();
        using (Utf8JsonWriter writer = new(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", Version);
            writer.WriteString("name", identity.Name);
            writer.WriteNumber("generation", identity.Generation);
            writer.WriteNumber("incarnation", identity.Incarnation);
            writer.WriteString("crc32c", Checksum(identity));
            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>CRC32C (Castagnoli) of the fields in a fixed text form, as 8 hex digits.</summary>
    private static string Checksum(PersistedIdentity identity) =>
        DurableFile.Crc32CHex(string.Create(CultureInfo.InvariantCulture, $"{Version}\n{identity.Name}\n{identity.Generation}\n{identity.Incarnation}"));
}
