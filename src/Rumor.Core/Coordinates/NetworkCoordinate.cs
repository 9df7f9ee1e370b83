namespace Rumor.Core.Coordinates;

/// <summary>
/// A Vivaldi network coordinate as Serf keeps it (hashicorp/serf <c>coordinate.Coordinate</c>): a
/// point in a Euclidean space plus a height (the access-link delay every path to the node pays)
/// and an adjustment (a per-node correction learnt from recent errors), all in seconds, and the
/// node's confidence in it (<see cref="Error"/>). The estimated round trip between two nodes is
/// <c>|a.Vec - b.Vec| + a.Height + b.Height</c>, plus both adjustments unless that sum would not
/// be positive. Immutable: updates return new coordinates.
/// </summary>
public sealed class NetworkCoordinate
{
    // Below this, a distance or magnitude is treated as zero (Serf's zeroThreshold).
    internal const double ZeroThreshold = 1.0e-6;

    /// <summary>A coordinate from its parts (the vector is copied).</summary>
    public NetworkCoordinate(IReadOnlyList<double> vec, double error, double adjustment, double height)
    {
        ArgumentNullException.ThrowIfNull(vec);
        _vec = [.. vec];
        Error = error;
        Adjustment = adjustment;
        Height = height;
    }

    private readonly double[] _vec;

    /// <summary>The origin with the largest error and the smallest height: where every node starts.</summary>
    public static NetworkCoordinate Origin(VivaldiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new NetworkCoordinate(new double[options.Dimensionality], options.ErrorMax, 0.0, options.HeightMinSeconds);
    }

    /// <summary>The Euclidean part, seconds.</summary>
    public IReadOnlyList<double> Vec => _vec;

    /// <summary>The node's own estimate of how wrong this coordinate is (relative; starts at the maximum).</summary>
    public double Error { get; }

    /// <summary>A correction added to distances from this node, seconds.</summary>
    public double Adjustment { get; }

    /// <summary>The height, seconds.</summary>
    public double Height { get; }

    /// <summary>False when any component is NaN or infinite (such a coordinate is refused, never applied).</summary>
    public bool IsValid => _vec.All(double.IsFinite) && double.IsFinite(Error) && double.IsFinite(Adjustment) && double.IsFinite(Height);

    /// <summary>True when both have the same dimensionality.</summary>
    public bool IsCompatibleWith(NetworkCoordinate other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return _vec.Length == other._vec.Length;
    }

    /// <summary>
    /// The estimated round trip to <paramref name="other"/> in seconds, truncated to whole
    /// nanoseconds as Serf's <c>DistanceTo</c> (a Go duration) is.
    /// </summary>
    public double DistanceSeconds(NetworkCoordinate other)
    {
        double distance = RawDistanceSeconds(other);
        double adjusted = distance + Adjustment + other.Adjustment;
        if (adjusted > 0.0)
        {
            distance = adjusted;
        }

        return Math.Truncate(distance * 1e9) / 1e9;
    }

    /// <summary>The estimated round trip to <paramref name="other"/>.</summary>
    public TimeSpan DistanceTo(NetworkCoordinate other) => TimeSpan.FromTicks((long)Math.Round(DistanceSeconds(other) * TimeSpan.TicksPerSecond));

    // Euclidean distance plus both heights, without the adjustments.
    internal double RawDistanceSeconds(NetworkCoordinate other)
    {
        RequireCompatible(other);
        double sum = 0;
        for (int i = 0; i < _vec.Length; i++)
        {
            double d = _vec[i] - other._vec[i];
            sum += d * d;
        }

        return Math.Sqrt(sum) + Height + other.Height;
    }

    /// <summary>
    /// Moves this coordinate by <paramref name="force"/> seconds along the unit vector from
    /// <paramref name="other"/> to it (a negative force moves towards it); the height grows or
    /// shrinks in proportion, never below the minimum. Coincident points push apart in a random
    /// direction drawn from <paramref name="nextDouble"/>.
    /// </summary>
    internal NetworkCoordinate ApplyForce(VivaldiOptions options, double force, NetworkCoordinate other, Func<double> nextDouble)
    {
        RequireCompatible(other);
        (double[] unit, double magnitude) = UnitVectorAt(nextDouble, _vec, other._vec);
        double[] vec = new double[_vec.Length];
        for (int i = 0; i < vec.Length; i++)
        {
            vec[i] = _vec[i] + unit[i] * force;
        }

        double height = Height;
        if (magnitude > ZeroThreshold)
        {
            height = (Height + other.Height) * force / magnitude + Height;
            height = Math.Max(height, options.HeightMinSeconds);
        }

        return new NetworkCoordinate(vec, Error, Adjustment, height);
    }

    internal NetworkCoordinate With(double? error = null, double? adjustment = null) =>
        new(_vec, error ?? Error, adjustment ?? Adjustment, Height);

    private void RequireCompatible(NetworkCoordinate other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!IsCompatibleWith(other))
        {
            throw new ArgumentException("coordinate dimensionality does not match", nameof(other));
        }
    }

    private static (double[] Unit, double Magnitude) UnitVectorAt(Func<double> nextDouble, double[] a, double[] b)
    {
        double[] d = new double[a.Length];
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = a[i] - b[i];
        }

        double magnitude = Magnitude(d);
        if (magnitude > ZeroThreshold)
        {
            return (Scale(d, 1.0 / magnitude), magnitude);
        }

        for (int i = 0; i < d.Length; i++)
        {
            d[i] = nextDouble() - 0.5;
        }

        magnitude = Magnitude(d);
        if (magnitude > ZeroThreshold)
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

    private static double[] Scale(double[] v, double factor)
    {
        double[] r = new double[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            r[i] = v[i] * factor;
        }

        return r;
    }
}
