using Rumor.Core.Coordinates;
using Rumor.Core.Randomness;
using Rumor.Core.Tests.Aggregates;

namespace Rumor.Core.Tests;

/// <summary>
/// The coordinates module keeps the Vivaldi client's latency filters at the end of its coordinate
/// rows (one name index for both, <see cref="ILatencyRows"/>): a client on those rows must move
/// exactly as a client with a table of its own, sample for sample, and the filters must never
/// touch the coordinate part of a row.
/// </summary>
public sealed class CoordinateLatencyRowsTests
{
    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void A_client_on_the_module_rows_moves_exactly_as_one_with_its_own_table(ulong seed)
    {
        GossipNode node = new(GossipOptions.Lan with { Name = "self", Generation = 1, AdvertiseAddress = NodeAddress.Parse("10.0.0.1:7946") }, new RecordingHost(), new Xoshiro256StarStar(1));
        CoordinatesModule module = node.Module<CoordinatesModule>();
        Assert.True(module.Enabled);
        VivaldiClient own = new(VivaldiOptions.Default, new Random((int)seed).NextDouble);
        VivaldiClient onRows = new(VivaldiOptions.Default, new Random((int)seed).NextDouble, module);
        Xoshiro256StarStar random = new(seed);
        string[] peers = [.. Enumerable.Range(0, 12).Select(i => $"peer-{i}")];
        for (int step = 0; step < 3000; step++)
        {
            string peer = peers[random.NextInt(peers.Length)];
            if (random.NextInt(20) == 0)
            {
                own.Forget(peer);
                onRows.Forget(peer);
            }
            else
            {
                double[] vec = [.. Enumerable.Range(0, VivaldiOptions.Default.Dimensionality).Select(_ => (random.NextDouble() - 0.5) * 0.02)];
                NetworkCoordinate other = new(vec, 0.1 + random.NextDouble(), (random.NextDouble() - 0.5) * 0.001, 1e-5 + (random.NextDouble() * 0.001));
                TimeSpan rtt = TimeSpan.FromTicks(1 + random.NextInt(2_000_000));
                Assert.Equal(own.Update(peer, other, rtt), onRows.Update(peer, other, rtt));
            }

            NetworkCoordinate expected = own.Coordinate;
            NetworkCoordinate actual = onRows.Coordinate;
            Assert.True(
                expected.Vec.SequenceEqual(actual.Vec) && expected.Error == actual.Error && expected.Adjustment == actual.Adjustment && expected.Height == actual.Height,
                $"seed {seed}, step {step}: the client on the module's rows moved elsewhere");
            Assert.Equal(own.TrackedPeers, onRows.TrackedPeers);
        }

        // The filters live past the coordinate part: nothing was written to a coordinate.
        foreach (string peer in peers)
        {
            if (module.Get(peer) is { } stored)
            {
                Assert.All(stored.Vec, v => Assert.Equal(0.0, v));
                Assert.Equal((0.0, 0.0, 0.0), (stored.Error, stored.Adjustment, stored.Height));
            }
        }
    }
}
