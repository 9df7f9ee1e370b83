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
