using System.Diagnostics.Tracing;
using System.Globalization;

namespace Rumor.Benchmarks;

/// <summary>
/// Which types a phase allocates, from the runtime's own sampling: the GC raises an allocation tick
/// about every 100 KB allocated, naming the type of the object that crossed the mark, so the bytes
/// counted per type are a sample proportional to what each type allocates (the runtime's
/// <c>GCAllocationTick</c> event, the same one <c>dotnet-trace</c>'s gc-verbose profile records).
/// An in-process <see cref="EventListener"/> rather than an external trace, so the bench prints the
/// table itself: <c>scale --alloc-types</c>.
/// </summary>
public sealed class AllocationSampler : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;

    private readonly Lock _gate = new();
    private Dictionary<string, long> _bytesByType = new(StringComparer.Ordinal);
    private long _total;

    /// <summary>Sampled bytes since the last <see cref="Take"/>, largest type first.</summary>
    public (IReadOnlyList<KeyValuePair<string, long>> Types, long Total) Take()
    {
        lock (_gate)
        {
            List<KeyValuePair<string, long>> types = [.. _bytesByType];
            types.Sort((a, b) => b.Value.CompareTo(a.Value));
            long total = _total;
            _bytesByType = new Dictionary<string, long>(StringComparer.Ordinal);
            _total = 0;
            return (types, total);
        }
    }

    /// <summary>Writes the <paramref name="top"/> types of a phase as markdown rows (type, share of sampled bytes).</summary>
    public static void Print(string phase, (IReadOnlyList<KeyValuePair<string, long>> Types, long Total) sample, int top = 15)
    {
        Console.WriteLine($"# Allocation by type, {phase} (GCAllocationTick samples, ~100 KB each; share of sampled bytes)");
        Console.WriteLine("| type | share |");
        Console.WriteLine("|---|---|");
        foreach (KeyValuePair<string, long> entry in sample.Types.Take(top))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| `{Qualify(entry.Key)}` | {100.0 * entry.Value / Math.Max(1, sample.Total):0.0} % |"));
        }
    }

    /// <summary>
    /// The runtime names a nested type by its own name only (a closure is <c>&lt;&gt;c__DisplayClass60_0</c>);
    /// the Rumor types of that name, with their declaring types, say whose it is.
    /// </summary>
    private static string Qualify(string name)
    {
        if (name.Contains('.', StringComparison.Ordinal) || name.Contains('[', StringComparison.Ordinal))
        {
            return name;
        }

        IEnumerable<string> owners = AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => a.GetName().Name?.StartsWith("Rumor", StringComparison.Ordinal) == true)
            .SelectMany(a => a.GetTypes())
            .Where(t => t.Name == name && t.DeclaringType is not null)
            .Select(t => t.DeclaringType!.FullName ?? t.DeclaringType.Name)
            .Distinct()
            .Take(4);
        string list = string.Join(" or ", owners);
        return list.Length == 0 ? name : $"{name} (in {list})";
    }

    /// <inheritdoc />
    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource)
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    /// <inheritdoc />
    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventName is null || !eventData.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.Payload is null || eventData.PayloadNames is null)
        {
            return;
        }

        string type = "?";
        long amount = 0;
        for (int i = 0; i < eventData.PayloadNames.Count; i++)
        {
            switch (eventData.PayloadNames[i])
            {
                case "TypeName":
                    type = eventData.Payload[i] as string ?? "?";
                    break;
                case "AllocationAmount64":
                    amount = Convert.ToInt64(eventData.Payload[i], CultureInfo.InvariantCulture);
                    break;
                case "AllocationAmount" when amount == 0:
                    amount = Convert.ToInt64(eventData.Payload[i], CultureInfo.InvariantCulture);
                    break;
            }
        }

        lock (_gate)
        {
            _bytesByType[type] = _bytesByType.GetValueOrDefault(type) + amount;
            _total += amount;
        }
    }
}
