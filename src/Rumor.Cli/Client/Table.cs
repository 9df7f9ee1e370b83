using System.Text;

namespace Rumor.Cli.Client;

/// <summary>
/// A table for people: a header row and aligned columns separated by two spaces, the last column
/// left ragged (no trailing spaces), in the style of <c>serf members</c> and <c>kubectl get</c>.
/// </summary>
internal sealed class Table
{
    private readonly string[] _headers;
    private readonly List<string[]> _rows = [];

    public Table(params string[] headers)
    {
        _headers = headers;
    }

    public int Count => _rows.Count;

    /// <summary>The columns the table takes unfitted: its widest line.</summary>
    public int NaturalWidth =>
        Enumerable.Range(0, _headers.Length).Sum(i => _rows.Prepend(_headers).Max(row => row[i].Length)) + (2 * (_headers.Length - 1));

    public void Add(params string[] cells)
    {
        if (cells.Length != _headers.Length)
        {
            throw new ArgumentException($"a row of {cells.Length} cells in a table of {_headers.Length} columns", nameof(cells));
        }

        _rows.Add(cells);
    }

    /// <summary>
    /// Writes the table. With <paramref name="width"/> (the terminal's columns), a table wider than
    /// that has its widest columns narrowed, all to the same cap, until it fits (a column never
    /// narrower than its header or three characters), and a cell cut to its column ends with
    /// <see cref="Marker"/>: a 60 KB value or a 500-character key no longer pushes every other
    /// column off the screen. <c>--json</c> prints everything untruncated.
    /// </summary>
    public async Task WriteAsync(TextWriter output, int? width = null)
    {
        int[] widths = new int[_headers.Length];
        foreach (string[] row in _rows.Prepend(_headers))
        {
            for (int i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        if (width is { } columns)
        {
            Fit(widths, columns);
        }

        StringBuilder text = new();
        foreach (string[] row in _rows.Prepend(_headers))
        {
            for (int i = 0; i < row.Length; i++)
            {
                string cell = Truncate(row[i], widths[i]);
                text.Append(i == row.Length - 1 ? cell : cell.PadRight(widths[i] + 2));
            }

            // A last column that is empty leaves the padding of the one before: trim it.
            int end = text.Length;
            while (end > 0 && text[end - 1] == ' ')
            {
                end--;
            }

            text.Length = end;
            text.Append('\n');
        }

        await output.WriteAsync(text.ToString()).ConfigureAwait(false);
    }

    /// <summary>The end of a cell cut to fit its column.</summary>
    public const char Marker = '\u2026';

    /// <summary><paramref name="text"/> in at most <paramref name="width"/> characters: cut, with <see cref="Marker"/> last, when longer.</summary>
    public static string Truncate(string text, int width)
    {
        if (text.Length <= width)
        {
            return text;
        }

        if (width <= 1)
        {
            return width == 1 ? new string(Marker, 1) : string.Empty;
        }

        int keep = width - 1;
        if (char.IsHighSurrogate(text[keep - 1]))
        {
            keep--;
        }

        return text[..keep] + Marker;
    }

    /// <summary>
    /// Narrows <paramref name="widths"/> (the natural widths, cells and header) so the table fits in
    /// <paramref name="columns"/>: the largest cap every column is cut to that fits, then the columns
    /// at the cap share what is left, left to right. A column keeps at least its header (and three
    /// characters); when even those do not fit, the table is as narrow as it can be.
    /// </summary>
    private void Fit(int[] widths, int columns)
    {
        int available = columns - (2 * (widths.Length - 1));
        if (widths.Sum() <= available)
        {
            return;
        }

        int[] minimum = [.. widths.Select((natural, i) => Math.Min(natural, Math.Max(3, _headers[i].Length)))];
        int Total(int cap) => widths.Select((natural, i) => Math.Max(minimum[i], Math.Min(natural, cap))).Sum();
        int low = 0;
        int high = widths.Max();
        while (low < high)
        {
            int cap = (low + high + 1) / 2;
            if (Total(cap) <= available)
            {
                low = cap;
            }
            else
            {
                high = cap - 1;
            }
        }

        int spare = available - Total(low);
        for (int i = 0; i < widths.Length; i++)
        {
            int fitted = Math.Max(minimum[i], Math.Min(widths[i], low));
            if (spare > 0 && fitted < widths[i])
            {
                fitted++;
                spare--;
            }

            widths[i] = fitted;
        }
    }
}

/// <summary>Name-value lines for one object (<c>rumor status</c>, <c>rumor members show</c>), names aligned.</summary>
internal sealed class Fields
{
    private readonly List<(string Name, string Value)> _fields = [];

    public void Add(string name, string value) => _fields.Add((name, value));

    public async Task WriteAsync(TextWriter output)
    {
        int width = _fields.Count == 0 ? 0 : _fields.Max(f => f.Name.Length) + 2;
        StringBuilder text = new();
        foreach ((string name, string value) in _fields)
        {
            text.Append((name + ":").PadRight(width)).Append(value).Append('\n');
        }

        await output.WriteAsync(text.ToString()).ConfigureAwait(false);
    }
}
