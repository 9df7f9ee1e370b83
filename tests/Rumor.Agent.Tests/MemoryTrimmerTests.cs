using Microsoft.Extensions.Logging.Abstractions;

namespace Rumor.Agent.Tests;

/// <summary>
/// The idle trim's decision (issue 13: memory taken by a load stayed resident while the agent idled,
/// since nothing allocated and so nothing collected). The process-level proof is the end-to-end
/// MemoryReturnTests; these pin when it trims and when it leaves a busy agent alone.
/// </summary>
public sealed class MemoryTrimmerTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public void An_idle_agent_holding_more_than_the_slack_above_its_level_is_trimmed_a_busy_one_is_not()
    {
        MemoryTrimmer trimmer = new(48 * MiB, TimeProvider.System, NullLogger.Instance);

        Assert.False(trimmer.ShouldTrim(allocatedTotalBytes: 1_000 * MiB, workingSetBytes: 100 * MiB)); // the first check takes the level
        Assert.False(trimmer.ShouldTrim(1_400 * MiB, 420 * MiB)); // under load: 400 MiB allocated in the interval
        Assert.True(trimmer.ShouldTrim(1_402 * MiB, 420 * MiB)); // the load is over, 320 MiB above the level
        Assert.False(trimmer.ShouldTrim(1_403 * MiB, 140 * MiB)); // 40 MiB above: within the slack
        Assert.False(trimmer.ShouldTrim(1_404 * MiB, 90 * MiB)); // lower: the level follows it down
        Assert.True(trimmer.ShouldTrim(1_405 * MiB, 140 * MiB)); // 50 MiB above the new level
        Assert.False(trimmer.ShouldTrim(1_405 * MiB + (16 * MiB), 140 * MiB)); // exactly the idle bound allocated: busy
    }

    [Fact]
    public void A_load_before_the_first_check_is_given_back()
    {
        // The level taken at start (80 MiB) stands although the first check comes under a load at
        // 560 MiB; before, the first check took 560 MiB as the level and the agent never trimmed
        // (the end-to-end flood test held 522 MiB for 90 s).
        MemoryTrimmer trimmer = new(48 * MiB, TimeProvider.System, NullLogger.Instance);
        trimmer.TakeLevel(80 * MiB);

        Assert.False(trimmer.ShouldTrim(allocatedTotalBytes: 900 * MiB, workingSetBytes: 560 * MiB)); // first check: no interval to judge yet
        Assert.True(trimmer.ShouldTrim(901 * MiB, 560 * MiB)); // idle, 480 MiB above the level taken at start
    }

    [Fact]
    public void A_slack_of_zero_turns_the_trim_off()
    {
        MemoryTrimmer trimmer = new(0, TimeProvider.System, NullLogger.Instance);

        Assert.False(trimmer.ShouldTrim(0, 100 * MiB));
        Assert.False(trimmer.ShouldTrim(1, 900 * MiB));
    }

    [Fact]
    public void A_small_idle_agent_settles_once_after_start_then_at_most_every_five_minutes()
    {
        MemoryTrimmer trimmer = new(48 * MiB, TimeProvider.System, NullLogger.Instance);
        TimeSpan minute = TimeSpan.FromMinutes(1);
        trimmer.TakeAllocated(20 * MiB); // what start-up allocated before the trimmer ran

        Assert.True(trimmer.ShouldSettle(allocatedTotalBytes: 21 * MiB, heapBytes: 6 * MiB, now: TimeSpan.FromSeconds(10))); // idle since start: the start-up's garbage goes
        trimmer.RecordTrim(TimeSpan.FromSeconds(10), 21 * MiB, 28 * MiB);

        Assert.False(trimmer.ShouldSettle(24 * MiB, 6 * MiB, 2 * minute)); // 3 MiB since, but only 2 minutes after the last trim
        Assert.True(trimmer.ShouldSettle(25 * MiB, 6 * MiB, 6 * minute)); // 6 minutes after, 4 MiB since the trim, 1 MiB in this interval: settles
        trimmer.RecordTrim(6 * minute, 25 * MiB, 28 * MiB);

        Assert.False(trimmer.ShouldSettle(26 * MiB, 6 * MiB, 12 * minute)); // idle and spaced, but only 1 MiB allocated since: nothing to give back
        Assert.False(trimmer.ShouldSettle(60 * MiB, 6 * MiB, 13 * minute)); // 34 MiB in one interval: busy
        Assert.True(trimmer.ShouldSettle(61 * MiB, 6 * MiB, 14 * minute)); // idle again
        Assert.False(trimmer.ShouldSettle(62 * MiB, 40 * MiB, 20 * minute)); // a large heap: the young generation is a small part of it
    }

    [Fact]
    public void The_first_settle_check_needs_an_idle_interval_and_a_slack_of_zero_turns_settling_off()
    {
        MemoryTrimmer fresh = new(48 * MiB, TimeProvider.System, NullLogger.Instance);
        Assert.False(fresh.ShouldSettle(30 * MiB, 6 * MiB, TimeSpan.FromSeconds(10))); // no count taken at start: no interval to judge
        Assert.True(fresh.ShouldSettle(31 * MiB, 6 * MiB, TimeSpan.FromSeconds(20)));

        MemoryTrimmer off = new(0, TimeProvider.System, NullLogger.Instance);
        off.TakeAllocated(20 * MiB);
        Assert.False(off.ShouldSettle(25 * MiB, 6 * MiB, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void A_trim_collects_everything_and_takes_the_new_level()
    {
        MemoryTrimmer trimmer = new(48 * MiB, TimeProvider.System, NullLogger.Instance);
        int fullCollections = GC.CollectionCount(GC.MaxGeneration);

        trimmer.Trim();

        Assert.Equal(1, trimmer.Trims);
        Assert.True(GC.CollectionCount(GC.MaxGeneration) > fullCollections, "a trim must run a full collection");
        Assert.False(trimmer.ShouldTrim(GC.GetTotalAllocatedBytes(), Environment.WorkingSet + (40 * MiB))); // the level is now the resident set after the trim
    }
}
