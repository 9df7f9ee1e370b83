using System.Buffers.Binary;

namespace Rumor.Agent.Tests;

/// <summary>
/// The parsing behind <see cref="StartupDataRelease"/> (issue 16: the executable's dehydrated data
/// stays resident after start-up). The release itself only happens in the Native AOT executable:
/// scripts/aot-smoke.sh checks that the published agent releases it and keeps working.
/// </summary>
public sealed class StartupDataReleaseTests
{
    [Fact]
    public void Finds_a_section_of_a_real_executable_by_name_and_nothing_for_a_missing_name()
    {
        using FileStream exe = File.OpenRead("/proc/self/exe");

        StartupDataRelease.ElfSection? text = StartupDataRelease.FindSection(exe, ".text");
        StartupDataRelease.ElfSection? missing = StartupDataRelease.FindSection(exe, ".no-such-section");

        Assert.NotNull(text);
        Assert.True(text.Value.Size > 0 && text.Value.Address > 0, $"{text}");
        Assert.Null(missing);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(4096)]
    public void Garbage_and_truncated_files_give_no_section_and_do_not_throw(int length)
    {
        byte[] noise = new byte[length];
        new Random(length).NextBytes(noise);
        Assert.Null(StartupDataRelease.FindSection(new MemoryStream(noise), ".text"));

        if (length >= 64)
        {
            // An ELF header whose section table lies past the end of the file.
            noise[0] = 0x7F;
            noise[1] = (byte)'E';
            noise[2] = (byte)'L';
            noise[3] = (byte)'F';
            noise[4] = 2;
            noise[5] = 1;
            BinaryPrimitives.WriteUInt64LittleEndian(noise.AsSpan(0x28), (ulong)length - 8);
            BinaryPrimitives.WriteUInt16LittleEndian(noise.AsSpan(0x3A), 64);
            BinaryPrimitives.WriteUInt16LittleEndian(noise.AsSpan(0x3C), 30);
            BinaryPrimitives.WriteUInt16LittleEndian(noise.AsSpan(0x3E), 29);
            Assert.Null(StartupDataRelease.FindSection(new MemoryStream(noise), ".text"));
        }
    }

    [Fact]
    public void The_dehydrated_data_row_is_read_from_a_module_header()
    {
        byte[] header = Header(16, (201, 0x1000, 0x2000), (207, 0xED29F9, 0x134E908), (313, 0x3000, 0x4000));

        StartupDataRelease.Blob blob = StartupDataRelease.FindDehydratedData(header);

        Assert.Null(blob.Error);
        Assert.Equal(0xED29F9UL, blob.Start);
        Assert.Equal(0x134E908UL, blob.End);
    }

    [Fact]
    public void A_header_it_does_not_know_releases_nothing()
    {
        byte[] good = Header(16, (207, 0x1000, 0x9000));

        byte[] signature = (byte[])good.Clone();
        signature[0] ^= 1;
        byte[] version = Header(17, (207, 0x1000, 0x9000));
        byte[] rowSize = (byte[])good.Clone();
        rowSize[14] = 16;
        byte[] noRow = Header(16, (206, 0x1000, 0x9000));
        byte[] noEnd = Header(16, (207, 0x1000, 0));
        byte[] truncated = good[..^8];

        Assert.Contains("signature", StartupDataRelease.FindDehydratedData(signature).Error, StringComparison.Ordinal);
        Assert.Contains("version 17", StartupDataRelease.FindDehydratedData(version).Error, StringComparison.Ordinal);
        Assert.Contains("size", StartupDataRelease.FindDehydratedData(rowSize).Error, StringComparison.Ordinal);
        Assert.Contains("no dehydrated data", StartupDataRelease.FindDehydratedData(noRow).Error, StringComparison.Ordinal);
        Assert.Contains("no end", StartupDataRelease.FindDehydratedData(noEnd).Error, StringComparison.Ordinal);
        Assert.Contains("size", StartupDataRelease.FindDehydratedData(truncated).Error, StringComparison.Ordinal);
        Assert.NotNull(StartupDataRelease.FindDehydratedData([]).Error);
    }

    [Fact]
    public void Maps_lines_parse_with_their_paths_and_bad_lines_are_skipped()
    {
        const string maps = """
            5581a2c00000-5581a2c31000 r--p 00000000 08:01 1234                       /opt/rumor/rumor
            5581a2c31000-5581a379c000 r-xp 00031000 08:01 1234                       /opt/rumor/rumor
            5581a379c000-5581a440f000 r--p 00b9c000 08:01 1234                       /opt/rumor/rumor (deleted)
            7f0000000000-7f0000021000 rw-p 00000000 00:00 0
            not a mapping line
            zz-10 r--p 0 0 0 /x
            """;

        List<StartupDataRelease.Mapping> parsed = StartupDataRelease.ParseMaps(maps);

        Assert.Equal(4, parsed.Count);
        Assert.Equal(new StartupDataRelease.Mapping(0x5581a2c00000, 0x5581a2c31000, "r--p", 0, "/opt/rumor/rumor"), parsed[0]);
        Assert.Equal(0xb9c000UL, parsed[2].Offset);
        Assert.Equal("/opt/rumor/rumor (deleted)", parsed[2].Path);
        Assert.Equal("", parsed[3].Path);
    }

    [Fact]
    public void Under_the_jit_it_releases_nothing_and_says_why()
    {
        StartupDataRelease.Result result = StartupDataRelease.Release();

        Assert.Equal(0, result.ReleasedBytes);
        Assert.Equal("not a Native AOT executable", result.SkippedBecause);
    }

    private static byte[] Header(ushort major, params (int Id, ulong Start, ulong End)[] rows)
    {
        byte[] header = new byte[StartupDataRelease.HeaderSize + (rows.Length * StartupDataRelease.RowSize)];
        BinaryPrimitives.WriteUInt32LittleEndian(header, StartupDataRelease.HeaderSignature);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), major);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(12), (ushort)rows.Length);
        header[14] = StartupDataRelease.RowSize;
        header[15] = 1;
        for (int i = 0; i < rows.Length; i++)
        {
            Span<byte> row = header.AsSpan(StartupDataRelease.HeaderSize + (i * StartupDataRelease.RowSize));
            BinaryPrimitives.WriteInt32LittleEndian(row, rows[i].Id);
            BinaryPrimitives.WriteInt32LittleEndian(row[4..], 1);
            BinaryPrimitives.WriteUInt64LittleEndian(row[8..], rows[i].Start);
            BinaryPrimitives.WriteUInt64LittleEndian(row[16..], rows[i].End);
        }

        return header;
    }
}
