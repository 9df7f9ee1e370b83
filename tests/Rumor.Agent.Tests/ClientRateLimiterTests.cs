using System.Threading.RateLimiting;
using Microsoft.Extensions.Time.Testing;
using Rumor.Agent.Security;

namespace Rumor.Agent.Tests;

/// <summary>
/// The API's per-client token buckets (<see cref="ClientRateLimiter"/>), refilled by the clock at each
/// request instead of by a timer, on a fake clock.
/// </summary>
public sealed class ClientRateLimiterTests
{
    [Fact]
    public void A_bucket_starts_full_refuses_when_empty_and_refills_in_proportion_to_time()
    {
        FakeTimeProvider time = new();
        using ClientRateLimiter limiter = new(tokenLimit: 4, tokensPerPeriod: 2, TimeSpan.FromSeconds(1), time);

        for (int i = 0; i < 4; i++)
        {
            using RateLimitLease granted = limiter.Acquire("10.0.0.1", 1);
            Assert.True(granted.IsAcquired, $"request {i} of a full bucket of 4");
        }

        using RateLimitLease refused = limiter.Acquire("10.0.0.1", 1);
        Assert.False(refused.IsAcquired);
        Assert.True(refused.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan retry));
        Assert.Equal(TimeSpan.FromMilliseconds(500), retry);

        // Another client has its own bucket.
        using RateLimitLease other = limiter.Acquire("10.0.0.2", 1);
        Assert.True(other.IsAcquired);

        // 2 tokens a second: after 0.5 s one is back, not two.
        time.Advance(TimeSpan.FromMilliseconds(500));
        using RateLimitLease one = limiter.Acquire("10.0.0.1", 1);
        Assert.True(one.IsAcquired);
        using RateLimitLease notTwo = limiter.Acquire("10.0.0.1", 1);
        Assert.False(notTwo.IsAcquired);

        // A long wait fills the bucket to its limit, no further.
        time.Advance(TimeSpan.FromHours(1));
        for (int i = 0; i < 4; i++)
        {
            using RateLimitLease granted = limiter.Acquire("10.0.0.1", 1);
            Assert.True(granted.IsAcquired, $"request {i} after a refill");
        }

        using RateLimitLease capped = limiter.Acquire("10.0.0.1", 1);
        Assert.False(capped.IsAcquired);
    }

    [Fact]
    public void Clients_idle_for_a_full_refill_are_forgotten()
    {
        FakeTimeProvider time = new();
        using ClientRateLimiter limiter = new(tokenLimit: 2, tokensPerPeriod: 1, TimeSpan.FromSeconds(1), time);
        for (int i = 0; i <= ClientRateLimiter.SweepAbove; i++)
        {
            using RateLimitLease lease = limiter.Acquire($"10.0.{i / 256}.{i % 256}", 1);
        }

        Assert.Equal(ClientRateLimiter.SweepAbove + 1, limiter.Clients);

        // Not yet a full refill (2 s for 2 tokens): nobody is forgotten.
        time.Advance(TimeSpan.FromMilliseconds(1500));
        using (limiter.Acquire("10.1.0.0", 1))
        {
            Assert.Equal(ClientRateLimiter.SweepAbove + 2, limiter.Clients);
        }

        time.Advance(TimeSpan.FromSeconds(2));
        using (limiter.Acquire("10.1.0.1", 1))
        {
            // Every bucket is full again and forgotten; only the newest client is held.
            Assert.Equal(1, limiter.Clients);
        }
    }
}
