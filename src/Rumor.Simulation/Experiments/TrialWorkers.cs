using System.Runtime.ExceptionServices;

namespace Rumor.Simulation.Experiments;

/// <summary>
/// Independent pieces of work (trials, or groups of trials) on up to a given number of threads.
/// Each worker takes the next index until none is left, so which thread runs which index depends
/// on the schedule; the callers make every index's result depend only on its own inputs (its own
/// seed, its own arrays or cluster) and store it at its index, so the results are the same for
/// every degree of parallelism. Hand-written rather than <c>Parallel.For</c>: that runs its bodies
/// on thread-pool threads (a minutes-long simulation there holds a pool thread that the CLI's
/// async code and timers need) and ends its tasks after a time slice and starts new ones, building
/// the per-task state again (for the dissemination engine, arrays of N per slice).
/// </summary>
internal static class TrialWorkers
{
    /// <summary>
    /// Runs every index in [0, <paramref name="count"/>) once. <paramref name="worker"/> is called
    /// once per worker, with the worker's number (0 runs on this thread when there is one worker),
    /// and returns what that worker does with an index. A failure stops the other workers before
    /// their next index and is rethrown here after every worker has stopped.
    /// </summary>
    /// <param name="count">Indices to run.</param>
    /// <param name="parallelism">Threads at most (1: one after another on this thread).</param>
    /// <param name="worker">Builds worker w's per-index action.</param>
    public static void Run(int count, int parallelism, Func<int, Action<int>> worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        int workers = Math.Clamp(parallelism, 1, Math.Max(1, count));
        if (workers == 1)
        {
            Action<int> body = worker(0);
            for (int i = 0; i < count; i++)
            {
                body(i);
            }

            return;
        }

        int next = -1;
        void Work(int w)
        {
            bool finished = false;
            try
            {
                Action<int> body = worker(w);
                for (int i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
                {
                    body(i);
                }

                finished = true;
            }
            finally
            {
                if (!finished)
                {
                    Interlocked.Exchange(ref next, count);
                }
            }
        }

        Task[] tasks = new Task[workers];
        for (int w = 0; w < workers; w++)
        {
            int number = w;
            tasks[w] = Task.Factory.StartNew(() => Work(number), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        try
        {
            Task.WaitAll(tasks, CancellationToken.None); // the workers observe their token themselves; wait until every one has stopped
        }
        catch (AggregateException e)
        {
            ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
    }
}
