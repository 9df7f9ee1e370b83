using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace Rumor.Agent.Security;

/// <summary>
/// One token bucket per client address (<see cref="ApiRateLimit"/>), refilled by the clock read at
/// each request rather than by a timer. Written here, not taken from System.Threading.RateLimiting,
/// because that library's partitioned limiter (<c>PartitionedRateLimiter.Create</c>) runs a 100 ms
/// timer for as long as it lives, to replenish its buckets and drop idle ones, whether or not any
/// request comes: about 90 of an idle agent's 100 wake-ups a second (timer thread and thread-pool
/// workers; docs/BENCHMARKS.md, "Agent footprint"). A bucket holds at most <c>tokenLimit</c>
/// tokens, starts full, and gains <c>tokensPerPeriod</c> per <c>period</c> in proportion to the
/// time elapsed; a request takes one token or is refused at once (no queue) with the time until a
/// token is back as <see cref="MetadataName.RetryAfter"/>. A client's bucket is forgotten once it
/// would be full again (idle for a full refill), checked at most once per refill time when more
/// than <see cref="SweepAbove"/> clients are held, so the table holds only clients seen recently.
/// </summary>
internal sealed class ClientRateLimiter : PartitionedRateLimiter<HttpContext>
{
    /// <summary>Clients held before idle ones are looked for.</summary>
    internal const int SweepAbove = 256;

    private readonly object _lock = new();
    private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly double _tokenLimit;
    private readonly double _tokensPerSecond;
    private readonly TimeProvider _time;
    private long _lastSweep;

    public ClientRateLimiter(int tokenLimit, int tokensPerPeriod, TimeSpan period, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokenLimit, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tokensPerPeriod, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        _tokenLimit = tokenLimit;
        _tokensPerSecond = tokensPerPeriod / period.TotalSeconds;
        _time = time;
        _lastSweep = time.GetTimestamp();
    }

    /// <summary>Clients whose bucket is held (tests).</summary>
    internal int Clients
    {
        get
        {
            lock (_lock)
            {
                return _buckets.Count;
            }
        }
    }

    /// <summary>The client's key: its address.</summary>
    private static string ClientOf(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => null;

    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount) => Acquire(ClientOf(resource), permitCount);

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Acquire(ClientOf(resource), permitCount));

    /// <summary>Takes <paramref name="permits"/> tokens from <paramref name="client"/>'s bucket, or refuses with the wait until they are there.</summary>
    internal RateLimitLease Acquire(string client, int permits)
    {
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            Sweep(now);
            double tokens = _buckets.TryGetValue(client, out Bucket bucket) ? Refilled(bucket, now) : _tokenLimit;
            if (permits == 0)
            {
                // A probe of the state (the limiter's contract): granted while a token is there.
                return tokens >= 1 ? Lease.Granted : Lease.Refused(TimeSpan.FromSeconds((1 - tokens) / _tokensPerSecond));
            }

            if (tokens >= permits)
            {
                _buckets[client] = new Bucket(tokens - permits, now);
                return Lease.Granted;
            }

            _buckets[client] = new Bucket(tokens, now);
            return Lease.Refused(TimeSpan.FromSeconds((permits - tokens) / _tokensPerSecond));
        }
    }

    private double Refilled(Bucket bucket, long now) =>
        Math.Min(_tokenLimit, bucket.Tokens + (_time.GetElapsedTime(bucket.At, now).TotalSeconds * _tokensPerSecond));

    /// <summary>Forgets the clients whose bucket is full again (they would start full anyway).</summary>
    private void Sweep(long now)
    {
        if (_buckets.Count <= SweepAbove || _time.GetElapsedTime(_lastSweep, now).TotalSeconds * _tokensPerSecond < _tokenLimit)
        {
            return;
        }

        _lastSweep = now;
        foreach (KeyValuePair<string, Bucket> held in _buckets)
        {
            if (Refilled(held.Value, now) >= _tokenLimit)
            {
                _buckets.Remove(held.Key);
            }
        }
    }

    /// <summary>Tokens left at a moment (a <see cref="TimeProvider"/> timestamp).</summary>
    private readonly record struct Bucket(double Tokens, long At);

    /// <summary>A granted lease holds nothing to give back; a refused one says when to retry.</summary>
    private sealed class Lease : RateLimitLease
    {
        public static readonly Lease Granted = new(true, null);

        private readonly TimeSpan? _retryAfter;

        private Lease(bool acquired, TimeSpan? retryAfter)
        {
            IsAcquired = acquired;
            _retryAfter = retryAfter;
        }

        public override bool IsAcquired { get; }

        public override IEnumerable<string> MetadataNames => _retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public static Lease Refused(TimeSpan retryAfter) => new(false, retryAfter);

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            if (_retryAfter is { } retry && metadataName == MetadataName.RetryAfter.Name)
            {
                metadata = retry;
                return true;
            }

            metadata = null;
            return false;
        }
    }
}
