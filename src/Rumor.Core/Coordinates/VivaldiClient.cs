namespace Rumor.Core.Coordinates;

/// <summary>
/// This node's Vivaldi coordinate, updated from each observed round trip as Serf's
/// <c>coordinate.Client</c> does (Dabek et al., "Vivaldi: A Decentralized Network Coordinate
/// System", with the Lifeguard-era additions from Ledlie et al., "Network Coordinates in the Wild"):
/// <list type="number">
/// <item>the RTT to a peer goes through a per-peer median filter of the last
/// <see cref="VivaldiOptions.LatencyFilterSize"/> samples, so a single slow answer never moves us;</item>
/// <item>Vivaldi: weight w = own error / (own + peer error); the error moves towards the relative
/// wrongness |estimate - rtt| / rtt by c_e·w (capped at the maximum); the coordinate moves along the
/// line to the peer by c_c·w·(rtt - estimate) (away when the estimate is too short);</item>
/// <item>the adjustment becomes the mean of the last window's (rtt - raw distance) halved, absorbing
/// what the Euclidean model cannot;</item>
/// <item>gravity pulls the point towards the origin by (distance / rho)², so the cloud of
/// coordinates does not drift;</item>
/// <item>a coordinate that became NaN or infinite is reset to the origin (counted).</item>
/// </list>
/// Invariant: <see cref="Coordinate"/> is always valid and of the configured dimensionality.
/// Not thread-safe: the owning node calls it under its lock.
/// </summary>
public sealed class VivaldiClient
{
    /// <summary>RTTs beyond this are refused as bogus (Serf: 10 s).</summary>
    public static readonly TimeSpan RttMax = TimeSpan.FromSeconds(10);

    private readonly VivaldiOptions _options;
    private readonly NetworkCoordinate _origin;
    private readonly Func<double> _random;
    private readonly double[] _adjustmentSamples;
    // Per peer: [count, sample 1 .. sample LatencyFilterSize], oldest sample first, each sample in
    // ticks (one flat table, no list per peer). An RTT is at most RttMax (10^8 ticks), so a sample is
    // an int: half a row of doubles, and the seconds read back are exactly TimeSpan.TotalSeconds'.
    // The coordinates module keeps these rows at the end of its coordinate rows (one name index
    // for both); a client on its own keeps them in a table of its own.
    private readonly ILatencyRows _latencySamples;
    private int _adjustmentIndex;

    // Our coordinate, moved in place by each sample (NetworkCoordinate's span arithmetic, the same
    // doubles as its immutable methods): an update allocates nothing. The immutable coordinate the
    // API and the acks read is built from these when first read after a change (_coordinate null).
    private readonly double[] _vec;
    private double _error;
    private double _adjustment;
    private double _height;
    private NetworkCoordinate? _coordinate;

    /// <summary>A client at the origin.</summary>
    public VivaldiClient(VivaldiOptions options, Func<double> nextDouble)
        : this(options, nextDouble, null)
    {
    }

    /// <summary>A client at the origin whose latency filters live in <paramref name="latencyRows"/> (null: a table of its own).</summary>
    internal VivaldiClient(VivaldiOptions options, Func<double> nextDouble, ILatencyRows? latencyRows)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(nextDouble);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Dimensionality, 1);
        _options = options;
        _random = nextDouble;
        _origin = NetworkCoordinate.Origin(options);
        _vec = new double[options.Dimensionality];
        ResetToOrigin();
        _adjustmentSamples = new double[options.AdjustmentWindowSize];
        _latencySamples = latencyRows ?? new LatencyTable(options.LatencyFilterSize + 1);
    }

    /// <summary>The current coordinate.</summary>
    public NetworkCoordinate Coordinate => _coordinate ??= new NetworkCoordinate([.. _vec], _error, _adjustment, _height, owned: true);

    /// <summary>
    /// The type byte and payload of a <see cref="Wire.Messages.CoordinateMessage"/> carrying the current
    /// coordinate (the bytes <see cref="Coordinate"/> would encode to), written from the parts moved
    /// in place: an ack goes out after almost every update, and building the coordinate object for
    /// it was most of what a steady node allocated. Returns the length written.
    /// </summary>
    internal int EncodeCoordinateMessage(uint sequence, Span<byte> destination) =>
        Wire.Messages.CoordinateMessage.EncodeTypeAndPayload(destination, sequence, _vec, _error, _adjustment, _height);

    /// <summary>How many times the coordinate became invalid and was reset to the origin.</summary>
    public int Resets { get; private set; }

    /// <summary>How many peers have latency samples (bounded by the members known: call <see cref="Forget"/> when one goes).</summary>
    public int TrackedPeers => _latencySamples.Count;

    /// <summary>
    /// Takes in one round trip to <paramref name="node"/>, whose coordinate is
    /// <paramref name="other"/>. Returns false, changing nothing, when the coordinate is invalid or
    /// of another dimensionality or the RTT is negative or above <see cref="RttMax"/>.
    /// </summary>
    public bool Update(string node, NetworkCoordinate other, TimeSpan rtt)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(other);
        return Update(node, other.VecSpan, other.Error, other.Adjustment, other.Height, rtt);
    }

    /// <summary>
    /// <see cref="Update(string, NetworkCoordinate, TimeSpan)"/> for a coordinate given as parts (a
    /// decoded ack's, held inline: no coordinate object per probe). <paramref name="vec"/> must not
    /// overlap the client's own.
    /// </summary>
    internal bool Update(string node, ReadOnlySpan<double> vec, double error, double adjustment, double height, TimeSpan rtt)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (vec.Length != _vec.Length || !NetworkCoordinate.AllFinite(vec) || !double.IsFinite(error) || !double.IsFinite(adjustment) || !double.IsFinite(height) ||
            rtt < TimeSpan.Zero || rtt > RttMax)
        {
            return false;
        }

        double rttSeconds = LatencyFilter(node, rtt);
        _coordinate = null;
        UpdateVivaldi(vec, error, adjustment, height, rttSeconds);
        UpdateAdjustment(vec, height, rttSeconds);
        UpdateGravity();
        if (!NetworkCoordinate.AllFinite(_vec) || !double.IsFinite(_error) || !double.IsFinite(_adjustment) || !double.IsFinite(_height))
        {
            Resets++;
            ResetToOrigin();
        }

        return true;
    }

    /// <summary>Drops the latency samples kept for <paramref name="node"/>.</summary>
    public void Forget(string node) => _latencySamples.Forget(node);

    // The median of the peer's last LatencyFilterSize samples (the upper median for an even count, as
    // Serf), in seconds. The caller checked 0 <= rtt <= RttMax.
    internal double LatencyFilter(string node, TimeSpan rtt)
    {
        System.Diagnostics.Debug.Assert(rtt >= TimeSpan.Zero && rtt <= RttMax, "the caller bounds the RTT");
        Span<int> row = _latencySamples.GetOrAdd(node);
        Span<int> samples = row[1..];
        int count = row[0];
        int ticks = (int)rtt.Ticks;
        if (count < samples.Length)
        {
            samples[count++] = ticks;
            row[0] = count;
        }
        else
        {
            samples[1..].CopyTo(samples); // the oldest goes
            samples[^1] = ticks;
        }

        Span<int> sorted = count <= 64 ? stackalloc int[count] : new int[count];
        samples[..count].CopyTo(sorted);
        sorted.Sort();
        return TimeSpan.FromTicks(sorted[count / 2]).TotalSeconds;
    }

    private void UpdateVivaldi(ReadOnlySpan<double> otherVec, double otherError, double otherAdjustment, double otherHeight, double rttSeconds)
    {
        double distance = NetworkCoordinate.DistanceSeconds(_vec, _height, _adjustment, otherVec, otherHeight, otherAdjustment);
        rttSeconds = Math.Max(rttSeconds, NetworkCoordinate.ZeroThreshold);
        double wrongness = Math.Abs(distance - rttSeconds) / rttSeconds;
        double totalError = Math.Max(_error + otherError, NetworkCoordinate.ZeroThreshold);
        double weight = _error / totalError;
        double error = (_options.ErrorGain * weight * wrongness) + (_error * (1.0 - (_options.ErrorGain * weight)));
        _error = Math.Min(error, _options.ErrorMax);
        double force = _options.CoordinateGain * weight * (rttSeconds - distance);
        NetworkCoordinate.ApplyForce(_vec, ref _height, otherVec, otherHeight, _options.HeightMinSeconds, force, _random);
    }

    private void UpdateAdjustment(ReadOnlySpan<double> otherVec, double otherHeight, double rttSeconds)
    {
        if (_adjustmentSamples.Length == 0)
        {
            return;
        }

        _adjustmentSamples[_adjustmentIndex] = rttSeconds - NetworkCoordinate.RawDistanceSeconds(_vec, _height, otherVec, otherHeight);
        _adjustmentIndex = (_adjustmentIndex + 1) % _adjustmentSamples.Length;
        double sum = 0;
        foreach (double sample in _adjustmentSamples)
        {
            sum += sample;
        }

        _adjustment = sum / (2.0 * _adjustmentSamples.Length);
    }

    private void UpdateGravity()
    {
        double distance = NetworkCoordinate.DistanceSeconds(_origin.VecSpan, _origin.Height, _origin.Adjustment, _vec, _height, _adjustment);
        double force = -1.0 * Math.Pow(distance / _options.GravityRhoSeconds, 2.0);
        NetworkCoordinate.ApplyForce(_vec, ref _height, _origin.VecSpan, _origin.Height, _options.HeightMinSeconds, force, _random);
    }

    private void ResetToOrigin()
    {
        _origin.CopyTo(_vec, out _error, out _adjustment, out _height);
        _coordinate = _origin;
    }
}

/// <summary>
/// Where a <see cref="VivaldiClient"/> keeps each peer's latency filter: a row of
/// LatencyFilterSize + 1 ints, [count, samples oldest first], zeroed when new.
/// </summary>
internal interface ILatencyRows
{
    /// <summary>Peers with samples.</summary>
    int Count { get; }

    /// <summary>The row of <paramref name="peer"/>, added zeroed when it had none (valid until the next add or remove).</summary>
    Span<int> GetOrAdd(string peer);

    /// <summary>Drops the samples of <paramref name="peer"/>.</summary>
    void Forget(string peer);
}

/// <summary>The latency rows of a client on its own (Serf's node, tests): one <see cref="NameRows{T}"/> table.</summary>
internal sealed class LatencyTable(int width) : ILatencyRows
{
    private readonly NameRows<int> _rows = new(width);

    public int Count => _rows.Count;

    public Span<int> GetOrAdd(string peer) => _rows.Row(_rows.GetOrAdd(peer));

    public void Forget(string peer) => _rows.Remove(peer);
}
