namespace Rumor.Core.Coordinates;

/// <summary>
/// A Vivaldi network coordinate as Serf keeps it (hashicorp/serf <c>coordinate.Coordinate</c>): a
/// point in a Euclidean space plus a height (the access-link delay every path to the node pays)
/// and an adjustment (a per-node correction learnt from recent errors), all in seconds, and the
/// node's confidence in it (<see cref="Error"/>). The estimated round trip between two nodes is
/// <c>|a.Vec - b.Vec| + a.Height + b.Height</c>, plus both adjustments unless that sum would not
/// be positive. Immutable: updates return new coordinates (the Vivaldi client moves its own in place
/// with the same arithmetic, <see cref="DistanceSeconds(ReadOnlySpan{double}, double, double, ReadOnlySpan{double}, double, double)"/> and the rest).
/// </summary>
public sealed class NetworkCoordinate
{
    // Below this, a distance or magnitude is treated as zero (Serf's zeroThreshold).
    internal const double ZeroThreshold = 1.0e-6;

    /// <summary>A coordinate from its parts (the vector is copied).</summary>
    public NetworkCoordinate(IReadOnlyList<double> vec, double error, double adjustment, double height)
        : this(Copy(vec), error, adjustment, height, owned: true)
    {
    }

    /// <summary>A coordinate that takes <paramref name="vec"/> as its own (the caller keeps no reference): no copy.</summary>
    internal NetworkCoordinate(double[] vec, double error, double adjustment, double height, bool owned)
    {
        System.Diagnostics.Debug.Assert(owned, "only for arrays handed over");
        _vec = vec;
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
    public bool IsValid => AllFinite(_vec) && double.IsFinite(Error) && double.IsFinite(Adjustment) && double.IsFinite(Height);

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
        RequireCompatible(other);
        return DistanceSeconds(_vec, Height, Adjustment, other._vec, other.Height, other.Adjustment);
    }

    /// <summary>The estimated round trip to <paramref name="other"/>.</summary>
    public TimeSpan DistanceTo(NetworkCoordinate other) => TimeSpan.FromTicks((long)Math.Round(DistanceSeconds(other) * TimeSpan.TicksPerSecond));

    // Euclidean distance plus both heights, without the adjustments.
    internal double RawDistanceSeconds(NetworkCoordinate other)
    {
        RequireCompatible(other);
        return RawDistanceSeconds(_vec, Height, other._vec, other.Height);
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
        double[] vec = [.. _vec];
        double height = Height;
        ApplyForce(vec, ref height, other._vec, other.Height, options.HeightMinSeconds, force, nextDouble);
        return new NetworkCoordinate(vec, Error, Adjustment, height, owned: true);
    }

    /// <summary>This coordinate's parts into <paramref name="vec"/> (of the same dimensionality) and the three scalars.</summary>
    internal void CopyTo(Span<double> vec, out double error, out double adjustment, out double height)
    {
        _vec.CopyTo(vec);
        error = Error;
        adjustment = Adjustment;
        height = Height;
    }

    /// <summary>The vector as a span, for the arithmetic below without a copy.</summary>
    internal ReadOnlySpan<double> VecSpan => _vec;

    // The arithmetic on spans, shared by the immutable methods above and the Vivaldi client's
    // in-place update (which allocates nothing per sample): one implementation, so both give the
    // same doubles bit for bit (Serf's coordinate.go order of operations).

    /// <summary><see cref="DistanceSeconds(NetworkCoordinate)"/> of a = (vec, height, adjustment) to b.</summary>
    internal static double DistanceSeconds(ReadOnlySpan<double> a, double aHeight, double aAdjustment, ReadOnlySpan<double> b, double bHeight, double bAdjustment)
    {
        double distance = RawDistanceSeconds(a, aHeight, b, bHeight);
        double adjusted = distance + aAdjustment + bAdjustment;
        if (adjusted > 0.0)
        {
            distance = adjusted;
        }

        return Math.Truncate(distance * 1e9) / 1e9;
    }

    /// <summary>Euclidean distance of the vectors plus both heights (same lengths: the caller checked).</summary>
    internal static double RawDistanceSeconds(ReadOnlySpan<double> a, double aHeight, ReadOnlySpan<double> b, double bHeight)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = a[i] - b[i];
            sum += d * d;
        }

        return Math.Sqrt(sum) + aHeight + bHeight;
    }

    /// <summary>
    /// <see cref="ApplyForce(VivaldiOptions, double, NetworkCoordinate, Func{double})"/> in place:
    /// <paramref name="vec"/> and <paramref name="height"/> move; <paramref name="other"/> must not
    /// overlap <paramref name="vec"/>.
    /// </summary>
    internal static void ApplyForce(Span<double> vec, ref double height, ReadOnlySpan<double> other, double otherHeight, double heightMin, double force, Func<double> nextDouble)
    {
        Span<double> unit = vec.Length <= CoordinateDimensionsMax ? stackalloc double[CoordinateDimensionsMax] : new double[vec.Length];
        unit = unit[..vec.Length];
        double magnitude = UnitVectorAt(nextDouble, vec, other, unit);
        for (int i = 0; i < vec.Length; i++)
        {
            vec[i] = vec[i] + (unit[i] * force);
        }

        if (magnitude > ZeroThreshold)
        {
            height = ((height + otherHeight) * force / magnitude) + height;
            height = Math.Max(height, heightMin);
        }
    }

    /// <summary>True when every value is finite.</summary>
    internal static bool AllFinite(ReadOnlySpan<double> values)
    {
        foreach (double value in values)
        {
            if (!double.IsFinite(value))
            {
                return false;
            }
        }

        return true;
    }

    // Coordinates have at most this many dimensions (the wire's bound, checked by the options and the decoder).
    private const int CoordinateDimensionsMax = Wire.Messages.CoordinateMessage.DimensionsMax;

    private static double[] Copy(IReadOnlyList<double> vec)
    {
        ArgumentNullException.ThrowIfNull(vec);
        double[] copy = new double[vec.Count];
        for (int i = 0; i < copy.Length; i++)
        {
            copy[i] = vec[i];
        }

        return copy;
    }

    private void RequireCompatible(NetworkCoordinate other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!IsCompatibleWith(other))
        {
            throw new ArgumentException("coordinate dimensionality does not match", nameof(other));
        }
    }

    // The unit vector from b to a into unit (a's length), and the distance between them; coincident
    // points give a random direction and a magnitude of 0.
    private static double UnitVectorAt(Func<double> nextDouble, ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> unit)
    {
        for (int i = 0; i < unit.Length; i++)
        {
            unit[i] = a[i] - b[i];
        }

        double magnitude = Magnitude(unit);
        if (magnitude > ZeroThreshold)
        {
            Scale(unit, 1.0 / magnitude);
            return magnitude;
        }

        for (int i = 0; i < unit.Length; i++)
        {
            unit[i] = nextDouble() - 0.5;
        }

        magnitude = Magnitude(unit);
        if (magnitude > ZeroThreshold)
        {
            Scale(unit, 1.0 / magnitude);
            return 0.0;
        }

        unit.Clear();
        unit[0] = 1.0;
        return 0.0;
    }

    private static double Magnitude(ReadOnlySpan<double> v)
    {
        double sum = 0;
        foreach (double x in v)
        {
            sum += x * x;
        }

        return Math.Sqrt(sum);
    }

    private static void Scale(Span<double> v, double factor)
    {
        for (int i = 0; i < v.Length; i++)
        {
            v[i] *= factor;
        }
    }
}
