using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Rumor.Agent;

/// <summary>
/// Gives memory back after a load. The garbage collector collects when allocation asks it to; after
/// a burst of large values (60 KB writes go through strings and buffers on the large-object heap)
/// or of 16 MB stream frames, an idle agent allocates almost nothing, so no collection runs and
/// the heap, garbage and free regions included, stays resident for as long as the agent idles
/// (330 to 445 MB above the baseline 60 s after <c>bench agent-load</c>; 1.1 GB ten minutes after a
/// flood of large frames). Every <see cref="Interval"/> this checks whether the agent was idle
/// (allocated less than <see cref="IdleAllocationBytes"/> since the last check) while its resident
/// set is more than <see cref="ApiSettings.MemoryTrimSlackBytes"/> above what it was after the last
/// trim; then it runs one blocking, compacting collection in the aggressive mode, which also
/// decommits the free memory, and logs what it gave back. A busy agent is left to the collector's
/// own pace (its memory is in use, and a forced collection would only add pauses).
/// <para>
/// The same collection also settles a small daemon (issue 16, "RSS of an idle agent ≤ 30 MiB"):
/// what an agent allocates lands in pages of the young generation that stay resident until a
/// collection frees and decommits them, up to the 4 MiB budget (Rumor.Cli.csproj), and an idle
/// agent may go an hour without one. So at a check where the agent is idle, its heap is small
/// (under <see cref="SmallHeapBytes"/>), it allocated at least <see cref="SettleAllocationBytes"/>
/// since the last trim, and the last trim is <see cref="SettleSpacing"/> old (or there was none),
/// it trims too: first 10 s after start, which gives back the start-up's garbage (2.1–2.7 MiB of
/// an agent's anonymous memory in a 20- or 50-agent cluster, docs/BENCHMARKS.md, "Session 23"),
/// then at most every 5 minutes, a pause of milliseconds on such a heap.
/// </para>
/// </summary>
internal sealed partial class MemoryTrimmer : BackgroundService
{
    /// <summary>How often the agent's memory is checked.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    /// <summary>Allocated in one <see cref="Interval"/>, less than this is idle (an idle agent allocates about a megabyte per interval).</summary>
    public const long IdleAllocationBytes = 16L * 1024 * 1024;

    /// <summary>Allocated since the last trim, at least this for a settling trim: half the young generation's budget.</summary>
    public const long SettleAllocationBytes = 2L * 1024 * 1024;

    /// <summary>The least time between two settling trims.</summary>
    public static readonly TimeSpan SettleSpacing = TimeSpan.FromMinutes(5);

    /// <summary>A heap under this is a small daemon's: the young generation's pages are a large part of its memory.</summary>
    public const long SmallHeapBytes = 32L * 1024 * 1024;

    private readonly long _slackBytes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _allocatedAtLastCheck = -1;
    private long _trimmedWorkingSet;
    private long _settleAllocatedAtLastCheck = -1;
    private long _allocatedAtLastTrim;
    private TimeSpan? _lastTrimAt;

    public MemoryTrimmer(long slackBytes, TimeProvider time, ILogger logger)
    {
        _slackBytes = slackBytes;
        _time = time;
        _logger = logger;
    }

    /// <summary>Trims done since the start.</summary>
    public int Trims { get; private set; }

    /// <summary>
    /// One check with the process's figures: true when the agent was idle since the last check and
    /// its resident set grew more than the slack above the level after the last trim (the first
    /// check only takes the level). The level follows the resident set down.
    /// </summary>
    internal bool ShouldTrim(long allocatedTotalBytes, long workingSetBytes)
    {
        long allocated = _allocatedAtLastCheck < 0 ? long.MaxValue : allocatedTotalBytes - _allocatedAtLastCheck;
        _allocatedAtLastCheck = allocatedTotalBytes;
        if (_trimmedWorkingSet == 0 || workingSetBytes < _trimmedWorkingSet)
        {
            _trimmedWorkingSet = workingSetBytes;
            return false;
        }

        return _slackBytes > 0 && allocated < IdleAllocationBytes && workingSetBytes - _trimmedWorkingSet > _slackBytes;
    }

    /// <summary>Takes the level before the first check (at start); a first check under load then only lowers it.</summary>
    internal void TakeLevel(long workingSetBytes) => _trimmedWorkingSet = workingSetBytes;

    /// <summary>Takes the allocation count at start, so the first check can judge whether the agent idled since.</summary>
    internal void TakeAllocated(long allocatedTotalBytes) => _settleAllocatedAtLastCheck = allocatedTotalBytes;

    /// <summary>
    /// One check for a settling trim (see the class): the agent idled since the last check, its heap
    /// is small, it allocated at least <see cref="SettleAllocationBytes"/> since the last trim (since
    /// the start before the first), and the last trim is at least <see cref="SettleSpacing"/> old.
    /// </summary>
    internal bool ShouldSettle(long allocatedTotalBytes, long heapBytes, TimeSpan now)
    {
        long interval = _settleAllocatedAtLastCheck < 0 ? long.MaxValue : allocatedTotalBytes - _settleAllocatedAtLastCheck;
        _settleAllocatedAtLastCheck = allocatedTotalBytes;
        return _slackBytes > 0
            && interval < IdleAllocationBytes
            && heapBytes < SmallHeapBytes
            && allocatedTotalBytes - _allocatedAtLastTrim >= SettleAllocationBytes
            && (_lastTrimAt is not { } last || now - last >= SettleSpacing);
    }

    /// <summary>What a trim leaves: the new level, and the counts both rules measure from.</summary>
    internal void RecordTrim(TimeSpan now, long allocatedTotalBytes, long workingSetBytes)
    {
        _trimmedWorkingSet = workingSetBytes;
        _allocatedAtLastCheck = allocatedTotalBytes;
        _settleAllocatedAtLastCheck = allocatedTotalBytes;
        _allocatedAtLastTrim = allocatedTotalBytes;
        _lastTrimAt = now;
        Trims++;
    }

    /// <summary>Collects everything, compacting and decommitting, and takes the resident set after as the new level.</summary>
    internal void Trim(TimeSpan now = default, bool settling = false)
    {
        long before = Environment.WorkingSet;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        long after = Environment.WorkingSet;
        RecordTrim(now, GC.GetTotalAllocatedBytes(), after);
        if (settling)
        {
            Settled(_logger, before / 1024, after / 1024);
        }
        else
        {
            Trimmed(_logger, before / (1024 * 1024), after / (1024 * 1024));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_slackBytes <= 0)
        {
            return;
        }

        // The level starts at the resident set of the agent just started, not at the first check:
        // a load that comes before the first check (a flood in the first seconds) would otherwise
        // become the level, and nothing above it would ever be given back.
        TakeLevel(Environment.WorkingSet);
        TakeAllocated(GC.GetTotalAllocatedBytes());
        long started = _time.GetTimestamp();
        using PeriodicTimer timer = new(Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                long allocated = GC.GetTotalAllocatedBytes();
                TimeSpan now = _time.GetElapsedTime(started);
                if (ShouldTrim(allocated, Environment.WorkingSet))
                {
                    Trim(now);
                }
                else if (ShouldSettle(allocated, GC.GetTotalMemory(forceFullCollection: false), now))
                {
                    Trim(now, settling: true);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    [LoggerMessage(EventId = 5003, Level = LogLevel.Debug, Message = "Idle: collected the young generation's garbage, resident {BeforeKiB} KiB -> {AfterKiB} KiB")]
    private static partial void Settled(ILogger logger, long beforeKiB, long afterKiB);

    [LoggerMessage(EventId = 5000, Level = LogLevel.Information, Message = "Idle after a load: gave memory back, resident {BeforeMiB} MiB -> {AfterMiB} MiB (MemoryTrimSlackBytes)")]
    private static partial void Trimmed(ILogger logger, long beforeMiB, long afterMiB);
}
