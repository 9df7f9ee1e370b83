using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.Wire;

/// <summary>
/// The coordinates module decodes an ack's coordinate into parts held inline (no coordinate object
/// per probe). That decoder must be the public one in every respect: the same error for every
/// payload, in the same order of checks, and for a valid payload the same numbers bit for bit and
/// the same bytes written back.
/// </summary>
public sealed class CoordinatePartsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Parts_decode_as_the_message_does_for_valid_truncated_and_malformed_payloads(int seed)
    {
        Random random = new(seed);
        int valid = 0;
        for (int trial = 0; trial < 3000; trial++)
        {
            byte[] payload = Payload(random);
            DecodeError expected = CoordinateMessage.TryDecode(payload, null, out CoordinateMessage message);
            DecodeError actual = CoordinateParts.TryDecode(payload, null, out CoordinateParts parts);
            Assert.True(expected == actual, $"seed {seed}, trial {trial}: {actual}, the message's decoder says {expected} ({Convert.ToHexString(payload)})");
            if (expected != DecodeError.None)
            {
                continue;
            }

            valid++;
            Assert.Equal(message.Sequence, parts.Sequence);
            Assert.Equal(message.Coordinate.Vec.Select(Bits), parts.Vec.ToArray().Select(Bits));
            Assert.Equal(Bits(message.Coordinate.Error), Bits(parts.Error));
            Assert.Equal(Bits(message.Coordinate.Adjustment), Bits(parts.Adjustment));
            Assert.Equal(Bits(message.Coordinate.Height), Bits(parts.Height));
            Assert.Equal(payload, PacketBuilder.EncodeMessage(parts)[1..]);
            Assert.Equal(payload.Length, parts.PayloadLength);
        }

        Assert.True(valid > 300, $"only {valid} valid payloads: the valid path is barely tested");
    }

    private static long Bits(double value) => BitConverter.DoubleToInt64Bits(value);

    // A coordinate message's payload, often valid, else cut short, with a bad count, a non-finite
    // or negative number, or trailing bytes.
    private static byte[] Payload(Random random)
    {
        int dimensions = random.Next(10) == 0 ? random.Next(0, 20) : random.Next(1, CoordinateMessage.DimensionsMax + 1);
        List<byte> bytes = [.. BitConverter.GetBytes((uint)random.Next())];
        bytes.Add((byte)dimensions);
        int numbers = dimensions + 3;
        for (int i = 0; i < numbers; i++)
        {
            double value = random.Next(25) switch
            {
                0 => double.NaN,
                1 => double.PositiveInfinity,
                2 => -random.NextDouble(),
                _ => random.NextDouble() * 0.01,
            };
            bytes.AddRange(BitConverter.GetBytes(BitConverter.DoubleToUInt64Bits(value)));
        }

        int cut = random.Next(8) == 0 ? random.Next(bytes.Count) : bytes.Count;
        byte[] payload = [.. bytes.Take(cut)];
        return random.Next(12) == 0 ? [.. payload, 0] : payload;
    }
}
