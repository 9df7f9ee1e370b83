using System.Diagnostics;

namespace Rumor.Chaos;

/// <summary>A span of the checker's clock during which a fault involved some members.</summary>
internal sealed record FaultWindow(string Kind, IReadOnlyList<string> Nodes, double Start)
{
    public double End { get; set; } = double.PositiveInfinity;
}

/// <summary>
/// Tails the fault log the script writes. Every line is stamped with the checker's own clock when
/// it is read (no clock of the script or of a namespace is trusted). Lines:
/// <c>down N...</c> (about to kill -9), <c>up N</c> (restarted and healthy), <c>pause N</c> /
/// <c>resume N</c>, <c>partition sym|oneway A B</c>, <c>partition split A,B,.. C,D,..</c>,
/// <c>heal-partition</c>, <c>healed</c> (every fault is over: the workload stops).
/// </summary>
internal sealed class FaultLog
{
    private readonly string _path;
    private readonly Stopwatch _clock;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _down = new(StringComparer.Ordinal);
    private readonly HashSet<string> _paused = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _epochs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _lastUp = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _lastDown = new(StringComparer.Ordinal);
    private readonly List<FaultWindow> _windows = [];
    private readonly List<(double At, string Line)> _lines = [];
    private long _offset;
    private string _partial = string.Empty;

    public FaultLog(string path, Stopwatch clock)
    {
        _path = path;
        _clock = clock;
    }

    public double? HealedAt { get; private set; }

    public IReadOnlyList<(double At, string Line)> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    public IReadOnlyList<FaultWindow> Windows
    {
        get
        {
            lock (_gate)
            {
                return [.. _windows];
            }
        }
    }

    /// <summary>Whether requests may go to <paramref name="node"/> now (not killed, not paused), and its process epoch.</summary>
    public (bool Reachable, int Epoch) StateOf(string node)
    {
        lock (_gate)
        {
            return (!_down.Contains(node) && !_paused.Contains(node), _epochs.GetValueOrDefault(node));
        }
    }

    public int EpochOf(string node)
    {
        lock (_gate)
        {
            return _epochs.GetValueOrDefault(node);
        }
    }

    /// <summary>When the checker saw the node's last restart (null: never restarted).</summary>
    public double? LastUp(string node)
    {
        lock (_gate)
        {
            return _lastUp.TryGetValue(node, out double at) ? at : null;
        }
    }

    public double? LastDown(string node)
    {
        lock (_gate)
        {
            return _lastDown.TryGetValue(node, out double at) ? at : null;
        }
    }

    /// <summary>Reads what was appended since the last call.</summary>
    public void Poll()
    {
        if (!File.Exists(_path))
        {
            return;
        }

        string text;
        using (FileStream stream = new(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            if (stream.Length <= _offset)
            {
                return;
            }

            stream.Seek(_offset, SeekOrigin.Begin);
            using StreamReader reader = new(stream);
            text = reader.ReadToEnd();
            _offset = stream.Length;
        }

        text = _partial + text;
        int lastNewline = text.LastIndexOf('\n');
        _partial = text[(lastNewline + 1)..];
        double now = _clock.Elapsed.TotalSeconds;
        foreach (string raw in text[..Math.Max(0, lastNewline)].Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length > 0)
            {
                Apply(now, line);
            }
        }
    }

    private void Apply(double now, string line)
    {
        string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        lock (_gate)
        {
            _lines.Add((now, line));
            switch (parts[0])
            {
                case "down":
                    foreach (string node in parts.Skip(1))
                    {
                        _down.Add(node);
                        _lastDown[node] = now;
                    }

                    _windows.Add(new FaultWindow(parts.Length > 2 ? "mass-restart" : "kill", [.. parts.Skip(1)], now));
                    break;
                case "up":
                    _down.Remove(parts[1]);
                    _epochs[parts[1]] = _epochs.GetValueOrDefault(parts[1]) + 1;
                    _lastUp[parts[1]] = now;
                    CloseWhenAllUp();
                    break;
                case "pause":
                    _paused.Add(parts[1]);
                    _windows.Add(new FaultWindow("pause", [parts[1]], now));
                    break;
                case "resume":
                    _paused.Remove(parts[1]);
                    foreach (FaultWindow window in _windows.Where(w => w.Kind == "pause" && w.Nodes[0] == parts[1] && double.IsPositiveInfinity(w.End)))
                    {
                        window.End = now;
                    }

                    break;
                case "partition":
                    List<string> nodes = [.. parts.Skip(2).SelectMany(p => p.Split(',', StringSplitOptions.RemoveEmptyEntries))];
                    _windows.Add(new FaultWindow("partition-" + parts[1], nodes, now));
                    break;
                case "heal-partition":
                    foreach (FaultWindow window in _windows.Where(w => w.Kind.StartsWith("partition", StringComparison.Ordinal) && double.IsPositiveInfinity(w.End)))
                    {
                        window.End = now;
                    }

                    break;
                case "healed":
                    HealedAt = now;
                    _down.Clear();
                    _paused.Clear();
                    foreach (FaultWindow window in _windows.Where(w => double.IsPositiveInfinity(w.End)))
                    {
                        window.End = now;
                    }

                    break;
                default:
                    break;
            }
        }
    }

    private void CloseWhenAllUp()
    {
        foreach (FaultWindow window in _windows.Where(w => (w.Kind is "kill" or "mass-restart") && double.IsPositiveInfinity(w.End)))
        {
            if (window.Nodes.All(node => !_down.Contains(node)))
            {
                window.End = _clock.Elapsed.TotalSeconds;
            }
        }
    }
}
