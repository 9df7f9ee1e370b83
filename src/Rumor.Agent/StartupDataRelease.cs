using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Rumor.Agent;

/// <summary>
/// Gives back the pages of the executable that only start-up reads (issue 16, "RSS of an idle agent
/// ≤ 30 MiB"). A Native AOT executable keeps the runtime's type data "dehydrated" in its read-only
/// data, 4.7 MB for rumor; before <c>Main</c> the runtime expands it into the writable
/// <c>.hydrated</c> section and never reads it again, yet its pages stay resident: 4.5 MiB of an idle
/// agent's 31.6 MiB (docs/BENCHMARKS.md, "Where the remaining 32–33 MiB are").
/// <para>
/// <see cref="Release"/> finds the blob the way the runtime does: the <c>__modules</c> section of the
/// executable (named in its section table, which stripping keeps) holds the address of the module's
/// ReadyToRun header, whose <c>DehydratedData</c> row gives the blob's start and end. It then asks the
/// kernel to drop those pages from this process (<c>madvise(MADV_DONTNEED)</c>). They are clean pages
/// of a read-only private file mapping, so dropping them cannot change what the process reads: should
/// anything read them again, the kernel maps them back from the file. Every step checks what it
/// reads (the ELF and header signatures, the header's version and row size, that each address lies in
/// a mapping of the executable and the blob in a read-only one, and through <c>/proc/self/pagemap</c>
/// that no page of the range is a private copy) and releases nothing at the first surprise.
/// </para>
/// <para>
/// Hand-written: no library does this, and the runtime does not expose the blob's address (the
/// symbol <c>__dehydrated_data</c> is local and stripped). The header layout is that of the .NET 10
/// runtime (ReadyToRun header version 16, <c>src/coreclr/nativeaot/Runtime/inc/ModuleHeaders.h</c>);
/// any other version is left alone.
/// </para>
/// </summary>
public static partial class StartupDataRelease
{
    /// <summary>The environment variable that turns the release off (value <c>0</c>), to compare or to rule it out.</summary>
    public const string Variable = "RUMOR_STARTUP_DATA_RELEASE";

    /// <summary>The ReadyToRun header's signature, <c>'RTR\0'</c>.</summary>
    internal const uint HeaderSignature = 0x00525452;

    /// <summary>The one header version whose layout this reads (the .NET 10 runtime's).</summary>
    internal const ushort KnownMajorVersion = 16;

    /// <summary><c>ReadyToRunSectionType.DehydratedData</c>.</summary>
    internal const int DehydratedDataSection = 207;

    /// <summary>A header row: section id (4), flags (4), start (8), end (8).</summary>
    internal const int RowSize = 24;

    /// <summary>The header before its rows: signature (4), versions (2 + 2), flags (4), row count (2), row size (1), row type (1).</summary>
    internal const int HeaderSize = 16;

    private const int MadvDontNeed = 4;

    /// <summary>What <see cref="Release"/> did: the resident bytes it released, or why it released nothing.</summary>
    /// <param name="ReleasedBytes">Resident bytes dropped (0 when skipped).</param>
    /// <param name="RangeBytes">The page-aligned length of the blob's range (0 when not found).</param>
    /// <param name="SkippedBecause">Why nothing was released, or null.</param>
    public readonly record struct Result(long ReleasedBytes, long RangeBytes, string? SkippedBecause);

    /// <summary>
    /// Drops this process's resident pages of the executable's dehydrated data; a no-op (with the
    /// reason) outside Linux or a Native AOT executable. Never throws.
    /// </summary>
    public static Result Release()
    {
        if (!OperatingSystem.IsLinux())
        {
            return Skip("not Linux");
        }

        if (RuntimeFeature.IsDynamicCodeSupported)
        {
            return Skip("not a Native AOT executable");
        }

        if (Environment.GetEnvironmentVariable(Variable) == "0")
        {
            return Skip(Variable + "=0");
        }

        try
        {
            return ReleaseOnLinux();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException or ArgumentException or NotSupportedException)
        {
            return Skip(e.GetType().Name + ": " + e.Message);
        }
    }

    private static Result ReleaseOnLinux()
    {
        string? exe = File.ResolveLinkTarget("/proc/self/exe", returnFinalTarget: false)?.FullName;
        if (exe is null)
        {
            return Skip("/proc/self/exe is not a link");
        }

        List<Mapping> mine = ParseMaps(File.ReadAllText("/proc/self/maps")).Where(m => m.Path == exe).ToList();
        Mapping? first = mine.Where(m => m.Offset == 0).Cast<Mapping?>().FirstOrDefault();
        if (first is null)
        {
            return Skip("the executable's mappings were not found in /proc/self/maps");
        }

        ElfSection? modules;
        using (FileStream elf = File.OpenRead("/proc/self/exe"))
        {
            modules = FindSection(elf, "__modules");
        }

        if (modules is not { Size: >= 8 } section)
        {
            return Skip("the executable has no __modules section");
        }

        ulong loadBase = first.Value.Start;
        ulong slot = loadBase + section.Address;
        if (!Readable(mine, slot, 8))
        {
            return Skip("the __modules section is not mapped");
        }

        ulong header = (ulong)Marshal.ReadInt64((nint)slot);
        if (!Readable(mine, header, HeaderSize))
        {
            return Skip("the module header is not in the executable's mappings");
        }

        byte[] head = Copy(header, HeaderSize);
        int rows = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(12));
        if (!Readable(mine, header, HeaderSize + (rows * RowSize)))
        {
            return Skip("the module header's rows are not in the executable's mappings");
        }

        Blob blob = FindDehydratedData(Copy(header, HeaderSize + (rows * RowSize)));
        if (blob.Error is not null)
        {
            return Skip(blob.Error);
        }

        Mapping? holder = mine.Where(m => m.Start <= blob.Start && blob.End <= m.End).Cast<Mapping?>().FirstOrDefault();
        if (holder is not { Permissions: "r--p" })
        {
            return Skip("the dehydrated data is not in a read-only private mapping of the executable");
        }

        ulong page = (ulong)Environment.SystemPageSize;
        ulong from = (blob.Start + page - 1) / page * page;
        ulong to = blob.End / page * page;
        if (to <= from)
        {
            return Skip("the dehydrated data spans no whole page");
        }

        long resident = 0;
        int pages = checked((int)((to - from) / page));
        byte[] entries = new byte[pages * 8];
        using (FileStream pagemap = File.OpenRead("/proc/self/pagemap"))
        {
            pagemap.Position = checked((long)(from / page * 8));
            pagemap.ReadExactly(entries);
        }

        for (int i = 0; i < pages; i++)
        {
            ulong entry = BinaryPrimitives.ReadUInt64LittleEndian(entries.AsSpan(i * 8));
            bool present = (entry & (1UL << 63)) != 0, swapped = (entry & (1UL << 62)) != 0, filePage = (entry & (1UL << 61)) != 0;
            if (swapped || (present && !filePage))
            {
                return Skip("a page of the dehydrated data is a private copy, not the file's");
            }

            resident += present ? (long)page : 0;
        }

        if (Madvise((nint)from, (nuint)(to - from), MadvDontNeed) != 0)
        {
            return Skip("madvise failed: errno " + Marshal.GetLastPInvokeError().ToString(CultureInfo.InvariantCulture));
        }

        return new Result(resident, (long)(to - from), null);
    }

    private static Result Skip(string why) => new(0, 0, why);

    private static byte[] Copy(ulong address, int length)
    {
        byte[] bytes = new byte[length];
        Marshal.Copy((nint)address, bytes, 0, length);
        return bytes;
    }

    private static bool Readable(List<Mapping> mappings, ulong address, int length) =>
        mappings.Any(m => m.Permissions.StartsWith('r') && m.Start <= address && address + (ulong)length <= m.End);

    /// <summary>One line of <c>/proc/PID/maps</c>.</summary>
    internal readonly record struct Mapping(ulong Start, ulong End, string Permissions, ulong Offset, string Path);

    /// <summary>The lines of <c>/proc/PID/maps</c> that parse; the path is what follows the inode (it may hold spaces, as in <c>" (deleted)"</c>).</summary>
    internal static List<Mapping> ParseMaps(string text)
    {
        List<Mapping> mappings = [];
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // start-end perms offset dev inode [path]
            string[] fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 5)
            {
                continue;
            }

            string[] range = fields[0].Split('-');
            if (range.Length != 2
                || !ulong.TryParse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong start)
                || !ulong.TryParse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong end)
                || !ulong.TryParse(fields[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong offset))
            {
                continue;
            }

            mappings.Add(new Mapping(start, end, fields[1], offset, fields.Length == 6 ? fields[5].Trim() : ""));
        }

        return mappings;
    }

    /// <summary>An ELF section's link-time address and size.</summary>
    internal readonly record struct ElfSection(ulong Address, ulong Size);

    /// <summary>
    /// The named section of a 64-bit little-endian ELF file, or null when the file is not one, has no
    /// such section, or its tables do not fit the file.
    /// </summary>
    internal static ElfSection? FindSection(Stream elf, string name)
    {
        byte[] header = new byte[64];
        if (!ReadAt(elf, 0, header)
            || header[0] != 0x7F || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F'
            || header[4] != 2 || header[5] != 1)
        {
            return null;
        }

        ulong tableOffset = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(0x28));
        int entrySize = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(0x3A));
        int count = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(0x3C));
        int namesIndex = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(0x3E));
        if (entrySize is < 64 or > 256 || count == 0 || namesIndex >= count || tableOffset > (ulong)elf.Length)
        {
            return null;
        }

        byte[] table = new byte[entrySize * count];
        if (!ReadAt(elf, (long)tableOffset, table))
        {
            return null;
        }

        Span<byte> names = table.AsSpan(namesIndex * entrySize, entrySize);
        ulong namesOffset = BinaryPrimitives.ReadUInt64LittleEndian(names[24..]);
        ulong namesSize = BinaryPrimitives.ReadUInt64LittleEndian(names[32..]);
        if (namesSize > 1 << 20 || namesOffset > (ulong)elf.Length)
        {
            return null;
        }

        byte[] strings = new byte[namesSize];
        if (!ReadAt(elf, (long)namesOffset, strings))
        {
            return null;
        }

        byte[] wanted = Encoding.ASCII.GetBytes(name + "\0");
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> entry = table.AsSpan(i * entrySize, entrySize);
            uint nameAt = BinaryPrimitives.ReadUInt32LittleEndian(entry);
            if (nameAt < strings.Length && strings.AsSpan((int)nameAt).StartsWith(wanted))
            {
                return new ElfSection(BinaryPrimitives.ReadUInt64LittleEndian(entry[16..]), BinaryPrimitives.ReadUInt64LittleEndian(entry[32..]));
            }
        }

        return null;
    }

    private static bool ReadAt(Stream stream, long offset, byte[] buffer)
    {
        if (offset < 0 || offset + buffer.Length > stream.Length)
        {
            return false;
        }

        stream.Position = offset;
        stream.ReadExactly(buffer);
        return true;
    }

    /// <summary>The dehydrated data's address range from a module header and its rows, or why not.</summary>
    internal readonly record struct Blob(ulong Start, ulong End, string? Error);

    /// <summary>Reads a ReadyToRun header (<see cref="HeaderSize"/> bytes, then its rows) for the <see cref="DehydratedDataSection"/> row.</summary>
    internal static Blob FindDehydratedData(ReadOnlySpan<byte> header)
    {
        if (header.Length < HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(header) != HeaderSignature)
        {
            return new Blob(0, 0, "the module header's signature is not 'RTR'");
        }

        ushort major = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        if (major != KnownMajorVersion)
        {
            return new Blob(0, 0, string.Create(CultureInfo.InvariantCulture, $"module header version {major} is not the known {KnownMajorVersion}"));
        }

        int rows = BinaryPrimitives.ReadUInt16LittleEndian(header[12..]);
        if (header[14] != RowSize || header.Length < HeaderSize + (rows * RowSize))
        {
            return new Blob(0, 0, "the module header's rows are not of the known size");
        }

        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<byte> row = header.Slice(HeaderSize + (i * RowSize), RowSize);
            if (BinaryPrimitives.ReadInt32LittleEndian(row) == DehydratedDataSection)
            {
                ulong start = BinaryPrimitives.ReadUInt64LittleEndian(row[8..]), end = BinaryPrimitives.ReadUInt64LittleEndian(row[16..]);
                return end > start ? new Blob(start, end, null) : new Blob(0, 0, "the dehydrated data row has no end");
            }
        }

        return new Blob(0, 0, "the executable has no dehydrated data");
    }

    /// <summary>Logs what <see cref="Release"/> did: a release at information level, a skip at debug level (the JIT build always skips).</summary>
    public static void Report(ILogger logger, Result result)
    {
        ArgumentNullException.ThrowIfNull(logger);
        if (result.SkippedBecause is null)
        {
            Released(logger, result.ReleasedBytes / 1024, result.RangeBytes / 1024);
        }
        else
        {
            Kept(logger, result.SkippedBecause);
        }
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Released {ReleasedKiB} KiB resident of the executable's start-up-only data (its {RangeKiB} KiB of dehydrated runtime data)")]
    private static partial void Released(ILogger logger, long releasedKiB, long rangeKiB);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Debug, Message = "Kept the executable's start-up-only data: {Reason}")]
    private static partial void Kept(ILogger logger, string reason);

    // DllImport rather than LibraryImport: the signature is blittable, so no marshalling code is
    // generated either way, and LibraryImport would need unsafe code turned on for the whole project.
    [DllImport("libc", EntryPoint = "madvise", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Madvise(nint address, nuint length, int advice);
}
