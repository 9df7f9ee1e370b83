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

    public void Add(params string[] cells)
    {
        if (cells.Length != _headers.Length)
        {
            throw new ArgumentException($"a row of {cells.Length} cells in a table of {_headers.Length} columns", nameof(cells));
        }

        _rows.Add(cells);
    }

    public async Task WriteAsync(TextWriter output)
    {
        int[] widths = new int[_headers.Length];
        foreach (string[] row in _rows.Prepend(_headers))
        {
            for (int i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        StringBuilder text = new();
        foreach (string[] row in _rows.Prepend(_headers))
        {
            for (int i = 0; i < row.Length; i++)
            {
                text.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
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
