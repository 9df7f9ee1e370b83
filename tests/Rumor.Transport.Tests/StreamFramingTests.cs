using System.Buffers.Binary;

namespace Rumor.Transport.Tests;

/// <summary>
/// Stream framing's read: a frame's buffer grows with the bytes that arrive, so a hostile peer that
/// announces a 16 MB message and sends a little costs a little (issue 13: 100 such streams took an
/// agent from 120 MB to 1.1 GB); whole frames still read back exactly.
/// </summary>
public sealed class StreamFramingTests
{
    private const int Announced = 16 * 1024 * 1024;

    [Fact]
    public async Task A_peer_that_announces_16_MB_and_sends_100_bytes_costs_no_16_MB_buffer()
    {
        using MemoryStream stream = new(Frame(Announced, new byte[100]));

        // A MemoryStream completes every read at once, so the whole read runs on this thread.
        long before = GC.GetAllocatedBytesForCurrentThread();
        EndOfStreamException refused = await Assert.ThrowsAsync<EndOfStreamException>(() => StreamFraming.ReadFrameAsync(stream, Announced, CancellationToken.None));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains($"after 100 of the {Announced} bytes", refused.Message, StringComparison.Ordinal);
        Assert.True(allocated < 1024 * 1024, $"reading 100 bytes of an announced 16 MB frame allocated {allocated:N0} bytes");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(StreamFraming.InitialBufferBytes)]
    [InlineData(StreamFraming.InitialBufferBytes + 1)]
    [InlineData(3 * 1024 * 1024 + 7)]
    public async Task A_whole_frame_reads_back_exactly(int length)
    {
        byte[] payload = new byte[length];
        new Random(length).NextBytes(payload);
        using MemoryStream stream = new(StreamFraming.Frame(payload));

        byte[] read = await StreamFraming.ReadFrameAsync(new TrickleStream(stream), Announced, CancellationToken.None);

        Assert.Equal(payload, read);
    }

    [Fact]
    public async Task A_length_above_the_bound_is_refused_before_any_payload_is_read()
    {
        using MemoryStream stream = new(Frame(Announced + 1, []));

        await Assert.ThrowsAsync<StreamFrameException>(() => StreamFraming.ReadFrameAsync(stream, Announced, CancellationToken.None));
    }

    private static byte[] Frame(int announced, byte[] sent)
    {
        byte[] frame = new byte[StreamFraming.PrefixBytes + sent.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)announced);
        sent.CopyTo(frame, StreamFraming.PrefixBytes);
        return frame;
    }

    /// <summary>Hands out at most 1,000 bytes a read, as a network does, so the buffer grows over many reads.</summary>
    private sealed class TrickleStream(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 1000));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(buffer[..Math.Min(buffer.Length, 1000)], cancellationToken);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
