using System.Text;
using Rumor.Core.Tests.Support;
using Rumor.Core.Wire;

namespace Rumor.Core.Tests.Wire;

public class Crc32CTests
{
    [Fact]
    public void Check_value_of_123456789_is_E3069283()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
    }

    [Fact]
    public void Reference_implementation_has_the_check_value_too()
    {
        // Guards the oracle itself: a broken reference would make the agreement test meaningless.
        Assert.Equal(0xE3069283u, ReferenceCrc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
    }

    [Fact]
    public void Empty_input_gives_zero()
    {
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void Agrees_with_the_bitwise_reference_for_every_length_0_to_100()
    {
        // Every length exercises every combination of the 8-, 4- and 1-byte steps of the fast path,
        // and every start alignment of the tail.
        Random random = new(20240601);
        for (int length = 0; length <= 100; length++)
        {
            for (int trial = 0; trial < 20; trial++)
            {
                byte[] data = new byte[length];
                random.NextBytes(data);
                Assert.True(
                    ReferenceCrc32C.Compute(data) == Crc32C.Compute(data),
                    $"length {length}, data {Convert.ToHexString(data)}");
            }
        }
    }

    [Fact]
    public void Agrees_with_the_reference_on_unaligned_slices()
    {
        Random random = new(7);
        byte[] data = new byte[300];
        random.NextBytes(data);
        for (int start = 0; start < 16; start++)
        {
            for (int length = 0; length < 64; length++)
            {
                ReadOnlySpan<byte> slice = data.AsSpan(start, length);
                Assert.Equal(ReferenceCrc32C.Compute(slice), Crc32C.Compute(slice));
            }
        }
    }
}
