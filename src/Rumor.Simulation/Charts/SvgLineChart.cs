using System.Globalization;
using System.Security;
using System.Text;

namespace Rumor.Simulation.Charts;

/// <summary>One line of a chart.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="Points">The points, in data coordinates.</param>
/// <param name="Color">An SVG colour ("#1f77b4").</param>
/// <param name="Dash">An SVG stroke-dasharray ("6 4"), or null for a solid line.</param>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, string Color, string? Dash = null);

/// <summary>
/// A small, dependency-free SVG line chart: a title, labelled axes with round-number ticks, a grid,
/// any number of series and a legend. Text is XML-escaped and numbers are written in the invariant
/// culture, so the output is well-formed XML and the same on every machine (ScottPlot and
/// SkiaSharp are not available here, and a chart in a repository should diff as text anyway).
/// </summary>
public sealed class SvgLineChart
{
    private const double Width = 760;
    private const double Height = 460;
    private const double Left = 70;
    private const double Right = 20;
    private const double Top = 50;
    private const double Bottom = 60;

    /// <summary>The title, at the top.</summary>
    public required string Title { get; init; }

    /// <summary>The x axis label.</summary>
    public required string XLabel { get; init; }

    /// <summary>The y axis label.</summary>
    public required string YLabel { get; init; }

    /// <summary>The lines.</summary>
    public required IReadOnlyList<ChartSeries> Series { get; init; }

    /// <summary>Fixed y range (for example 0..1 for a fraction); null fits the data.</summary>
    public (double Min, double Max)? YRange { get; init; }

    /// <summary>The chart as an SVG document.</summary>
    public string ToSvg()
    {
        (double X, double Y)[] all = [.. Series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y))];
        double xMin = all.Length == 0 ? 0 : Math.Min(0, all.Min(p => p.X));
        double xMax = all.Length == 0 ? 1 : all.Max(p => p.X);
        (double yMin, double yMax) = YRange ?? (all.Length == 0 ? (0, 1) : (Math.Min(0, all.Min(p => p.Y)), all.Max(p => p.Y)));
        double xStep = NiceStep(xMax - xMin);
        xMax = Math.Max(xMin + xStep, Math.Ceiling(xMax / xStep) * xStep);
        double yStep = NiceStep(yMax - yMin);
        if (YRange is null)
        {
            yMax = Math.Max(yMin + yStep, Math.Ceiling(yMax / yStep) * yStep);
        }

        double plotW = Width - Left - Right;
        double plotH = Height - Top - Bottom;
        double Sx(double x) => Left + ((x - xMin) / (xMax - xMin) * plotW);
        double Sy(double y) => Top + plotH - ((y - yMin) / (yMax - yMin) * plotH);

        StringBuilder svg = new();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"  <rect x=\"0\" y=\"0\" width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"  <text x=\"{Width / 2}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Escape(Title)}</text>\n");

        // Grid and ticks.
        for (double x = xMin; x <= xMax + (xStep / 2); x += xStep)
        {
            svg.Append(CultureInfo.InvariantCulture, $"  <line x1=\"{F(Sx(x))}\" y1=\"{F(Top)}\" x2=\"{F(Sx(x))}\" y2=\"{F(Top + plotH)}\" stroke=\"#e5e5e5\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"  <text x=\"{F(Sx(x))}\" y=\"{F(Top + plotH + 18)}\" text-anchor=\"middle\">{Label(x)}</text>\n");
        }

        for (double y = yMin; y <= yMax + (yStep / 2); y += yStep)
        {
            svg.Append(CultureInfo.InvariantCulture, $"  <line x1=\"{F(Left)}\" y1=\"{F(Sy(y))}\" x2=\"{F(Left + plotW)}\" y2=\"{F(Sy(y))}\" stroke=\"#e5e5e5\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"  <text x=\"{F(Left - 8)}\" y=\"{F(Sy(y) + 4)}\" text-anchor=\"end\">{Label(y)}</text>\n");
        }

        svg.Append(CultureInfo.InvariantCulture, $"  <rect x=\"{F(Left)}\" y=\"{F(Top)}\" width=\"{F(plotW)}\" height=\"{F(plotH)}\" fill=\"none\" stroke=\"#333\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"  <text x=\"{F(Left + (plotW / 2))}\" y=\"{F(Height - 18)}\" text-anchor=\"middle\">{Escape(XLabel)}</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"  <text x=\"18\" y=\"{F(Top + (plotH / 2))}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {F(Top + (plotH / 2))})\">{Escape(YLabel)}</text>\n");

        foreach (ChartSeries series in Series)
        {
            string points = string.Join(' ', series.Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).Select(p => $"{F(Sx(p.X))},{F(Sy(p.Y))}"));
            string dash = series.Dash is null ? string.Empty : $" stroke-dasharray=\"{Escape(series.Dash)}\"";
            svg.Append(CultureInfo.InvariantCulture, $"  <polyline fill=\"none\" stroke=\"{Escape(series.Color)}\" stroke-width=\"2\"{dash} points=\"{points}\"/>\n");
        }

        // Legend, bottom right (spread curves climb to the top right, so it stays clear of them late on).
        double legendY = Top + plotH - 14 - (18 * Series.Count);
        double legendWidth = 52 + (6.6 * Series.Select(s => s.Name.Length).DefaultIfEmpty(0).Max());
        double legendX = Left + plotW - legendWidth;
        svg.Append(CultureInfo.InvariantCulture, $"  <rect x=\"{F(legendX - 8)}\" y=\"{F(legendY - 6)}\" width=\"{F(legendWidth)}\" height=\"{F((18 * Series.Count) + 8)}\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999\"/>\n");
        for (int i = 0; i < Series.Count; i++)
        {
            ChartSeries series = Series[i];
            double y = legendY + (18 * i) + 6;
            string dash = series.Dash is null ? string.Empty : $" stroke-dasharray=\"{Escape(series.Dash)}\"";
            svg.Append(CultureInfo.InvariantCulture, $"  <line x1=\"{F(legendX)}\" y1=\"{F(y)}\" x2=\"{F(legendX + 28)}\" y2=\"{F(y)}\" stroke=\"{Escape(series.Color)}\" stroke-width=\"2\"{dash}/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"  <text x=\"{F(legendX + 36)}\" y=\"{F(y + 4)}\">{Escape(series.Name)}</text>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>Writes <see cref="ToSvg"/> to <paramref name="path"/>.</summary>
    public void Save(string path) => File.WriteAllText(path, ToSvg(), new UTF8Encoding(false));

    /// <summary>A round step (1, 2 or 5 × 10^k) giving about 5 to 10 ticks over <paramref name="span"/>.</summary>
    private static double NiceStep(double span)
    {
        if (!(span > 0))
        {
            return 1;
        }

        double raw = span / 8;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double unit = raw / magnitude;
        return magnitude * (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10);
    }

    private static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Label(double value) => Math.Round(value, 6).ToString("0.######", CultureInfo.InvariantCulture);

    private static string Escape(string text) => SecurityElement.Escape(text) ?? string.Empty;
}
