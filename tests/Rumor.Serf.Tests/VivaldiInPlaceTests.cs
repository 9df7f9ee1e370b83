using Rumor.Core.Coordinates;

namespace Rumor.Serf.Tests;

/// <summary>
/// The Vivaldi client moves its coordinate in place (issue 17: an update allocated about 1.5 KB of
/// vectors and coordinate objects, one per probe of every node). A model here is the client as it
/// was, immutable coordinates and fresh arrays at every step, written out on plain arrays: over
/// thousands of random samples (peers anywhere, coincident with us so the direction is drawn at
/// random, at the height floor, with zero and large round trips, and coordinates far enough out to
/// overflow and reset), the client's coordinate has the model's doubles bit for bit, and a warm
/// client allocates nothing per update.
/// </summary>
public sealed class VivaldiInPlaceTests
{
    [Theory]
    [InlineData(8, 1)]
    [InlineData(8, 2)]
    [InlineData(3, 3)]
    [InlineData(1, 4)]
    [InlineData(16, 5)]
    public void An_update_gives_the_same_doubles_as_the_immutable_arithmetic_bit_for_bit(int dimensions, int seed)
    {
        VivaldiOptions options = new() { Dimensionality = dimensions };
        VivaldiClient client = new(options, new Random(seed).NextDouble);
        Model model = new(options, new Random(seed).NextDouble);
        Random scenario = new(seed * 7919);
        int resets = 0;
        for (int step = 0; step < 4000; step++)
        {
            string peer = $"p{scenario.Next(12)}";
            NetworkCoordinate other = Peer(scenario, dimensions, client.Coordinate);
            TimeSpan rtt = scenario.Next(10) switch
            {
                0 => TimeSpan.Zero,
                1 => TimeSpan.FromTicks(scenario.Next(1, 100)),
                2 => VivaldiClient.RttMax,
                _ => TimeSpan.FromTicks(scenario.Next(1_000, 2_000_000)),
            };

            Assert.True(client.Update(peer, other, rtt));
            model.Update(peer, other, rtt);
            NetworkCoordinate c = client.Coordinate;
            for (int i = 0; i < dimensions; i++)
            {
                Assert.True(Same(model.Vec[i], c.Vec[i]), $"seed {seed}, step {step}: vec[{i}] {c.Vec[i]:R}, model {model.Vec[i]:R}");
            }

            Assert.True(Same(model.Error, c.Error), $"seed {seed}, step {step}: error {c.Error:R}, model {model.Error:R}");
            Assert.True(Same(model.Adjustment, c.Adjustment), $"seed {seed}, step {step}: adjustment {c.Adjustment:R}, model {model.Adjustment:R}");
            Assert.True(Same(model.Height, c.Height), $"seed {seed}, step {step}: height {c.Height:R}, model {model.Height:R}");
            Assert.Equal(model.Resets, client.Resets);
            resets = client.Resets;
        }

        Assert.True(resets > 0, "the scenario never overflowed a coordinate: the reset path went untested");
    }

    [Fact]
    public void A_warm_client_allocates_nothing_per_update()
    {
        VivaldiClient client = new(VivaldiOptions.Default, new Random(1).NextDouble);
        Random random = new(2);
        NetworkCoordinate[] peers = [.. Enumerable.Range(0, 8).Select(_ => Peer(random, 8, client.Coordinate, far: false))];
        string[] names = [.. Enumerable.Range(0, 8).Select(i => $"p{i}")];
        for (int i = 0; i < 64; i++)
        {
            client.Update(names[i % 8], peers[i % 8], TimeSpan.FromMilliseconds(1 + (i % 5)));
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            client.Update(names[i % 8], peers[i % 8], TimeSpan.FromMilliseconds(1 + (i % 5)));
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);

        // Read after the updates, the coordinate is built once and kept until the next update.
        NetworkCoordinate read = client.Coordinate;
        Assert.Same(read, client.Coordinate);
        client.Update(names[0], peers[0], TimeSpan.FromMilliseconds(2));
        Assert.NotSame(read, client.Coordinate);
    }

    [Theory]
    [InlineData(8, 1)]
    [InlineData(1, 2)]
    [InlineData(16, 3)]
    public void The_coordinate_message_written_from_the_parts_is_the_message_of_the_coordinate_byte_for_byte(int dimensions, int seed)
    {
        // Acks carry our coordinate written from the client's parts (no coordinate object per ack):
        // the bytes must be those of the message built from the public coordinate, after every kind
        // of update, a reset to the origin included.
        VivaldiOptions options = new() { Dimensionality = dimensions };
        VivaldiClient client = new(options, new Random(seed).NextDouble);
        Random scenario = new(seed * 31);
        Span<byte> written = stackalloc byte[Rumor.Core.Wire.Messages.CoordinateMessage.TypeAndPayloadMaxBytes];
        for (int step = 0; step < 2000; step++)
        {
            uint sequence = (uint)scenario.Next();
            byte[] expected = Rumor.Core.Wire.PacketBuilder.EncodeMessage(new Rumor.Core.Wire.Messages.CoordinateMessage(sequence, client.Coordinate));
            int length = client.EncodeCoordinateMessage(sequence, written);
            Assert.True(expected.AsSpan().SequenceEqual(written[..length]), $"seed {seed}, step {step}");
            client.Update($"p{scenario.Next(12)}", Peer(scenario, dimensions, client.Coordinate), TimeSpan.FromTicks(scenario.Next(1_000, 2_000_000)));
        }

        Assert.True(client.Resets > 0, "the scenario never reset the coordinate: the origin's bytes went untested");
    }

    private static bool Same(double a, double b) => BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b);

    // A peer's coordinate: usually near (milliseconds), sometimes exactly ours (the direction is then
    // drawn at random), at the height floor, or absurdly far (the update overflows and resets).
    private static NetworkCoordinate Peer(Random random, int dimensions, NetworkCoordinate self, bool far = true)
    {
        int kind = random.Next(40);
        if (kind == 0)
        {
            return new NetworkCoordinate(self.Vec, random.NextDouble() * 1.5, self.Adjustment, self.Height);
        }

        double scale = far && kind == 1 ? 1e200 : 0.01;
        double[] vec = new double[dimensions];
        for (int i = 0; i < dimensions; i++)
        {
            vec[i] = (random.NextDouble() - 0.5) * scale;
        }

        double height = kind == 2 ? 10.0e-6 : random.NextDouble() * 0.002;
        return new NetworkCoordinate(vec, random.NextDouble() * 1.5, (random.NextDouble() - 0.5) * 0.001, height);
    }

    /// <summary>The client as it was before the in-place update: every step a new vector.</summary>
    private sealed class Model(VivaldiOptions options, Func<double> nextDouble)
    {
        private const double Zero = 1.0e-6;
        private readonly Dictionary<string, List<long>> _samples = [];
        private readonly double[] _adjustmentSamples = new double[options.AdjustmentWindowSize];
        private readonly double[] _origin = new double[options.Dimensionality];
        private int _adjustmentIndex;

        public double[] Vec { get; private set; } = new double[options.Dimensionality];

        public double Error { get; private set; } = options.ErrorMax;

        public double Adjustment { get; private set; }

        public double Height { get; private set; } = options.HeightMinSeconds;

        public int Resets { get; private set; }

        public void Update(string peer, NetworkCoordinate other, TimeSpan rtt)
        {
            double[] otherVec = [.. other.Vec];
            double rttSeconds = Filter(peer, rtt);

            // Vivaldi.
            double distance = Distance(Vec, Height, Adjustment, otherVec, other.Height, other.Adjustment);
            double clamped = Math.Max(rttSeconds, Zero);
            double wrongness = Math.Abs(distance - clamped) / clamped;
            double totalError = Math.Max(Error + other.Error, Zero);
            double weight = Error / totalError;
            double error = options.ErrorGain * weight * wrongness + Error * (1.0 - options.ErrorGain * weight);
            Error = Math.Min(error, options.ErrorMax);
            double force = options.CoordinateGain * weight * (clamped - distance);
            (Vec, Height) = ApplyForce(Vec, Height, force, otherVec, other.Height);

            // Adjustment.
            if (_adjustmentSamples.Length > 0)
            {
                _adjustmentSamples[_adjustmentIndex] = rttSeconds - Raw(Vec, Height, otherVec, other.Height);
                _adjustmentIndex = (_adjustmentIndex + 1) % _adjustmentSamples.Length;
                double sum = 0;
                foreach (double sample in _adjustmentSamples)
                {
                    sum += sample;
                }

                Adjustment = sum / (2.0 * _adjustmentSamples.Length);
            }

            // Gravity.
            double fromOrigin = Distance(_origin, options.HeightMinSeconds, 0.0, Vec, Height, Adjustment);
            double gravity = -1.0 * Math.Pow(fromOrigin / options.GravityRhoSeconds, 2.0);
            (Vec, Height) = ApplyForce(Vec, Height, gravity, _origin, options.HeightMinSeconds);

            if (!Vec.All(double.IsFinite) || !double.IsFinite(Error) || !double.IsFinite(Adjustment) || !double.IsFinite(Height))
            {
                Resets++;
                Vec = new double[options.Dimensionality];
                Error = options.ErrorMax;
                Adjustment = 0.0;
                Height = options.HeightMinSeconds;
            }
        }

        private double Filter(string peer, TimeSpan rtt)
        {
            if (!_samples.TryGetValue(peer, out List<long>? samples))
            {
                _samples[peer] = samples = [];
            }

            samples.Add(rtt.Ticks);
            if (samples.Count > options.LatencyFilterSize)
            {
                samples.RemoveAt(0);
            }

            List<long> sorted = [.. samples.Order()];
            return TimeSpan.FromTicks(sorted[sorted.Count / 2]).TotalSeconds;
        }

        private static double Raw(double[] a, double aHeight, double[] b, double bHeight)
        {
            double sum = 0;
            for (int i = 0; i < a.Length; i++)
            {
                double d = a[i] - b[i];
                sum += d * d;
            }

            return Math.Sqrt(sum) + aHeight + bHeight;
        }

        private static double Distance(double[] a, double aHeight, double aAdjustment, double[] b, double bHeight, double bAdjustment)
        {
            double distance = Raw(a, aHeight, b, bHeight);
            double adjusted = distance + aAdjustment + bAdjustment;
            if (adjusted > 0.0)
            {
                distance = adjusted;
            }

            return Math.Truncate(distance * 1e9) / 1e9;
        }

        private (double[] Vec, double Height) ApplyForce(double[] vec, double height, double force, double[] other, double otherHeight)
        {
            (double[] unit, double magnitude) = UnitVectorAt(vec, other);
            double[] moved = new double[vec.Length];
            for (int i = 0; i < moved.Length; i++)
            {
                moved[i] = vec[i] + unit[i] * force;
            }

            double newHeight = height;
            if (magnitude > Zero)
            {
                newHeight = (height + otherHeight) * force / magnitude + height;
                newHeight = Math.Max(newHeight, options.HeightMinSeconds);
            }

            return (moved, newHeight);
        }

        private (double[] Unit, double Magnitude) UnitVectorAt(double[] a, double[] b)
        {
            double[] d = new double[a.Length];
            for (int i = 0; i < d.Length; i++)
            {
                d[i] = a[i] - b[i];
            }

            double magnitude = Magnitude(d);
            if (magnitude > Zero)
            {
                return (Scale(d, 1.0 / magnitude), magnitude);
            }

            for (int i = 0; i < d.Length; i++)
            {
                d[i] = nextDouble() - 0.5;
            }

            magnitude = Magnitude(d);
            if (magnitude > Zero)
            {
                return (Scale(d, 1.0 / magnitude), 0.0);
            }

            double[] axis = new double[d.Length];
            axis[0] = 1.0;
            return (axis, 0.0);
        }

        private static double Magnitude(double[] v)
        {
            double sum = 0;
            foreach (double x in v)
            {
                sum += x * x;
            }

            return Math.Sqrt(sum);
        }

        private static double[] Scale(double[] v, double factor) => [.. v.Select(x => x * factor)];
    }
}
