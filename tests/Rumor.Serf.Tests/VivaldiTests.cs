using Rumor.Core.Coordinates;
using Rumor.Serf.Wire;

namespace Rumor.Serf.Tests;

/// <summary>
/// Serf's Vivaldi client (hashicorp/serf coordinate/): one update worked through by hand, the
/// distance and force cases of Serf's own coordinate tests, the latency filter, the refusals, the
/// ack payload's layout, and convergence on a known geometry.
/// </summary>
public sealed class VivaldiTests
{
    private static NetworkCoordinate At(int dimensions, int axis, double seconds, double height = 10.0e-6, double error = 1.5)
    {
        double[] vec = new double[dimensions];
        vec[axis] = seconds;
        return new NetworkCoordinate(vec, error, 0.0, height);
    }

    [Fact]
    public void One_update_from_the_origin_matches_the_hand_computation()
    {
        // Serf's TestClient_Update geometry with its default (8-dimensional) config: a peer 1 ms
        // "above" us on axis 2, both at the minimum height 10 µs and error 1.5, and an observed
        // RTT of 2 ms.
        //   estimate  = 1 ms + 10 µs + 10 µs                  = 1.02 ms
        //   wrongness = |1.02 - 2| / 2                        = 0.49
        //   weight    = 1.5 / (1.5 + 1.5)                     = 0.5
        //   error     = 0.25·0.5·0.49 + 1.5·(1 - 0.25·0.5)    = 1.37375
        //   force     = 0.25·0.5·(2 ms - 1.02 ms)             = 0.1225 ms, away from the peer (-axis 2)
        //   height    = (10 µs + 10 µs)·0.1225 ms / 1 ms + 10 µs = 12.45 µs
        //   adjustment: raw distance now 1.1225 ms + 12.45 µs + 10 µs = 1.14495 ms;
        //               sample 2 - 1.14495 = 0.85505 ms; window of 20 → 0.85505 / 40 ms = 21.37625 µs
        //   gravity   = -(0.166 ms / 150 s)² ≈ -1.2e-12 s: below the tolerance.
        VivaldiClient client = new(VivaldiOptions.Default, new Random(1).NextDouble);
        Assert.True(client.Update("peer", At(8, 2, 0.001), TimeSpan.FromMilliseconds(2)));

        NetworkCoordinate c = client.Coordinate;
        Assert.Equal(1.37375, c.Error, 1e-12);
        Assert.Equal(-0.0001225, c.Vec[2], 1e-11);
        Assert.All(c.Vec.Where((_, i) => i != 2), x => Assert.Equal(0.0, x));
        Assert.Equal(12.45e-6, c.Height, 1e-11);
        Assert.Equal(21.37625e-6, c.Adjustment, 1e-11);
    }

    [Fact]
    public void Distance_is_euclidean_plus_heights_plus_positive_adjustments_as_in_serfs_tests()
    {
        NetworkCoordinate c1 = new([-0.5, 1.3, 2.4], 1.5, 0, 0);
        NetworkCoordinate c2 = new([1.2, -2.3, 3.4], 1.5, 0, 0);
        Assert.Equal(0.0, c1.DistanceSeconds(c1));
        Assert.Equal(4.104875150354758, c1.DistanceSeconds(c2), 1e-9);
        Assert.Equal(c2.DistanceSeconds(c1), c1.DistanceSeconds(c2));

        // A negative total adjustment is ignored; positive ones add; heights add.
        Assert.Equal(4.104875150354758, new NetworkCoordinate(c1.Vec, 1.5, -1.0e6, 0).DistanceSeconds(c2), 1e-9);
        NetworkCoordinate a1 = new(c1.Vec, 1.5, 0.1, 0.7);
        NetworkCoordinate a2 = new(c2.Vec, 1.5, 0.2, 0.1);
        Assert.Equal(4.104875150354758 + 0.3 + 0.8, a1.DistanceSeconds(a2), 1e-9);
        Assert.InRange(a1.DistanceTo(a2).Ticks, TimeSpan.FromSeconds(5.204875150354758).Ticks - 1, TimeSpan.FromSeconds(5.204875150354758).Ticks + 1);
    }

    [Fact]
    public void Force_moves_along_the_line_and_scales_height_as_in_serfs_tests()
    {
        VivaldiOptions noHeight = new() { Dimensionality = 3, HeightMinSeconds = 0 };
        Random random = new(7);
        NetworkCoordinate origin = NetworkCoordinate.Origin(noHeight);
        NetworkCoordinate above = new([0, 0, 2.9], 1.5, 0, 0);
        NetworkCoordinate c = origin.ApplyForce(noHeight, 5.3, above, random.NextDouble);
        Assert.Equal([0.0, 0.0, -5.3], c.Vec);
        c = c.ApplyForce(noHeight, 2.0, new NetworkCoordinate([3.4, 0, -5.3], 1.5, 0, 0), random.NextDouble);
        Assert.Equal(-2.0, c.Vec[0], 1e-12);
        Assert.Equal(-5.3, c.Vec[2], 1e-12);

        // Coincident points push apart one unit in some direction.
        Assert.Equal(1.0, origin.DistanceSeconds(origin.ApplyForce(noHeight, 1.0, origin, random.NextDouble)), 1e-9);

        VivaldiOptions withHeight = new() { Dimensionality = 3 };
        origin = NetworkCoordinate.Origin(withHeight);
        Assert.Equal(10.0e-6 + 5.3 * 10.0e-6 / 2.9, origin.ApplyForce(withHeight, 5.3, above, random.NextDouble).Height, 1e-15);
        Assert.Equal(10.0e-6, origin.ApplyForce(withHeight, -5.3, above, random.NextDouble).Height);
    }

    [Fact]
    public void Latency_filter_takes_the_median_of_three_per_peer()
    {
        VivaldiClient client = new(VivaldiOptions.Default, new Random(1).NextDouble);
        double[] alice = [0.201, 0.200, 0.207, 1.9, 0.203, 0.199, 0.211];
        double[] medians = [0.201, 0.201, 0.201, 0.207, 0.207, 0.203, 0.203];
        for (int i = 0; i < alice.Length; i++)
        {
            Assert.Equal(medians[i], client.LatencyFilter("alice", TimeSpan.FromSeconds(alice[i])));
        }

        Assert.Equal(0.310, client.LatencyFilter("bob", TimeSpan.FromSeconds(0.310)));
        client.Forget("alice");
        Assert.Equal(0.888, client.LatencyFilter("alice", TimeSpan.FromSeconds(0.888)));

        // Samples are kept in ticks: what comes back is the sample's TotalSeconds exactly, up to RttMax.
        foreach (TimeSpan rtt in new[] { TimeSpan.FromTicks(1), TimeSpan.FromTicks(1_234_567), TimeSpan.FromTicks(99_999_999), VivaldiClient.RttMax })
        {
            client.Forget("carol");
            Assert.Equal(rtt.TotalSeconds, client.LatencyFilter("carol", rtt));
        }
    }

    [Fact]
    public void Invalid_coordinates_other_dimensions_and_bogus_rtts_change_nothing()
    {
        VivaldiClient client = new(VivaldiOptions.Default, new Random(1).NextDouble);
        NetworkCoordinate before = client.Coordinate;
        NetworkCoordinate nan = At(8, 0, double.NaN);
        Assert.False(nan.IsValid);
        Assert.False(client.Update("n", nan, TimeSpan.FromMilliseconds(250)));
        Assert.False(client.Update("n", At(3, 0, 0.001), TimeSpan.FromMilliseconds(250)));
        Assert.False(client.Update("n", At(8, 0, 0.001), TimeSpan.FromMilliseconds(-35)));
        Assert.False(client.Update("n", At(8, 0, 0.001), TimeSpan.FromSeconds(11)));
        Assert.Same(before, client.Coordinate);
        Assert.Equal(0, client.TrackedPeers);
    }

    [Fact]
    public void Ack_payload_is_the_version_byte_and_a_130_byte_coordinate_map_that_round_trips()
    {
        NetworkCoordinate c = new([0.001, -0.002, 0, 0, 0, 0, 0, 0.5], 0.75, 1.25e-5, 2.5e-5);
        byte[] payload = CoordinatePayload.Encode(c);

        Assert.Equal(130, payload.Length); // serf-wire.md 4.7, the size in real acks
        Assert.Equal(Hex.Parse("01 84 aa 41646a7573746d656e74 cb"), payload[..14]);
        Assert.True(CoordinatePayload.TryDecode(payload, out NetworkCoordinate? back));
        Assert.Equal(c.Vec, back!.Vec);
        Assert.Equal((c.Error, c.Adjustment, c.Height), (back.Error, back.Adjustment, back.Height));

        payload[0] = 2; // another PingVersion
        Assert.False(CoordinatePayload.TryDecode(payload, out _));
        Assert.False(CoordinatePayload.TryDecode([1, 0xc1], out _));
        Assert.False(CoordinatePayload.TryDecode([], out _));
    }

    [Fact]
    public void Coordinates_converge_on_a_known_geometry()
    {
        // Five nodes on a line, 10 ms apart (plus nothing else): after rounds of all-pairs
        // observations every estimate is within 15 % of the true RTT. A broken force, error or
        // adjustment step leaves estimates far off.
        const int n = 5;
        Random random = new(3);
        VivaldiClient[] clients = [.. Enumerable.Range(0, n).Select(i => new VivaldiClient(VivaldiOptions.Default, new Random(i).NextDouble))];
        double Truth(int i, int j) => 0.010 * Math.Abs(i - j);
        for (int round = 0; round < 5000; round++)
        {
            int i = random.Next(n);
            int j = (i + 1 + random.Next(n - 1)) % n;
            clients[i].Update($"n{j}", clients[j].Coordinate, TimeSpan.FromSeconds(Truth(i, j)));
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                double estimate = clients[i].Coordinate.DistanceSeconds(clients[j].Coordinate);
                Assert.InRange(estimate, Truth(i, j) * 0.85, Truth(i, j) * 1.15);
            }
        }
    }
}
