using Rumor.Core.FailureDetection;

namespace Rumor.Core.Tests.FailureDetection;

public sealed class PhiAccrualDetectorTests
{
    private static PhiAccrualDetector Regular(TimeSpan pause, out TimeSpan last)
    {
        PhiAccrualDetector detector = new(1000, TimeSpan.FromMilliseconds(100), pause, TimeSpan.FromSeconds(1), TimeSpan.Zero);
        TimeSpan t = TimeSpan.Zero;
        for (int i = 0; i < 200; i++)
        {
            t += TimeSpan.FromMilliseconds(i % 2 == 0 ? 950 : 1050);
            detector.Heartbeat(t);
        }

        last = t;
        return detector;
    }

    [Fact]
    public void Phi_is_low_on_time_and_grows_without_heartbeats()
    {
        PhiAccrualDetector detector = Regular(TimeSpan.Zero, out TimeSpan last);
        Assert.InRange(detector.MeanMilliseconds, 990, 1010);
        Assert.True(detector.Phi(last + TimeSpan.FromSeconds(1)) < 1);
        double previous = 0;
        for (int ms = 1000; ms <= 3000; ms += 100)
        {
            double phi = detector.Phi(last + TimeSpan.FromMilliseconds(ms));
            Assert.True(phi >= previous, "φ never decreases while no heartbeat arrives");
            previous = phi;
        }

        Assert.True(detector.Phi(last + TimeSpan.FromSeconds(2)) > 8, "a whole missed second at σ = 100 ms is far past φ = 8");
    }

    [Fact]
    public void The_acceptable_pause_shifts_the_threshold_by_its_length()
    {
        PhiAccrualDetector strict = Regular(TimeSpan.Zero, out TimeSpan last);
        PhiAccrualDetector tolerant = Regular(TimeSpan.FromSeconds(3), out _);
        TimeSpan strictCross = Cross(strict, last);
        TimeSpan tolerantCross = Cross(tolerant, last);
        Assert.InRange((tolerantCross - strictCross).TotalMilliseconds, 2900, 3100);
        Assert.True(tolerant.Phi(last + TimeSpan.FromSeconds(3.5)) < 8, "3.5 s of silence is within mean + pause");
    }

    [Fact]
    public void The_window_is_bounded()
    {
        PhiAccrualDetector detector = new(10, TimeSpan.FromMilliseconds(100), TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.Zero);
        for (int i = 1; i <= 100; i++)
        {
            detector.Heartbeat(TimeSpan.FromSeconds(i * 2));
        }

        Assert.Equal(10, detector.SampleCount);
        Assert.InRange(detector.MeanMilliseconds, 1999, 2001);
    }

    private static TimeSpan Cross(PhiAccrualDetector detector, TimeSpan last)
    {
        for (int ms = 0; ms < 20_000; ms += 10)
        {
            if (detector.Phi(last + TimeSpan.FromMilliseconds(ms)) >= 8)
            {
                return TimeSpan.FromMilliseconds(ms);
            }
        }

        throw new InvalidOperationException("φ never reached 8");
    }
}
