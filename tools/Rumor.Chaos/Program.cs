using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Rumor.Chaos;

/// <summary>
/// The Jepsen-style checker of scripts/netns-chaos.sh. It runs a workload on every agent while the
/// script injects faults (the script logs each fault to a file the checker tails), and once the
/// script logs "healed" it stops the workload and checks, each within a bound measured on its own
/// clock: membership converged; every owner's last acknowledged write held by every member and
/// nothing deleted come back; every event delivered exactly once; no dead verdict about a member
/// that was only slow or lossy. It prints the history it judged when something is wrong, and
/// ends with the line
/// <c>chaos: W writes acknowledged, L lost, R resurrected, membership converged in S s after heal, F false dead</c>.
/// </summary>
internal static class Program
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<int> Main(string[] args)
    {
        ChaosOptions options;
        try
        {
            options = ChaosOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync("rumor-chaos: " + e.Message);
            return 2;
        }

        Stopwatch clock = Stopwatch.StartNew();
        using HttpClient http = new() { Timeout = TimeSpan.FromSeconds(3) };
        using HttpClient streams = new() { Timeout = Timeout.InfiniteTimeSpan };
        // Agents reached beyond loopback require a token (docs/SECURITY.md): scripts/netns-chaos.sh exports it.
        if (Environment.GetEnvironmentVariable("RUMOR_TOKEN") is { Length: > 0 } token)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            streams.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        FaultLog faults = new(options.FaultLog, clock);
        Workload workload = new(options, faults, clock, http);
        MemberObserver observer = new(options, clock, streams);

        using CancellationTokenSource stopWorkload = new();
        using CancellationTokenSource stopObserver = new();
        Task observing = observer.RunAsync(stopObserver.Token);
        Task working = workload.RunAsync(stopWorkload.Token);
        Log(clock, $"workload started on {options.Agents.Count} agents (seed {options.Seed}); waiting for the script's 'healed'");

        while (faults.HealedAt is null && clock.Elapsed < options.MaxRun)
        {
            faults.Poll();
            await Task.Delay(100);
        }

        await stopWorkload.CancelAsync();
        await working.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { }, TaskScheduler.Default);
        if (faults.HealedAt is not { } healedAt)
        {
            await stopObserver.CancelAsync();
            Console.WriteLine($"chaos: the script never logged 'healed' within {options.MaxRun.TotalSeconds:0} s");
            return 1;
        }

        Log(clock, "healed: the workload stopped; checking");
        Report report = new(options, faults, workload.History);

        // 1. Membership: every agent lists every member alive.
        double? converged = await WaitAsync(clock, healedAt, options.ConvergeBound, () => MembershipConvergedAsync(http, options, report));
        report.MembershipConvergedAfter = converged;
        Log(clock, converged is { } c ? $"membership converged {c:0.0} s after the heal" : $"membership NOT converged within {options.ConvergeBound.TotalSeconds:0} s of the heal");

        // 2. Key-value state, bounded from the moment membership converged (or the bound passed).
        double kvFrom = clock.Elapsed.TotalSeconds;
        double? kvConverged = await WaitAsync(clock, kvFrom, options.ConvergeBound, () => KeyValueJudgedAsync(http, options, report));
        Log(clock, kvConverged is { } k ? $"key-value maps as expected {k:0.0} s later" : "key-value maps NOT as expected within the bound");

        // 3. Events: exactly once.
        double eventsFrom = clock.Elapsed.TotalSeconds;
        double? eventsDone = await WaitAsync(clock, eventsFrom, options.ConvergeBound, () => EventsJudgedAsync(http, options, report));
        Log(clock, eventsDone is { } ev ? $"events as expected {ev:0.0} s later" : "events NOT as expected within the bound");

        await stopObserver.CancelAsync();
        await observing.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
        report.JudgeDeadVerdicts(observer.Changes);

        bool lossJudged = options.Loss <= 0.05 + 1e-9;
        bool ok = report.Lost == 0 && report.Resurrected == 0 && converged is not null && report.EventProblems.Count == 0
            && (!lossJudged || report.FalseDead.Count == 0) && report.Acknowledged > 0;
        if (options.HistoryFile is { } file)
        {
            await File.WriteAllTextAsync(file, report.Describe(observer.Changes, full: true));
        }

        Console.WriteLine(report.Summary());
        if (!ok)
        {
            Console.WriteLine();
            Console.WriteLine("---- the history judged ----");
            Console.WriteLine(report.Describe(observer.Changes, full: false));
            Console.WriteLine(options.HistoryFile is null ? "(pass --history FILE for every operation and member change)" : $"(every operation and member change: {options.HistoryFile})");
        }

        if (!lossJudged && report.FalseDead.Count > 0)
        {
            Console.WriteLine($"({report.FalseDead.Count} false dead at {options.Loss:P0} loss: above 5 %, reported, not failed)");
        }

        string convergedText = converged is { } s ? s.ToString("0.0", Inv) : $"NOT (bound {options.ConvergeBound.TotalSeconds:0})";
        Console.WriteLine($"chaos: {report.Acknowledged} writes acknowledged, {report.Lost} lost, {report.Resurrected} resurrected, membership converged in {convergedText} s after heal, {report.FalseDead.Count} false dead");
        return ok ? 0 : 1;
    }

    private static void Log(Stopwatch clock, string message) =>
        Console.WriteLine(string.Create(Inv, $"[{clock.Elapsed.TotalSeconds,8:0.000}] {message}"));

    /// <summary>Polls <paramref name="check"/> every 500 ms until it holds; the seconds since <paramref name="from"/>, or null past the bound.</summary>
    private static async Task<double?> WaitAsync(Stopwatch clock, double from, TimeSpan bound, Func<Task<bool>> check)
    {
        while (true)
        {
            if (await check())
            {
                return clock.Elapsed.TotalSeconds - from;
            }

            if (clock.Elapsed.TotalSeconds - from > bound.TotalSeconds)
            {
                return null;
            }

            await Task.Delay(500);
        }
    }

    private static async Task<bool> MembershipConvergedAsync(HttpClient http, ChaosOptions options, Report report)
    {
        HashSet<string> names = [.. options.Agents.Select(a => a.Name)];
        StringBuilder views = new();
        bool all = true;
        foreach (Agent agent in options.Agents)
        {
            using JsonDocument? members = await Api.GetAsync(http, new Uri(agent.Api, "/v1/members"));
            if (members is null)
            {
                views.AppendLine(Inv, $"  {agent.Name}: no answer");
                all = false;
                continue;
            }

            List<string> alive = [.. members.RootElement.EnumerateArray()
                .Where(m => m.GetProperty("state").GetString() == "alive")
                .Select(m => m.GetProperty("name").GetString() ?? "?")];
            List<string> others = [.. members.RootElement.EnumerateArray()
                .Where(m => m.GetProperty("state").GetString() != "alive")
                .Select(m => $"{m.GetProperty("name").GetString()}={m.GetProperty("state").GetString()}")];
            bool complete = names.IsSubsetOf(alive);
            all &= complete;
            views.AppendLine(Inv, $"  {agent.Name}: {alive.Count} alive{(others.Count > 0 ? "; " + string.Join(' ', others) : string.Empty)}{(complete ? string.Empty : "; missing alive: " + string.Join(' ', names.Except(alive)))}");
        }

        report.LastMembershipViews = views.ToString();
        return all;
    }

    private static async Task<bool> KeyValueJudgedAsync(HttpClient http, ChaosOptions options, Report report)
    {
        Dictionary<string, Dictionary<(string Owner, string Key), (string Value, ulong Version)>> held = new(StringComparer.Ordinal);
        foreach (Agent agent in options.Agents)
        {
            using JsonDocument? entries = await Api.GetAsync(http, new Uri(agent.Api, "/v1/kv?prefix=" + Uri.EscapeDataString(Workload.KeyPrefix)));
            if (entries is null)
            {
                return false;
            }

            Dictionary<(string, string), (string, ulong)> map = [];
            foreach (JsonElement entry in entries.RootElement.EnumerateArray())
            {
                string owner = entry.GetProperty("owner").GetString() ?? "?";
                string key = entry.GetProperty("key").GetString() ?? "?";
                string value = entry.TryGetProperty("value", out JsonElement v) ? v.GetString() ?? string.Empty : "(binary)";
                map[(owner, key)] = (value, entry.GetProperty("version").GetUInt64());
            }

            held[agent.Name] = map;
        }

        return report.JudgeKeyValues(held);
    }

    private static async Task<bool> EventsJudgedAsync(HttpClient http, ChaosOptions options, Report report)
    {
        Dictionary<string, List<string>> delivered = new(StringComparer.Ordinal);
        foreach (Agent agent in options.Agents)
        {
            using JsonDocument? events = await Api.GetAsync(http, new Uri(agent.Api, "/v1/events?limit=1024"));
            if (events is null)
            {
                return false;
            }

            delivered[agent.Name] = [.. events.RootElement.EnumerateArray()
                .Where(e => e.GetProperty("name").GetString() == Workload.EventName)
                .Select(e => e.GetProperty("id").GetString() ?? "?")];
        }

        return report.JudgeEvents(delivered);
    }
}
