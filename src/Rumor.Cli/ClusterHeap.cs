using System.Collections;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Rumor.Cli;

/// <summary>
/// The garbage collector's gen0 budget for <c>rumor cluster</c>. The rumor executable carries a
/// 4 MiB budget for an idle agent (Rumor.Cli.csproj, docs/CONFIGURATION.md). N nodes in one process
/// allocate about N times as fast, and with 2N threads every collection suspends every thread and
/// walks its stack: at N = 1,000 the collector took about a third of the CPU and left one core idle
/// (the workstation collector marks on one thread), and the joins took 142 s, against 70 s with a
/// 256 MiB budget (docs/BENCHMARKS.md, "Session 17"). The runtime reads its GC settings once, at
/// start, from the environment or the executable, and no API changes them later. So before the
/// parser runs, the cluster command replaces its own process image with itself (execve: the same
/// PID, standard streams, arguments and signals) with the budget in its environment, sized by the
/// node count: <see cref="BudgetFor"/>. A budget the user set in the environment is kept as it is.
/// </summary>
internal static class ClusterHeap
{
    /// <summary>The environment variable of the gen0 size (hexadecimal bytes, no 0x).</summary>
    public const string Gen0SizeVariable = "DOTNET_GCgen0size";

    /// <summary>The environment variable of the gen0 budget's cap (hexadecimal bytes, no 0x); the executable's own cap is 4 MiB.</summary>
    public const string Gen0MaxBudgetVariable = "DOTNET_GCGen0MaxBudget";

    /// <summary>Budget per node.</summary>
    public const long PerNodeBytes = 256 * 1024;

    /// <summary>The executable's own budget: at or below it nothing is replaced.</summary>
    public const long ExecutableBytes = 4 * 1024 * 1024;

    /// <summary>The largest budget chosen (a user may set more in the environment).</summary>
    public const long MaxBytes = 256 * 1024 * 1024;

    private const int DefaultNodes = 10;

    /// <summary>The gen0 budget for <paramref name="nodes"/> nodes: 256 KiB each, between 4 and 256 MiB.</summary>
    public static long BudgetFor(int nodes) => Math.Clamp(nodes * PerNodeBytes, ExecutableBytes, MaxBytes);

    /// <summary>
    /// The budget this process runs with: the value of <see cref="Gen0SizeVariable"/> when it is set
    /// and valid (hexadecimal, as the runtime reads it), else null (the executable's own budget).
    /// </summary>
    public static long? CurrentBudget() =>
        Environment.GetEnvironmentVariable(Gen0SizeVariable) is { } text && long.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long bytes) ? bytes : null;

    /// <summary>
    /// The node count of a <c>cluster</c> command line (<c>--nodes N</c>, <c>--nodes=N</c> or <c>--nodes:N</c>; the
    /// command's default when absent), or null when <paramref name="args"/> is not the cluster
    /// command or its count is not a whole number (the parser then reports it).
    /// </summary>
    public static int? NodesOf(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || args[0] != "cluster")
        {
            return null;
        }

        for (int i = 1; i < args.Count; i++)
        {
            string value;
            if (args[i] == "--nodes")
            {
                value = i + 1 < args.Count ? args[i + 1] : string.Empty;
            }
            else if (args[i].StartsWith("--nodes=", StringComparison.Ordinal) || args[i].StartsWith("--nodes:", StringComparison.Ordinal))
            {
                value = args[i]["--nodes=".Length..]; // System.CommandLine takes both delimiters
            }
            else
            {
                continue;
            }

            return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int nodes) ? nodes : null;
        }

        return DefaultNodes;
    }

    /// <summary>
    /// The environment for the cluster command's budget, or null when the process should stay as it
    /// is: not the cluster command, a budget no larger than the executable's, or a budget already in
    /// <paramref name="environment"/> (set by the user, or by the replacement itself).
    /// </summary>
    public static SortedDictionary<string, string>? EnvironmentFor(IReadOnlyList<string> args, IDictionary environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (NodesOf(args) is not { } nodes || BudgetFor(nodes) <= ExecutableBytes
            || environment.Contains(Gen0SizeVariable) || environment.Contains(Gen0MaxBudgetVariable))
        {
            return null;
        }

        SortedDictionary<string, string> result = new(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in environment)
        {
            result[(string)entry.Key] = (string?)entry.Value ?? string.Empty;
        }

        string hex = BudgetFor(nodes).ToString("x", CultureInfo.InvariantCulture);
        result[Gen0SizeVariable] = hex;
        result[Gen0MaxBudgetVariable] = hex;
        return result;
    }

    /// <summary>
    /// Replaces this process with itself under the cluster command's budget when
    /// <see cref="EnvironmentFor"/> asks for one (Linux only). Returns when it did not: nothing to
    /// do, not Linux, or execve failed (then with a warning on <paramref name="error"/>: the command
    /// runs on with the executable's budget).
    /// </summary>
    public static void ReplaceProcessIfNeeded(string[] args, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (!OperatingSystem.IsLinux() || EnvironmentFor(args, Environment.GetEnvironmentVariables()) is not { } environment)
        {
            return;
        }

        // The original argv (the JIT's "dotnet rumor.dll cluster …" as well as the executable's
        // "rumor cluster …"), read back from the kernel rather than rebuilt.
        string[] argv;
        try
        {
            argv = Encoding.UTF8.GetString(File.ReadAllBytes("/proc/self/cmdline")).TrimEnd('\0').Split('\0');
        }
        catch (IOException e)
        {
            error.WriteLine($"rumor cluster: running with the executable's GC budget: /proc/self/cmdline: {e.Message}");
            return;
        }

        nint[] argvPointers = ToPointers(argv);
        nint[] environmentPointers = ToPointers(environment.Select(pair => pair.Key + "=" + pair.Value));
        nint path = Marshal.StringToCoTaskMemUTF8("/proc/self/exe");
        try
        {
            // execve returns only when it failed (-1, errno set); on success this image is gone.
            int failed = Execve(path, argvPointers, environmentPointers);
            int errno = failed == -1 ? Marshal.GetLastPInvokeError() : 0;
            error.WriteLine($"rumor cluster: running with the executable's GC budget: execve failed (errno {errno}, {Marshal.GetPInvokeErrorMessage(errno)}).");
        }
        finally
        {
            Marshal.FreeCoTaskMem(path);
            Free(argvPointers);
            Free(environmentPointers);
        }
    }

    /// <summary>A NULL-terminated array of UTF-8 strings, as execve takes them.</summary>
    private static nint[] ToPointers(IEnumerable<string> strings) => [.. strings.Select(Marshal.StringToCoTaskMemUTF8), 0];

    private static void Free(nint[] pointers)
    {
        foreach (nint pointer in pointers)
        {
            Marshal.FreeCoTaskMem(pointer);
        }
    }

    // DllImport rather than LibraryImport: the signature is blittable (the arrays are pinned), so no
    // marshalling code is generated either way, and LibraryImport would need unsafe code turned on
    // for the whole project.
    [DllImport("libc", EntryPoint = "execve", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Execve(nint path, nint[] argv, nint[] environment);
}
