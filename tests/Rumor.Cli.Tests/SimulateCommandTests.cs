using System.Xml.Linq;
using Rumor.Cli.Tests.Support;

namespace Rumor.Cli.Tests;

/// <summary><c>rumor simulate</c> in-process: determinism, flag errors, the bound, the CSV and SVG it writes. Small N only.</summary>
public sealed class SimulateCommandTests
{
    [Theory]
    [InlineData("--nodes", "1000", "--seed", "7", "--mode", "dissemination")]
    [InlineData("--nodes", "1000", "--seed", "7", "--mode", "dissemination", "--strategy", "pull", "--loss", "0.1")]
    [InlineData("--nodes", "60", "--seed", "7", "--trials", "2")]
    [InlineData("--nodes", "40", "--seed", "7", "--trials", "2", "--strategy", "push-pull", "--loss", "0.05", "--partition", "0.2@2-4", "--churn", "0.02:2:4")]
    public async Task The_same_seed_prints_the_same_table_twice(params string[] args)
    {
        (int code1, string first, string error1) = await RunAsync(["simulate", .. args]);
        (int code2, string second, _) = await RunAsync(["simulate", .. args]);

        Assert.True(code1 == 0, error1);
        Assert.Equal(0, code2);
        Assert.Equal(first, second);
        Assert.Contains("rounds to everyone, mean", first, StringComparison.Ordinal);
        Assert.Contains("mode: ", first, StringComparison.Ordinal);
        Assert.DoesNotContain("wall time", first, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auto_mode_says_which_mode_ran()
    {
        (_, string small, _) = await RunAsync("simulate", "--nodes", "30", "--trials", "1");
        (_, string large, _) = await RunAsync("simulate", "--nodes", "3000", "--trials", "2");

        Assert.Contains("mode: full (real GossipNodes", small, StringComparison.Ordinal);
        Assert.Contains("mode: dissemination (compact array engine", large, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_table_says_why_the_measured_rounds_differ_from_the_ideal()
    {
        (int fullCode, string full, _) = await RunAsync("simulate", "--nodes", "40", "--trials", "1", "--seed", "3");
        (int spreadCode, string spread, _) = await RunAsync("simulate", "--nodes", "3000", "--trials", "1", "--mode", "dissemination");

        Assert.Equal(0, fullCode);
        Assert.Equal(0, spreadCode);

        // Full mode: real timers are not in step and probes carry the rumor, so it can beat the synchronous ideal (issue 13: 4.43 vs 8.19 at N = 1,000).
        Assert.Contains("why measured can beat ideal: a measured round is 200 ms of virtual time", full, StringComparison.Ordinal);
        Assert.Contains("It is a yardstick, not a lower bound.", full, StringComparison.Ordinal);

        // Dissemination mode: synchronous too, but the push stops at the transmit limit.
        Assert.Contains("why measured can trail ideal: both are synchronous rounds, but the measured push stops after the transmit limit", spread, StringComparison.Ordinal);
        Assert.DoesNotContain("can beat", spread, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_seed_prints_another_table()
    {
        (_, string first, _) = await RunAsync("simulate", "--nodes", "2000", "--mode", "dissemination", "--fanout", "1", "--seed", "1");
        (_, string second, _) = await RunAsync("simulate", "--nodes", "2000", "--mode", "dissemination", "--fanout", "1", "--seed", "2");

        Assert.NotEqual(first, second);
    }

    [Theory]
    [InlineData("--nodes", "1", "--nodes")]
    [InlineData("--nodes", "lots", "--nodes")]
    [InlineData("--strategy", "gossip", "--strategy")]
    [InlineData("--fanout", "0", "--fanout")]
    [InlineData("--interval", "fast", "--interval")]
    [InlineData("--interval", "0ms", "--interval")]
    [InlineData("--loss", "1.5", "--loss")]
    [InlineData("--loss", "-0.1", "--loss")]
    [InlineData("--partition", "0.2", "--partition")]
    [InlineData("--partition", "0.2@5-3", "--partition")]
    [InlineData("--churn", "often", "--churn")]
    [InlineData("--churn", "0.1:0", "--churn")]
    [InlineData("--seed", "-1", "--seed")]
    [InlineData("--trials", "0", "--trials")]
    [InlineData("--mode", "half", "--mode")]
    [InlineData("--max-rounds", "0", "--max-rounds")]
    [InlineData("--frobnicate", "1", "--frobnicate")]
    public async Task A_bad_flag_exits_2_and_names_the_flag(string flag, string value, string named)
    {
        (int code, string output, string error) = await RunAsync("simulate", flag, value);

        Assert.Equal(2, code);
        Assert.Contains(named, error, StringComparison.Ordinal);
        Assert.Empty(output);
    }

    [Fact]
    public async Task Clusters_split_full_mode_and_the_table_does_not_depend_on_the_threads()
    {
        string[] args = ["simulate", "--nodes", "30", "--seed", "4", "--trials", "3", "--clusters", "2", "--loss", "0.05"];
        (int code1, string one, string error1) = await RunAsync([.. args, "--parallel", "1"]);
        (int code2, string two, _) = await RunAsync([.. args, "--parallel", "2"]);
        (_, string single, _) = await RunAsync("simulate", "--nodes", "30", "--seed", "4", "--trials", "3", "--loss", "0.05");

        Assert.True(code1 == 0, error1);
        Assert.Equal(0, code2);
        Assert.Equal(one, two);
        Assert.Contains("clusters: 2, each joined on its own (the first with seed 4, the others with seeds drawn from it), 1 or 2 trials each", one, StringComparison.Ordinal);
        Assert.DoesNotContain("clusters:", single, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--nodes", "3000", "--clusters", "2" }, "--clusters: 3,000 nodes run in dissemination mode")]
    [InlineData(new[] { "--nodes", "30", "--mode", "dissemination", "--clusters", "2" }, "--clusters: 30 nodes run in dissemination mode")]
    [InlineData(new[] { "--nodes", "30", "--trials", "2", "--clusters", "3" }, "--clusters: 3 clusters for 2 trials")]
    [InlineData(new[] { "--clusters", "0" }, "--clusters")]
    [InlineData(new[] { "--parallel", "0" }, "--parallel")]
    [InlineData(new[] { "--parallel", "65" }, "--parallel")]
    public async Task Clusters_and_parallel_refuse_what_they_cannot_do(string[] args, string message)
    {
        (int code, string output, string error) = await RunAsync(["simulate", .. args]);

        Assert.Equal(2, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Empty(output);
    }

    [Fact]
    public async Task Full_mode_refuses_a_size_that_does_not_fit()
    {
        (int code, _, string error) = await RunAsync("simulate", "--nodes", "100000", "--mode", "full");

        Assert.Equal(2, code);
        Assert.Contains("--mode full", error, StringComparison.Ordinal);
        Assert.Contains("--mode dissemination", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_that_cannot_converge_stops_at_the_bound_and_says_so()
    {
        (int code, string output, _) = await RunAsync("simulate", "--nodes", "1000", "--mode", "dissemination", "--trials", "3", "--partition", "0.4@1-1000", "--max-rounds", "30");

        Assert.Equal(0, code);
        Assert.Contains("did not converge within 30 rounds in 3 of 3 trials", output, StringComparison.Ordinal);
        Assert.Matches(@"trials that reached everyone +0/3 ", output);
    }

    [Fact]
    public async Task Out_writes_csv_and_a_well_formed_svg()
    {
        string dir = Path.Combine(Path.GetTempPath(), "rumor-simulate-" + Guid.NewGuid().ToString("N"));
        try
        {
            (int code, string output, string error) = await RunAsync("simulate", "--nodes", "800", "--mode", "dissemination", "--strategy", "push-pull", "--seed", "3", "--trials", "4", "--out", dir);

            Assert.True(code == 0, error);
            Assert.Contains("wrote ", output, StringComparison.Ordinal);
            string[] trials = File.ReadAllLines(Path.Combine(dir, "spread-trials.csv"));
            Assert.Equal("trial,round,informed,fraction", trials[0]);
            Assert.Equal(["0", "1", "2", "3"], trials.Skip(1).Select(l => l.Split(',')[0]).Distinct());
            Assert.All(trials.Skip(1), l => Assert.Equal(4, l.Split(',').Length));
            Assert.Contains(trials, l => l.EndsWith(",800,1", StringComparison.Ordinal));

            string[] curves = File.ReadAllLines(Path.Combine(dir, "spread-curves.csv"));
            Assert.Equal("round,measured_mean,ideal_mean,mean_field", curves[0]);
            Assert.StartsWith("0,0.00125,0.00125,0.00125", curves[1], StringComparison.Ordinal);

            XDocument svg = XDocument.Load(Path.Combine(dir, "spread.svg"));
            XNamespace ns = "http://www.w3.org/2000/svg";
            Assert.Equal(ns + "svg", svg.Root!.Name);
            string title = svg.Descendants(ns + "text").First().Value;
            Assert.Contains("N = 800", title, StringComparison.Ordinal);
            Assert.Contains("push-pull", title, StringComparison.Ordinal);
            Assert.Contains("dissemination mode", title, StringComparison.Ordinal);
            Assert.Contains("seed 3", title, StringComparison.Ordinal);
            Assert.Equal(3, svg.Descendants(ns + "polyline").Count());
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Verbose_adds_wall_time_after_the_table()
    {
        (int code, string output, _) = await RunAsync("simulate", "--nodes", "500", "--mode", "dissemination", "--trials", "2", "--verbose");

        Assert.Equal(0, code);
        string[] lines = output.TrimEnd().Split('\n');
        Assert.StartsWith("wall time ", lines[^1], StringComparison.Ordinal);
        Assert.Contains("peak working set", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_lists_every_option_and_the_top_level_usage_lists_simulate()
    {
        (int code, string output, _) = await RunAsync("simulate", "--help");
        (_, string top, _) = await RunAsync("--help");

        Assert.Equal(0, code);
        foreach (string option in new[] { "--nodes", "--strategy", "--fanout", "--interval", "--loss", "--partition", "--churn", "--seed", "--trials", "--mode", "--clusters", "--parallel", "--max-rounds", "--out", "--verbose" })
        {
            Assert.Contains(option, output, StringComparison.Ordinal);
        }

        Assert.Contains("simulate", top, StringComparison.Ordinal);
    }

    private static Task<(int Code, string Output, string Error)> RunAsync(params string[] args) => InProcessCli.RunAsync(args);
}
