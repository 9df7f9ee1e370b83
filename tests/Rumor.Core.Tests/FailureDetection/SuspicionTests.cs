using Rumor.Core.FailureDetection;

namespace Rumor.Core.Tests.FailureDetection;

public class SuspicionTests
{
    private static readonly TimeSpan Min = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(12);
    private static readonly TimeSpan Now = TimeSpan.FromSeconds(100);

    [Fact]
    public void Deadline_starts_at_the_maximum()
    {
        Suspicion suspicion = new("a", 1, 1, expectedConfirmations: 3, Min, Max, Now, token: 1);
        Assert.Equal(Now + Max, suspicion.Deadline);
        Assert.Equal(0, suspicion.Confirmations);
        Assert.Equal(Now, suspicion.StartedAt);
    }

    [Fact]
    public void Deadline_shrinks_with_each_distinct_confirmation_and_reaches_the_minimum_after_k()
    {
        const int K = 3;
        Suspicion suspicion = new("a", 1, 1, K, Min, Max, Now, token: 1);
        TimeSpan previous = suspicion.Deadline;
        string[] confirmers = ["b", "c", "d"];
        for (int c = 1; c <= K; c++)
        {
            Assert.True(suspicion.Confirm(confirmers[c - 1]));
            Assert.Equal(c, suspicion.Confirmations);

            // Lifeguard: timeout(c) = max - log(c + 1) / log(k + 1) * (max - min), computed here independently.
            double expectedSeconds = Max.TotalSeconds - (Math.Log(c + 1) / Math.Log(K + 1) * (Max - Min).TotalSeconds);
            Assert.Equal(expectedSeconds, (suspicion.Deadline - Now).TotalSeconds, precision: 3);
            Assert.True(suspicion.Deadline < previous);
            previous = suspicion.Deadline;
        }

        Assert.Equal(Now + Min, suspicion.Deadline);
        Assert.False(suspicion.Confirm("e")); // enough confirmations: nothing more to gain
        Assert.Equal(Now + Min, suspicion.Deadline);
    }

    [Fact]
    public void Half_way_with_k_3_is_the_midpoint_on_the_log_scale()
    {
        // One confirmation of three: log 2 / log 4 = 1/2 of the way from 12 s down to 2 s → 7 s.
        Suspicion suspicion = new("a", 1, 1, 3, Min, Max, Now, token: 1);
        Assert.True(suspicion.Confirm("b"));
        Assert.Equal(Now + TimeSpan.FromSeconds(7), suspicion.Deadline);
    }

    [Fact]
    public void Same_accuser_counts_once()
    {
        Suspicion suspicion = new("a", 1, 1, 3, Min, Max, Now, token: 1);
        Assert.True(suspicion.Confirm("b"));
        TimeSpan deadline = suspicion.Deadline;
        Assert.False(suspicion.Confirm("b"));
        Assert.False(suspicion.Confirm("a")); // the first accuser is already counted
        Assert.Equal(1, suspicion.Confirmations);
        Assert.Equal(deadline, suspicion.Deadline);
        Assert.Equal(["a", "b"], suspicion.Accusers.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Fewer_than_one_expected_confirmation_means_the_minimum_at_once(int k)
    {
        Suspicion suspicion = new("a", 1, 1, k, Min, Max, Now, token: 1);
        Assert.Equal(Now + Min, suspicion.Deadline);
        Assert.False(suspicion.Confirm("b"));
        Assert.Equal(Now + Min, suspicion.Deadline);
    }

    [Fact]
    public void Deadline_never_moves_later_and_never_below_the_minimum()
    {
        Suspicion suspicion = new("x", 1, 1, 10, Min, Max, Now, token: 1);
        TimeSpan previous = suspicion.Deadline;
        for (int i = 0; i < 20; i++)
        {
            suspicion.Confirm("m" + (i % 7));
            Assert.True(suspicion.Deadline <= previous);
            Assert.True(suspicion.Deadline >= Now + Min);
            previous = suspicion.Deadline;
        }

        Assert.Equal(7, suspicion.Confirmations);
    }

    [Theory]
    [InlineData(4, 1, 1, 4)]
    [InlineData(4, 5, 1, 4)]
    [InlineData(4, 10, 1, 4)]
    [InlineData(4, 100, 1, 8)]
    [InlineData(5, 1000, 2, 30)]
    public void MinTimeout_is_multiplier_times_log10_of_members_times_interval(int multiplier, int members, int intervalSeconds, double expectedSeconds)
    {
        TimeSpan timeout = Suspicion.MinTimeout(multiplier, members, TimeSpan.FromSeconds(intervalSeconds));
        Assert.Equal(expectedSeconds, timeout.TotalSeconds, precision: 6);
    }
}
