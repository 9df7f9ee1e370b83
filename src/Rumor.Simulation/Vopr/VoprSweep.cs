using System.Globalization;
using System.Runtime.ExceptionServices;

namespace Rumor.Simulation.Vopr;

/// <summary>
/// A sweep over many seeds (TigerBeetle's VOPR, FoundationDB's simulation): each seed is one whole,
/// independent, deterministic run, so seeds run in parallel on separate threads and report in seed
/// order. A sweep stops early when its wall-clock budget is spent (the seeds not run are counted).
/// </summary>
public static class VoprSweep
{
    /// <summary>The largest number of seeds one sweep accepts.</summary>
    public const int SeedsMax = 10_000_000;

    /// <summary>
    /// Parses a seed set: a single seed (<c>5</c>), a range (<c>1-1000</c>) or a comma-separated list
    /// of both (<c>1,7,9-12</c>). Throws <see cref="FormatException"/> naming the bad part.
    /// </summary>
    public static IReadOnlyList<ulong> ParseSeeds(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        List<ulong> seeds = [];
        foreach (string raw in text.Split(','))
        {
            string part = raw.Trim();
            string[] bounds = part.Split('-');
            if (bounds.Length is 1 or 2
                && ulong.TryParse(bounds[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong first)
                && (bounds.Length == 1 || ulong.TryParse(bounds[1], NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            {
                ulong last = bounds.Length == 2 ? ulong.Parse(bounds[1], NumberStyles.None, CultureInfo.InvariantCulture) : first;
                if (last < first)
                {
                    throw new FormatException($"'{part}' is an empty range ({last} < {first}).");
                }

                if (last - first >= (ulong)(SeedsMax - seeds.Count))
                {
                    throw new FormatException($"'{text}' names more than {SeedsMax:N0} seeds.");
                }

                for (ulong seed = first; ; seed++)
                {
                    seeds.Add(seed);
                    if (seed == last)
                    {
                        break;
                    }
                }
            }
            else
            {
                throw new FormatException($"'{part}' is not a seed or a range of seeds (e.g. 5, 1-1000, 1,7,9).");
            }
        }

        return seeds;
    }

    /// <summary>
    /// Runs <paramref name="seeds"/> on <paramref name="parallel"/> threads, calling
    /// <paramref name="report"/> for each result in seed order. Stops starting seeds once
    /// <paramref name="budget"/> of wall time has passed (null: no budget). Returns the results run.
    /// Cancelled through <paramref name="stop"/>, it waits for its threads to stop (each run checks
    /// the token every few seconds of virtual time) and throws <see cref="OperationCanceledException"/>
    /// here, on the caller's thread; so does an exception from <paramref name="report"/>.
    /// </summary>
    public static IReadOnlyList<VoprResult> Run(IReadOnlyList<ulong> seeds, int parallel, TimeSpan? budget, Action<VoprResult> report, CancellationToken stop = default)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(report);
        DateTime deadline = budget is { } b ? DateTime.UtcNow + b : DateTime.MaxValue;
        VoprResult?[] results = new VoprResult?[seeds.Count];
        bool[] done = new bool[seeds.Count];
        int next = -1;
        int reported = 0;
        object gate = new();
        ExceptionDispatchInfo? failure = null;
        void Worker()
        {
            // Nothing may escape a thread (it would end the process): a cancelled run ends the worker
            // quietly (the caller throws below), and anything else is handed to the caller.
            try
            {
                while (!stop.IsCancellationRequested && Volatile.Read(ref failure) is null)
                {
                    int i = Interlocked.Increment(ref next);
                    if (i >= seeds.Count || DateTime.UtcNow >= deadline)
                    {
                        return;
                    }

                    VoprResult result = VoprRun.Run(seeds[i], stop);
                    lock (gate)
                    {
                        results[i] = result;
                        done[i] = true;
                        while (reported < seeds.Count && done[reported])
                        {
                            report(results[reported]!);
                            reported++;
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
            }
        }

        Thread[] threads = Enumerable.Range(0, Math.Max(1, parallel)).Select(_ => new Thread(Worker, 64 * 1024 * 1024)).ToArray();
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        stop.ThrowIfCancellationRequested();
        failure?.Throw();
        return results.Where(r => r is not null).Select(r => r!).ToList();
    }
}
