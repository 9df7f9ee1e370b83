using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Rumor.Hosting;

namespace Rumor.Agent;

/// <summary>
/// Writes the instruments of one host's <c>Rumor</c> meter in the Prometheus text exposition
/// format 0.0.4, read through a <see cref="MeterListener"/> (no exporter package). Names follow the
/// OpenTelemetry-to-Prometheus convention: dots become underscores, the unit is appended
/// (<c>By</c> → <c>_bytes</c>, <c>ms</c> → <c>_milliseconds</c>) unless the name already says it,
/// counters end in <c>_total</c>, histograms write cumulative <c>_bucket{le=...}</c>, <c>_sum</c>
/// and <c>_count</c>. Only the meter created by this host's <see cref="IMeterFactory"/> is read,
/// so several agents in one process each export their own node.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] DefaultBuckets = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    private readonly MeterListener _listener = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<Instrument, Series> _series = [];

    public PrometheusExporter(IMeterFactory meterFactory)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RumorMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meterFactory))
            {
                lock (_lock)
                {
                    _series[instrument] = new Series(instrument);
                }

                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.MeasurementsCompleted = (instrument, _) =>
        {
            lock (_lock)
            {
                _series.Remove(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Collects the observable instruments now and writes every series.</summary>
    public string Collect()
    {
        lock (_lock)
        {
            foreach (Series series in _series.Values)
            {
                series.BeginObservation();
            }

            _listener.RecordObservableInstruments();
            StringBuilder text = new();
            foreach (Series series in _series.Values.OrderBy(s => s.Name, StringComparer.Ordinal))
            {
                series.Write(text);
            }

            return text.ToString();
        }
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        lock (_lock)
        {
            if (_series.TryGetValue(instrument, out Series? series))
            {
                series.Record(value, Labels(tags));
            }
        }
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return string.Empty;
        }

        List<string> parts = [];
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            parts.Add($"{Sanitize(tag.Key)}=\"{EscapeLabel(Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? string.Empty)}\"");
        }

        parts.Sort(StringComparer.Ordinal);
        return string.Join(',', parts);
    }

    /// <summary>The Prometheus name of an instrument: sanitized, unit appended, <c>_total</c> for counters.</summary>
    internal static string PrometheusName(Instrument instrument)
    {
        string name = Sanitize(instrument.Name);
        string? unit = instrument.Unit switch
        {
            "By" => "bytes",
            "ms" => "milliseconds",
            "s" => "seconds",
            _ => null,
        };
        if (unit is not null && !name.Split('_').Contains(unit))
        {
            name += "_" + unit;
        }

        return IsCounter(instrument) ? name + "_total" : name;
    }

    private static bool IsCounter(Instrument instrument)
    {
        Type definition = instrument.GetType().GetGenericTypeDefinition();
        return definition == typeof(Counter<>) || definition == typeof(ObservableCounter<>);
    }

    private static string Sanitize(string name)
    {
        StringBuilder result = new(name.Length);
        foreach (char c in name)
        {
            result.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }

        return result.ToString();
    }

    private static string EscapeLabel(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf" : double.IsNaN(value) ? "NaN" : value.ToString("R", CultureInfo.InvariantCulture);

    public void Dispose() => _listener.Dispose();

    /// <summary>One instrument's series: last values per label set (observable), sums (counters), or buckets (histograms).</summary>
    private sealed class Series
    {
        private readonly Instrument _instrument;
        private readonly bool _observable;
        private readonly bool _histogram;
        private readonly double[] _bounds;
        private readonly SortedDictionary<string, double> _values = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, Buckets> _buckets = new(StringComparer.Ordinal);

        public Series(Instrument instrument)
        {
            _instrument = instrument;
            Name = PrometheusName(instrument);
            _observable = instrument.IsObservable;
            _histogram = instrument is Histogram<double> or Histogram<long> or Histogram<int>;
            _bounds = (instrument as Histogram<double>)?.Advice?.HistogramBucketBoundaries?.ToArray() ?? DefaultBuckets;
        }

        public string Name { get; }

        public void BeginObservation()
        {
            if (_observable)
            {
                _values.Clear();
            }
        }

        public void Record(double value, string labels)
        {
            if (_histogram)
            {
                if (!_buckets.TryGetValue(labels, out Buckets? buckets))
                {
                    buckets = new Buckets(_bounds.Length);
                    _buckets[labels] = buckets;
                }

                int index = Array.FindIndex(_bounds, bound => value <= bound);
                buckets.Counts[index < 0 ? _bounds.Length : index]++;
                buckets.Sum += value;
                buckets.Count++;
            }
            else if (_observable)
            {
                _values[labels] = value;
            }
            else
            {
                _values[labels] = _values.GetValueOrDefault(labels) + value;
            }
        }

        public void Write(StringBuilder text)
        {
            string type = _histogram ? "histogram" : IsCounter(_instrument) ? "counter" : "gauge";
            string help = (_instrument.Description ?? _instrument.Name).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
            if (_instrument.Unit is { Length: > 0 } unit)
            {
                help += $" (unit {unit})";
            }

            text.Append("# HELP ").Append(Name).Append(' ').Append(help).Append('\n');
            text.Append("# TYPE ").Append(Name).Append(' ').Append(type).Append('\n');
            if (_histogram)
            {
                if (_buckets.Count == 0)
                {
                    _buckets[string.Empty] = new Buckets(_bounds.Length);
                }

                foreach ((string labels, Buckets buckets) in _buckets)
                {
                    long cumulative = 0;
                    for (int i = 0; i <= _bounds.Length; i++)
                    {
                        cumulative += buckets.Counts[i];
                        string le = i < _bounds.Length ? Number(_bounds[i]) : "+Inf";
                        string all = labels.Length == 0 ? $"le=\"{le}\"" : $"{labels},le=\"{le}\"";
                        text.Append(Name).Append("_bucket{").Append(all).Append("} ").Append(cumulative).Append('\n');
                    }

                    string suffix = labels.Length == 0 ? string.Empty : "{" + labels + "}";
                    text.Append(Name).Append("_sum").Append(suffix).Append(' ').Append(Number(buckets.Sum)).Append('\n');
                    text.Append(Name).Append("_count").Append(suffix).Append(' ').Append(buckets.Count).Append('\n');
                }

                return;
            }

            foreach ((string labels, double value) in _values)
            {
                text.Append(Name);
                if (labels.Length > 0)
                {
                    text.Append('{').Append(labels).Append('}');
                }

                text.Append(' ').Append(Number(value)).Append('\n');
            }
        }
    }

    private sealed class Buckets(int bounds)
    {
        public long[] Counts { get; } = new long[bounds + 1];

        public double Sum { get; set; }

        public long Count { get; set; }
    }
}
