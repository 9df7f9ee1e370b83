using System.Globalization;
using System.Text;
using Rumor.Simulation.Experiments;

namespace Rumor.Simulation.Charts;

/// <summary>The files <c>rumor simulate --out DIR</c> writes for a <see cref="SpreadReport"/>: CSV and the SVG chart.</summary>
public static class SpreadCharts
{
    /// <summary>File name of the per-trial CSV.</summary>
    public const string TrialsFile = "spread-trials.csv";

    /// <summary>File name of the mean-curves CSV.</summary>
    public const string CurvesFile = "spread-curves.csv";

    /// <summary>File name of the chart.</summary>
    public const string ChartFile = "spread.svg";

    /// <summary>Writes the CSVs and the chart into <paramref name="directory"/> (created if missing); returns the paths written.</summary>
    public static IReadOnlyList<string> Write(SpreadReport report, string directory)
    {
        ArgumentNullException.ThrowIfNull(report);
        Directory.CreateDirectory(directory);
        string trials = Path.Combine(directory, TrialsFile);
        string curves = Path.Combine(directory, CurvesFile);
        string chart = Path.Combine(directory, ChartFile);
        File.WriteAllText(trials, TrialsCsv(report), new UTF8Encoding(false));
        File.WriteAllText(curves, CurvesCsv(report), new UTF8Encoding(false));
        Chart(report).Save(chart);
        return [trials, curves, chart];
    }

    /// <summary>One row per trial per round: trial, round, informed nodes, informed fraction.</summary>
    public static string TrialsCsv(SpreadReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        StringBuilder csv = new("trial,round,informed,fraction\n");
        for (int t = 0; t < report.Trials.Count; t++)
        {
            int[] counts = report.Trials[t].InformedPerRound;
            for (int r = 0; r < counts.Length; r++)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{t},{r},{counts[r]},{(double)counts[r] / report.Settings.Nodes:0.######}\n");
            }
        }

        return csv.ToString();
    }

    /// <summary>One row per round: the measured mean fraction, the ideal's mean fraction, the mean-field fraction (empty past a curve's end).</summary>
    public static string CurvesCsv(SpreadReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        double[] measured = report.MeanCurve();
        double[] ideal = report.IdealCurve();
        double[] field = report.MeanField;
        int length = Math.Max(measured.Length, Math.Max(ideal.Length, field.Length));
        StringBuilder csv = new("round,measured_mean,ideal_mean,mean_field\n");
        for (int r = 0; r < length; r++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{r},{Cell(measured, r)},{Cell(ideal, r)},{Cell(field, r)}\n");
        }

        return csv.ToString();
    }

    /// <summary>The chart: measured mean, the ideal's mean and the mean-field curve, informed fraction per round.</summary>
    public static SvgLineChart Chart(SpreadReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        SpreadSettings s = report.Settings;
        string strategy = SpreadReport.StrategyName(s.Strategy);
        string mode = report.Mode == SpreadMode.Full ? (s.Clusters > 1 ? $"full mode on {s.Clusters} clusters" : "full mode") : "dissemination mode";
        return new SvgLineChart
        {
            Title = string.Create(CultureInfo.InvariantCulture, $"Spread of one rumor: N = {s.Nodes:N0}, {strategy}, fanout {s.Fanout}, {mode}, seed {s.Seed}"),
            XLabel = report.Mode == SpreadMode.Full
                ? string.Create(CultureInfo.InvariantCulture, $"round ({s.EffectiveInterval.TotalMilliseconds:0} ms of virtual time)")
                : "round (synchronous)",
            YLabel = "informed fraction",
            YRange = (0, 1),
            Series =
            [
                new ChartSeries($"measured, mean of {report.Trials.Count} trials", Points(report.MeanCurve()), "#1f77b4"),
                new ChartSeries($"ideal {strategy} (synchronous, undamped), mean of {report.IdealTrials.Count}", Points(report.IdealCurve()), "#d62728", "7 4"),
                new ChartSeries("mean-field recurrence", Points(report.MeanField), "#2ca02c", "2 3"),
            ],
        };
    }

    /// <summary>(round, value) points of a per-round curve.</summary>
    public static (double X, double Y)[] Points(double[] curve)
    {
        ArgumentNullException.ThrowIfNull(curve);
        return [.. curve.Select((y, r) => ((double)r, y))];
    }

    private static string Cell(double[] values, int index) =>
        index < values.Length ? values[index].ToString("0.######", CultureInfo.InvariantCulture) : string.Empty;
}
