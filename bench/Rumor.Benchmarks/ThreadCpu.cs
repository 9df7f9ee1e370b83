using System.Globalization;

namespace Rumor.Benchmarks;

/// <summary>The calling thread's CPU time (user + system) from /proc/thread-self/stat on Linux; zero elsewhere.</summary>
internal static class ThreadCpu
{
    private const string Path = "/proc/thread-self/stat";

    public static bool Available { get; } = File.Exists(Path);

    public static TimeSpan Current()
    {
        if (!Available)
        {
            return TimeSpan.Zero;
        }

        // "pid (comm) state ppid ...": fields after the command; utime and stime are fields 14 and 15, in clock ticks of 1/100 s.
        string stat = File.ReadAllText(Path);
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }
}
