using MessagePack;
using Rumor.Core.Coordinates;

namespace Rumor.Serf.Wire;

/// <summary>
/// The payload Serf's ping delegate puts in every ack (serf-wire.md 4.7): one version byte
/// (<see cref="PingVersion"/>) and the msgpack of <c>coordinate.Coordinate</c>, a map
/// <c>{Adjustment, Error, Height, Vec: [float64 × 8]}</c> with float64s throughout (130 bytes for 8
/// dimensions, the keys in the order captured from real agents).
/// </summary>
public static class CoordinatePayload
{
    /// <summary>Serf's PingVersion.</summary>
    public const byte PingVersion = 1;

    /// <summary>The ack payload for <paramref name="coordinate"/>.</summary>
    public static byte[] Encode(NetworkCoordinate coordinate)
    {
        ArgumentNullException.ThrowIfNull(coordinate);
        return WireBuilder.Build([PingVersion], (ref MessagePackWriter w) =>
        {
            w.WriteMapHeader(4);
            GoMsgpack.WriteString(ref w, "Adjustment");
            w.Write(coordinate.Adjustment);
            GoMsgpack.WriteString(ref w, "Error");
            w.Write(coordinate.Error);
            GoMsgpack.WriteString(ref w, "Height");
            w.Write(coordinate.Height);
            GoMsgpack.WriteString(ref w, "Vec");
            w.WriteArrayHeader(coordinate.Vec.Count);
            foreach (double x in coordinate.Vec)
            {
                w.Write(x);
            }
        });
    }

    /// <summary>
    /// Decodes an ack payload. False for an empty payload, another version or malformed msgpack
    /// (Serf logs and ignores those); a decoded coordinate may still be invalid or of another
    /// dimensionality, which <see cref="VivaldiClient.Update(string, NetworkCoordinate, TimeSpan)"/> refuses.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> payload, out NetworkCoordinate? coordinate)
    {
        coordinate = null;
        if (payload.Length < 2 || payload[0] != PingVersion || !GoMsgpack.TryDecodeMap(payload[1..].ToArray(), out GoMap map, out _))
        {
            return false;
        }

        try
        {
            List<double> vec = [];
            foreach (object? x in map.List("Vec"))
            {
                vec.Add(x switch
                {
                    double d => d,
                    long l => l,
                    _ => throw new FormatException("Vec: not a float"),
                });
            }

            coordinate = new NetworkCoordinate(vec, map.Float("Error"), map.Float("Adjustment"), map.Float("Height"));
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
