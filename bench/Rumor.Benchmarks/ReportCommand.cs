using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Rumor.Simulation.Experiments;

namespace Rumor.Benchmarks;

/// <summary>
/// <c>report [--quick] [--out docs/BENCHMARKS.md] [--only a,b]</c>: reruns the experiments behind
/// docs/BENCHMARKS.md and writes their tables into the page between its generated markers
/// (<see cref="ReportPage"/>), so that no figure in those sections is typed by hand. Each section is
/// one or more of this program's own experiment commands, run in-process with their output
/// captured; the caption above each table names the command, the commit, the machine and whether
/// it came from <c>--quick</c>. Prose and sections without markers are not touched.
/// </summary>
public static class ReportCommand
{
    /// <summary>Every generated section of the page: its name, and the experiment commands of its quick and full variants.</summary>
    internal static readonly ReportSection[] Sections =
    [
        new("convergence",
            [["convergence", "--nodes", "1000", "--trials", "10", "--full-max", "0", "--seed", "1"]],
            [["convergence", "--nodes", "1000,10000", "--trials", "20", "--seed", "1"]]),
        new("spread",
            [["spread", "--nodes", "1000,10000,100000", "--trials", "10", "--seed", "1"]],
            [["spread", "--nodes", "1000,10000,100000,1000000", "--trials", "20", "--trials-large", "10", "--seed", "1", "--charts", "docs/charts"]]),
        new("scuttlebutt",
            [["spread", "--modes", "full,dissemination", "--strategies", "pull,push-pull", "--nodes", "500", "--trials", "3", "--seed", "1"]],
            [["spread", "--modes", "full,dissemination", "--strategies", "pull,push-pull", "--nodes", "1000", "--trials", "10", "--seed", "1"]]),
        new("detection-loss",
            [["detection", "loss", "--nodes", "100", "--duration", "1000s", "--loss", "0.01,0.05,0.10", "--seed", "1"]],
            [["detection", "loss", "--nodes", "100", "--duration", "10000s", "--loss", "0.01,0.05,0.10,0.20,0.30", "--seed", "1"]]),
        new("detection-starved",
            [["detection", "starved", "--nodes", "100", "--duration", "600s", "--crashes", "10", "--seed", "1"]],
            [["detection", "starved", "--nodes", "100", "--duration", "1h", "--crashes", "100", "--seed", "1"]]),
        new("detection-latency",
            [["detection", "latency", "--nodes", "100", "--crashes", "20", "--seed", "1"]],
            [["detection", "latency", "--nodes", "100", "--crashes", "100", "--seed", "1"], ["detection", "latency", "--nodes", "1000", "--crashes", "10", "--seed", "1"]]),
        new("phi",
            [["phi", "--nodes", "40", "--seeds", "5"]],
            [["phi", "--nodes", "40", "--seeds", "10"]]),
        new("state-spread",
            [["state", "--only", "spread", "--nodes", "100", "--trials", "3", "--seed", "1"]],
            [["state", "--only", "spread", "--nodes", "100,1000", "--trials", "3", "--seed", "1"]]),
        new("state-bulk",
            [["state", "--only", "bulk", "--seed", "1"]],
            [["state", "--only", "bulk", "--seed", "1"]]),
        new("state-idle",
            [["state", "--only", "idle", "--idle-nodes", "10,100", "--seed", "1"]],
            [["state", "--only", "idle", "--idle-nodes", "10,100,1000", "--seed", "1"]]),
        new("state-efficiency",
            [["state", "--only", "efficiency", "--seed", "1"]],
            [["state", "--only", "efficiency", "--seed", "1"]]),
        new("events",
            [["events", "--nodes", "200", "--loss", "0.05,0.2", "--multiplier", "1,4", "--events", "20", "--seed", "1"]],
            [["events", "--nodes", "500", "--loss", "0.05,0.2", "--multiplier", "1,4", "--events", "20", "--seed", "1"]]),
        new("aggregates",
            [["aggregates", "--nodes", "1000,10000,100000", "--trials", "5", "--full-nodes", "none", "--loss-nodes", "300", "--loss-rounds", "60", "--seed", "1"]],
            [["aggregates", "--nodes", "1000,10000,100000,1000000", "--trials", "5", "--full-nodes", "1000", "--full-trials", "1", "--loss-nodes", "300", "--loss-rounds", "60", "--seed", "1"]]),
    ];

    public static Command Create()
    {
        Option<bool> quick = new("--quick") { Description = "Smaller sizes and shorter runs (each section says which variant produced it)." };
        Option<string> output = new("--out")
        {
            Description = "The page to update in place.",
            HelpName = "FILE",
            DefaultValueFactory = _ => Path.Combine("docs", "BENCHMARKS.md"),
        };
        string[] names = [.. Sections.Select(s => s.Name)];
        Option<string[]> only = BenchOptions.Names("--only", "Sections to regenerate (the page's header line is rewritten only when all run)", names);
        Command command = new("report", "Rerun the experiments behind docs/BENCHMARKS.md and write their tables between the page's generated markers.") { quick, output, only };
        command.SetAction(parsed => Run(parsed.GetValue(quick), parsed.GetValue(output)!, parsed.GetValue(only)!));
        return command;
    }

    private static int Run(bool quick, string path, string[] only)
    {
        string page = File.ReadAllText(path);
        IReadOnlyList<string> present = ReportPage.Sections(page); // refuses a page with broken markers before any experiment runs
        List<ReportSection> chosen = [.. Sections.Where(s => only.Contains(s.Name))];
        string? missing = chosen.Select(s => s.Name).Append("header").FirstOrDefault(n => !present.Contains(n));
        if (missing is not null)
        {
            Console.Error.WriteLine($"report: {path} has no section '{missing}' ({ReportPage.Begin(missing)} … {ReportPage.End(missing)})");
            return 1;
        }

        string commit = Commit(Environment.CurrentDirectory); // the code that runs is the checkout we are in, wherever the page goes
        string machine = Machine();
        string variant = quick ? "`report --quick`" : "`report`";
        Stopwatch total = Stopwatch.StartNew();
        foreach (ReportSection section in chosen)
        {
            Stopwatch wall = Stopwatch.StartNew();
            Console.Error.WriteLine($"report: {section.Name} ({(quick ? "quick" : "full")}) ...");
            StringBuilder body = new();
            foreach (string[] args in quick ? section.Quick : section.Full)
            {
                body.Append(CultureInfo.InvariantCulture, $"`dotnet run -c Release --project bench/Rumor.Benchmarks -- {string.Join(' ', args)}`").AppendLine().AppendLine();
                body.Append(Capture(args)).AppendLine();
            }

            string date = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
            string caption = string.Create(CultureInfo.InvariantCulture,
                $"*Generated by {variant} at commit {commit}, {date}, in {wall.Elapsed.TotalSeconds:0} s of wall time, by:*");
            page = ReportPage.Replace(page, new Dictionary<string, string> { [section.Name] = caption + Environment.NewLine + Environment.NewLine + body });
            File.WriteAllText(path, page); // section by section: an interrupted report keeps what it finished
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"report: {section.Name} done in {wall.Elapsed.TotalSeconds:0} s"));
        }

        if (chosen.Count == Sections.Length)
        {
            string header = string.Create(CultureInfo.InvariantCulture,
                $"Measured at commit {commit} on {machine}, {DateTime.UtcNow:yyyy-MM-dd} ({variant}, {total.Elapsed.TotalMinutes:0.0} min of wall time): every table between `report:…` markers below. Sections without them were measured separately and say when.");
            page = ReportPage.Replace(page, new Dictionary<string, string> { ["header"] = header });
            File.WriteAllText(path, page);
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"report: {chosen.Count} sections written to {path} in {total.Elapsed.TotalMinutes:0.0} min"));
        return 0;
    }

    /// <summary>
    /// Runs one experiment command in-process and returns its output as Markdown: the tables as
    /// printed, the experiments' <c>#</c> title lines as italic captions (they are not page headings).
    /// </summary>
    private static string Capture(string[] args)
    {
        TextWriter console = Console.Out;
        StringWriter captured = new(CultureInfo.InvariantCulture);
        int code;
        try
        {
            Console.SetOut(captured);
            code = Program.Main(args);
        }
        finally
        {
            Console.SetOut(console);
        }

        if (code != 0)
        {
            throw new InvalidOperationException($"report: '{string.Join(' ', args)}' exited with {code}: {captured}");
        }

        StringBuilder markdown = new();
        foreach (string line in captured.ToString().ReplaceLineEndings("\n").Split('\n'))
        {
            string trimmed = line.TrimStart('#');
            markdown.AppendLine(trimmed.Length < line.Length && trimmed.StartsWith(' ') ? $"*{trimmed.Trim()}*" : line);
        }

        return markdown.ToString().Trim() + Environment.NewLine;
    }

    /// <summary>The short commit of HEAD, with "+ uncommitted changes" when src/ or bench/ differ from it.</summary>
    private static string Commit(string directory)
    {
        string sha = Git(directory, "rev-parse --short=12 HEAD").Trim();
        string dirty = Git(directory, "status --porcelain -- :/src :/bench").Trim();
        if (dirty.Length > 0)
        {
            Console.Error.WriteLine("report: src/ or bench/ has uncommitted changes; the page will say so");
            return $"{sha} + uncommitted changes";
        }

        return sha;
    }

    private static string Git(string directory, string arguments)
    {
        ProcessStartInfo start = new("git", arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        using Process git = Process.Start(start) ?? throw new InvalidOperationException("report: git did not start");
        string output = git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        return git.ExitCode == 0 ? output : throw new InvalidOperationException($"report: git {arguments} failed: {git.StandardError.ReadToEnd()}");
    }

    private static string Machine()
    {
        string cpu = "unknown CPU";
        if (File.Exists("/proc/cpuinfo"))
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }

        string load = File.Exists("/proc/loadavg") ? $", load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the start" : "";
        double memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return string.Create(CultureInfo.InvariantCulture,
            $"{cpu}, {Environment.ProcessorCount} cores, {memory:0} GiB, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}{load}");
    }
}

/// <summary>One generated section: its marker name and the experiment command lines of each variant.</summary>
internal sealed record ReportSection(string Name, string[][] Quick, string[][] Full);
