namespace Rumor.Core.FailureDetection;

/// <summary>
/// The φ accrual failure detector (Hayashibara et al., 2004), as Cassandra and Akka use it. It
/// keeps a bounded window of heartbeat inter-arrival times and, at any moment, turns the time since
/// the last heartbeat into a suspicion level
/// <code>
/// φ(t) = −log10(1 − F(t − last))
/// </code>
/// where F is the normal distribution with the window's mean plus the acceptable pause, and its
/// standard deviation floored at a minimum (Akka's logistic approximation of the normal CDF).
/// φ = 8 means the odds that a heartbeat is merely late are 1 in 10^8 under the learned
/// distribution. The window starts with one estimated interval so a member is judged from its first
/// heartbeat. Invariants: the window holds at most <c>windowSize</c> samples; φ never decreases
/// while no heartbeat arrives.
/// </summary>
internal sealed class PhiAccrualDetector
{
    private readonly double[] _intervals;
    private readonly TimeSpan _minStdDeviation;
    private readonly TimeSpan _acceptablePause;
    private int _count;
    private int _next;
    private double _sum;
    private double _sumOfSquares;

    public PhiAccrualDetector(int windowSize, TimeSpan minStdDeviation, TimeSpan acceptablePause, TimeSpan firstEstimate, TimeSpan now)
    {
        _intervals = new double[Math.Max(2, windowSize)];
        _minStdDeviation = minStdDeviation;
        _acceptablePause = acceptablePause;
        LastArrival = now;

        // Akka's bootstrap: a mean of the estimate with a standard deviation of a quarter of it.
        double mean = firstEstimate.TotalMilliseconds;
        double deviation = mean / 4;
        Add(mean - deviation);
        Add(mean + deviation);
    }

    /// <summary>When the last heartbeat arrived.</summary>
    public TimeSpan LastArrival { get; private set; }

    /// <summary>Samples in the window.</summary>
    public int SampleCount => _count;

    /// <summary>Mean inter-arrival time in the window, in milliseconds.</summary>
    public double MeanMilliseconds => _sum / _count;

    /// <summary>Standard deviation of the window, in milliseconds (before the floor).</summary>
    public double StdDeviationMilliseconds => Math.Sqrt(Math.Max(0, (_sumOfSquares / _count) - (MeanMilliseconds * MeanMilliseconds)));

    /// <summary>Records a heartbeat arriving at <paramref name="now"/>.</summary>
    public void Heartbeat(TimeSpan now)
    {
        if (now > LastArrival)
        {
            Add((now - LastArrival).TotalMilliseconds);
        }

        LastArrival = now;
    }

    /// <summary>The suspicion level at <paramref name="now"/>.</summary>
    public double Phi(TimeSpan now)
    {
        double elapsed = Math.Max(0, (now - LastArrival).TotalMilliseconds);
        double mean = MeanMilliseconds + _acceptablePause.TotalMilliseconds;
        double deviation = Math.Max(StdDeviationMilliseconds, _minStdDeviation.TotalMilliseconds);
        double y = (elapsed - mean) / deviation;
        double e = Math.Exp(-y * (1.5976 + (0.070566 * y * y)));
        return elapsed > mean ? -Math.Log10(e / (1.0 + e)) : -Math.Log10(1.0 - (1.0 / (1.0 + e)));
    }

    private void Add(double interval)
    {
        if (_count == _intervals.Length)
        {
            double old = _intervals[_next];
            _sum -= old;
            _sumOfSquares -= old * old;
        }
        else
        {
            _count++;
        }

        _intervals[_next] = interval;
        _next = (_next + 1) % _intervals.Length;
        _sum += interval;
        _sumOfSquares += interval * interval;
    }
}
