using System.Text;

namespace Rumor.Core.Wire;

/// <summary>
/// Interns member names decoded from the wire, so that a node that keeps hearing the same names
/// allocates nothing for them: the UTF-8 bytes are transcoded on the stack and looked up with an
/// alternate (span) key. Bounded: past <see cref="Capacity"/> names are still decoded, just not
/// remembered (counted in <see cref="Overflows"/>). Safe to share between nodes of one simulation
/// (strings are immutable), never between threads.
/// </summary>
public sealed class NameTable
{
    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    /// <summary>Creates a table that remembers at most <paramref name="capacity"/> names.</summary>
    public NameTable(int capacity = 65536)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
        _lookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>How many names the table remembers at most.</summary>
    public int Capacity { get; }

    /// <summary>Names currently remembered.</summary>
    public int Count => _names.Count;

    /// <summary>Names that could not be remembered because the table was full.</summary>
    public long Overflows { get; private set; }

    /// <summary>Returns the one string instance for these UTF-8 bytes (which must be valid UTF-8, at most 255 bytes).</summary>
    public string Intern(ReadOnlySpan<byte> utf8)
    {
        Span<char> chars = stackalloc char[WireLimits.NameMaxBytes];
        int length = Encoding.UTF8.GetChars(utf8, chars);
        ReadOnlySpan<char> key = chars[..length];
        if (_lookup.TryGetValue(key, out string? existing))
        {
            return existing;
        }

        string name = new(key);
        if (_names.Count < Capacity)
        {
            _names.Add(name, name);
        }
        else
        {
            Overflows++;
        }

        return name;
    }

    /// <summary>Returns the interned instance of <paramref name="name"/>, adding it if there is room.</summary>
    public string Intern(string name)
    {
        if (_names.TryGetValue(name, out string? existing))
        {
            return existing;
        }

        if (_names.Count < Capacity)
        {
            _names.Add(name, name);
        }
        else
        {
            Overflows++;
        }

        return name;
    }
}
