using System.Globalization;

namespace Rumor.Chaos;

/// <summary>One agent under test: its member name and the base address of its HTTP API.</summary>
internal sealed record Agent(string Name, Uri Api);

/// <summary>The checker's command line (scripts/netns-chaos.sh passes every option).</summary>
internal sealed record ChaosOptions
{
    public required IReadOnlyList<Agent> Agents { get; init; }

    /// <summary>The fault log the script appends to; the checker tails it and stamps each line with its own clock.</summary>
    public required string FaultLog { get; init; }

    public int Seed { get; init; } = 1;

    /// <summary>The datagram loss the script injects (a fraction); false dead verdicts fail the run only at or below 5 %.</summary>
    public double Loss { get; init; }

    /// <summary>Pause between two operations of one agent's workload.</summary>
    public TimeSpan OpInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Pause between two user events of one agent.</summary>
    public TimeSpan EventInterval { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How long after the heal membership must have converged (and, separately, the key-value maps and events).</summary>
    public TimeSpan ConvergeBound { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long after a fault on a member (or an observer) a dead verdict about it is still explained by that fault.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The longest the checker waits for the script's "healed" line before giving up.</summary>
    public TimeSpan MaxRun { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Where the full judged history is written (always); printed too when something is wrong.</summary>
    public string? HistoryFile { get; init; }

    public static ChaosOptions Parse(IReadOnlyList<string> args)
    {
        List<Agent> agents = [];
        string? faultLog = null;
        ChaosOptions options = new() { Agents = agents, FaultLog = string.Empty };
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value");
            switch (name)
            {
                case "--agent":
                    // NAME=http://ADDR:PORT
                    string text = Value();
                    int eq = text.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0)
                    {
                        throw new ArgumentException($"--agent '{text}': expected NAME=http://ADDR:PORT");
                    }

                    agents.Add(new Agent(text[..eq], new Uri(text[(eq + 1)..])));
                    break;
                case "--faults":
                    faultLog = Value();
                    break;
                case "--seed":
                    options = options with { Seed = int.Parse(Value(), CultureInfo.InvariantCulture) };
                    break;
                case "--loss":
                    options = options with { Loss = double.Parse(Value(), CultureInfo.InvariantCulture) };
                    break;
                case "--op-interval-ms":
                    options = options with { OpInterval = TimeSpan.FromMilliseconds(int.Parse(Value(), CultureInfo.InvariantCulture)) };
                    break;
                case "--event-interval-ms":
                    options = options with { EventInterval = TimeSpan.FromMilliseconds(int.Parse(Value(), CultureInfo.InvariantCulture)) };
                    break;
                case "--converge-bound-s":
                    options = options with { ConvergeBound = TimeSpan.FromSeconds(int.Parse(Value(), CultureInfo.InvariantCulture)) };
                    break;
                case "--grace-s":
                    options = options with { Grace = TimeSpan.FromSeconds(int.Parse(Value(), CultureInfo.InvariantCulture)) };
                    break;
                case "--max-run-s":
                    options = options with { MaxRun = TimeSpan.FromSeconds(int.Parse(Value(), CultureInfo.InvariantCulture)) };
                    break;
                case "--history":
                    options = options with { HistoryFile = Value() };
                    break;
                default:
                    throw new ArgumentException($"unknown option {name}");
            }
        }

        if (agents.Count == 0 || faultLog is null)
        {
            throw new ArgumentException("usage: rumor-chaos --agent NAME=URL ... --faults FILE [--seed K] [--loss P] [--op-interval-ms MS] [--event-interval-ms MS] [--converge-bound-s S] [--grace-s S] [--max-run-s S] [--history FILE]");
        }

        return options with { FaultLog = faultLog };
    }
}
