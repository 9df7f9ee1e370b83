using System.Globalization;
using System.Text;

namespace Rumor.Chaos;

/// <summary>The judgements, and the history behind them.</summary>
internal sealed class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private const string Absent = "(absent)";

    private readonly ChaosOptions _options;
    private readonly FaultLog _faults;
    private readonly IReadOnlyList<Op> _history;
    private readonly List<string> _kvProblems = [];
    private readonly HashSet<(string Owner, string Key)> _problemKeys = [];
    private int _excusedDead;

    public Report(ChaosOptions options, FaultLog faults, IReadOnlyList<Op> history)
    {
        _options = options;
        _faults = faults;
        _history = history;
        Acknowledged = history.Count(op => op.Kind is OpKind.Set or OpKind.Delete && op.Outcome == Outcome.Ok);
    }

    public int Acknowledged { get; }

    public int Lost { get; private set; }

    public int Resurrected { get; private set; }

    public double? MembershipConvergedAfter { get; set; }

    public string LastMembershipViews { get; set; } = string.Empty;

    public List<string> EventProblems { get; } = [];

    public List<MemberChange> FalseDead { get; } = [];

    /// <summary>
    /// Judges per owner: of each key, the owner's last acknowledged write in its current process
    /// (a restarted owner starts a new generation whose map replaces the old one: docs/OPERATIONS.md)
    /// must be what every member holds. A write with no answer (timeout) may or may not have been
    /// applied, so its value is accepted too when it came after the last acknowledged one. A
    /// member holding a value where the owner's last acknowledged write is a delete (or where the
    /// owner's current process never wrote the key) is a resurrection; any other mismatch is a loss.
    /// </summary>
    public bool JudgeKeyValues(Dictionary<string, Dictionary<(string Owner, string Key), (string Value, ulong Version)>> held)
    {
        _kvProblems.Clear();
        _problemKeys.Clear();
        int lost = 0;
        int resurrected = 0;
        foreach (Agent owner in _options.Agents)
        {
            int epoch = _faults.EpochOf(owner.Name);
            for (int k = 0; k < Workload.KeysPerNode; k++)
            {
                string key = Workload.KeyPrefix + "k" + k.ToString(Inv);
                List<Op> ops = [.. _history.Where(op => op.Node == owner.Name && op.Epoch == epoch && op.Key == key && op.Kind is OpKind.Set or OpKind.Delete).OrderBy(op => op.Seq)];
                Op? last = ops.LastOrDefault(op => op.Outcome == Outcome.Ok);
                HashSet<string> acceptable = [last is null ? Absent : StateOf(last)];
                foreach (Op unknown in ops.Where(op => op.Outcome == Outcome.Unknown))
                {
                    if (last is null || unknown.Seq > last.Seq || unknown.Kind == OpKind.Set)
                    {
                        acceptable.Add(StateOf(unknown));
                    }
                }

                HashSet<string> seen = [];
                bool bad = false;
                bool resurrection = false;
                foreach ((string member, Dictionary<(string, string), (string Value, ulong Version)> map) in held)
                {
                    string state = map.TryGetValue((owner.Name, key), out (string Value, ulong Version) entry) ? entry.Value : Absent;
                    seen.Add(state);
                    if (!acceptable.Contains(state))
                    {
                        bad = true;
                        resurrection |= state != Absent && acceptable.SetEquals([Absent]);
                        _kvProblems.Add($"  {owner.Name}/{key} on {member}: holds {state}{(state == Absent ? string.Empty : " v" + entry.Version.ToString(Inv))}; expected {string.Join(" or ", acceptable)}{(last is null ? " (no acknowledged write in the owner's current process #" + epoch.ToString(Inv) + ")" : " (last acknowledged: " + last + ")")}");
                    }
                }

                if (!bad && seen.Count > 1)
                {
                    bad = true;
                    _kvProblems.Add($"  {owner.Name}/{key}: members disagree: {string.Join(", ", seen)}");
                }

                if (bad)
                {
                    _problemKeys.Add((owner.Name, key));
                    if (resurrection)
                    {
                        resurrected++;
                    }
                    else
                    {
                        lost++;
                    }
                }
            }
        }

        Lost = lost;
        Resurrected = resurrected;
        return lost == 0 && resurrected == 0;
    }

    private static string StateOf(Op op) => op.Kind == OpKind.Delete ? Absent : op.Value ?? Absent;

    /// <summary>
    /// Every acknowledged event exactly once on every member whose current process was running when
    /// the event was acknowledged (a member restarted later lost its memory of older events: those
    /// may be missing, never doubled). An event whose origin was killed within 10 s of acknowledging
    /// it may have died with it (it had no time to spread): excused.
    /// </summary>
    public bool JudgeEvents(Dictionary<string, List<string>> delivered)
    {
        EventProblems.Clear();
        List<Op> acked = [.. _history.Where(op => op.Kind == OpKind.Event && op.Outcome == Outcome.Ok && op.EventId is not null)];
        IReadOnlyList<FaultWindow> windows = _faults.Windows;
        foreach ((string member, List<string> ids) in delivered)
        {
            foreach (IGrouping<string, string> doubled in ids.GroupBy(id => id, StringComparer.Ordinal).Where(g => g.Count() > 1))
            {
                EventProblems.Add($"  {member} delivered {doubled.Key} {doubled.Count()} times");
            }

            HashSet<string> held = [.. ids];
            double since = _faults.LastUp(member) ?? double.NegativeInfinity;
            foreach (Op op in acked)
            {
                bool originDied = windows.Any(w => w.Kind is "kill" or "mass-restart" && w.Nodes.Contains(op.Node) && w.Start >= op.End - 0.5 && w.Start <= op.End + 10);
                if (op.End > since && !originDied && !held.Contains(op.EventId!))
                {
                    EventProblems.Add($"  {member} never delivered {op}");
                }
            }
        }

        return EventProblems.Count == 0;
    }

    /// <summary>
    /// A member turned dead ("failed") in some member's view is excused when a fault involved it or
    /// the observer from the fault's start until <see cref="ChaosOptions.Grace"/> after its end
    /// (killed, paused, partitioned, mass restart); any other dead verdict is false: the member was
    /// only slow or lossy.
    /// </summary>
    public void JudgeDeadVerdicts(IReadOnlyList<MemberChange> changes)
    {
        FalseDead.Clear();
        _excusedDead = 0;
        IReadOnlyList<FaultWindow> windows = _faults.Windows;
        foreach (MemberChange change in changes.Where(c => c.Kind == "failed" && c.Subject != c.Observer))
        {
            bool excused = windows.Any(w => (w.Nodes.Contains(change.Subject) || w.Nodes.Contains(change.Observer))
                && change.At >= w.Start - 0.5 && change.At <= w.End + _options.Grace.TotalSeconds);
            if (excused)
            {
                _excusedDead++;
            }
            else
            {
                FalseDead.Add(change);
            }
        }
    }

    public string Summary()
    {
        int sets = _history.Count(op => op.Kind == OpKind.Set && op.Outcome == Outcome.Ok);
        int deletes = _history.Count(op => op.Kind == OpKind.Delete && op.Outcome == Outcome.Ok);
        int unknown = _history.Count(op => op.Outcome == Outcome.Unknown);
        int events = _history.Count(op => op.Kind == OpKind.Event && op.Outcome == Outcome.Ok);
        int queries = _history.Count(op => op.Kind == OpKind.Query && op.Outcome == Outcome.Ok);
        int restarted = _options.Agents.Count(a => _faults.EpochOf(a.Name) > 0);
        return string.Create(Inv, $"""
            history: {_history.Count} operations: {sets} sets and {deletes} deletes acknowledged, {unknown} without an answer (judged either way), {events} events and {queries} queries acknowledged
            faults: {_faults.Windows.Count} ({string.Join(", ", _faults.Windows.GroupBy(w => w.Kind).Select(g => $"{g.Count()} {g.Key}"))}); {restarted} of {_options.Agents.Count} agents restarted at least once
            key-value: {Lost} lost, {Resurrected} resurrected ({_problemKeys.Count} owner/key pairs wrong)
            events: {EventProblems.Count} problems
            dead verdicts: {FalseDead.Count} false, {_excusedDead} explained by a fault (grace {_options.Grace.TotalSeconds:0} s)
            """);
    }

    /// <summary>What was judged: faults, problems, and the operations behind them (all operations in the history file).</summary>
    public string Describe(IReadOnlyList<MemberChange> changes, bool full)
    {
        StringBuilder text = new();
        text.AppendLine("faults as the checker read them (its clock, seconds):");
        foreach ((double at, string line) in _faults.Lines)
        {
            text.AppendLine(Inv, $"  [{at,8:0.000}] {line}");
        }

        text.AppendLine("membership views at the last check:");
        text.Append(LastMembershipViews);
        if (_kvProblems.Count > 0)
        {
            text.AppendLine("key-value problems:");
            _kvProblems.ForEach(p => text.AppendLine(p));
            text.AppendLine("operations on those keys:");
            foreach (Op op in _history.Where(op => _problemKeys.Contains((op.Node, op.Key))))
            {
                text.AppendLine("  " + op);
            }
        }

        if (EventProblems.Count > 0)
        {
            text.AppendLine("event problems:");
            EventProblems.Take(200).ToList().ForEach(p => text.AppendLine(p));
        }

        if (FalseDead.Count > 0)
        {
            text.AppendLine("false dead verdicts (and every member change of those subjects):");
            HashSet<string> subjects = [.. FalseDead.Select(f => f.Subject)];
            foreach (MemberChange change in changes.Where(c => subjects.Contains(c.Subject)))
            {
                text.AppendLine("  " + change + (FalseDead.Contains(change) ? "   <== false dead" : string.Empty));
            }
        }

        if (!full)
        {
            return text.ToString();
        }

        text.AppendLine("all member changes reported:");
        foreach (MemberChange change in changes)
        {
            text.AppendLine("  " + change);
        }

        text.AppendLine("all operations:");
        foreach (Op op in _history)
        {
            text.AppendLine("  " + op);
        }

        return text.ToString();
    }
}
