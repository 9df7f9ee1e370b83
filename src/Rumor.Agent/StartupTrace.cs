using System.Diagnostics;
using System.Globalization;

namespace Rumor.Agent;

/// <summary>
/// Start-up phase timestamps for measuring the agent's start (docs/BENCHMARKS.md, "Native AOT"):
/// with <c>RUMOR_STARTUP_TRACE=1</c> in the environment each <see cref="Mark"/> writes one line
/// <c>rumor startup: PHASE +MS ms</c> to standard error, milliseconds since the process started
/// (the kernel's start time of the process, so runtime initialisation before Main is counted).
/// Without the variable a mark costs one static field read.
/// </summary>
public static class StartupTrace
{
    /// <summary>The environment variable that turns the trace on (value <c>1</c>).</summary>
    public const string Variable = "RUMOR_STARTUP_TRACE";

    /// <summary>True when <see cref="Variable"/> is <c>1</c>.</summary>
    internal static readonly bool Enabled = Environment.GetEnvironmentVariable(Variable) == "1";
    private static readonly DateTime ProcessStart = Enabled ? ReadProcessStart() : default;

    /// <summary>Writes the phase and the milliseconds since the process started, when the trace is on.</summary>
    public static void Mark(string phase)
    {
        if (!Enabled)
        {
            return;
        }

        double ms = (DateTime.UtcNow - ProcessStart).TotalMilliseconds;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rumor startup: {phase} +{ms:F1} ms"));
    }

    /// <summary>Marks when the node's first join completes (on whichever thread completes it).</summary>
    internal static void MarkFirstJoin(Task<Rumor.Transport.JoinResult> firstJoin) =>
        MarkWhenDone(firstJoin, static join => !join.IsCompletedSuccessfully ? "first join ended without an answer"
            : join.Result.Joined ? $"first join answered ({join.Result.Succeeded.Count} seeds)"
            : $"first join failed ({join.Result.Failed.Count} seeds did not answer)");

    /// <summary>Marks when a Serf-mode agent's first join completes: answered by how many seeds, or failed.</summary>
    internal static void MarkFirstJoin(Task<int> firstJoin) =>
        MarkWhenDone(firstJoin, static join => join.IsCompletedSuccessfully ? $"first join answered ({join.Result} seeds)" : "first join failed");

    /// <summary>Marks <paramref name="describe"/>'s line when <paramref name="task"/> completes (nothing when the trace is off).</summary>
    private static void MarkWhenDone<T>(Task<T> task, Func<Task<T>, string> describe)
    {
        if (Enabled)
        {
            _ = task.ContinueWith(
                done => Mark(describe(done)),
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private static DateTime ReadProcessStart()
    {
        using Process self = Process.GetCurrentProcess();
        return self.StartTime.ToUniversalTime();
    }
}
