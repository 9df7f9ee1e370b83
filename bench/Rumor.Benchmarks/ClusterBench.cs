using System.Buffers;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MessagePack;
using Rumor.Serf.Wire;

namespace Rumor.Benchmarks;

/// <summary>
/// Real processes on loopback (issue 16, item 4): N <c>rumor agent</c> processes (agent k on
/// 127.0.0.k, gossip port 17946, HTTP 17373) and, in the same run, N <c>serf agent -profile=lan</c>
/// processes (gossip 17947, RPC 17374), the same scenario on each, one table side by side:
/// start-up (launch → API answering: GET /v1/health, Serf's RPC handshake), convergence (launch of
/// agents 2..N at once → every agent lists N alive), idle RSS and CPU per agent (a 10 s window after
/// a 3 s settle), event delivery (send on agent 1 → a user-event handler script on every agent
/// stamps the time, the same script for both), detection (SIGKILL of agent N → every other agent
/// lists it failed/dead; first suspicion is Rumor's only, Serf's API does not show suspects) and
/// false suspicions (another member seen non-alive while detecting). The APIs are polled every
/// 20 ms over kept connections, so convergence and detection are at that resolution and include
/// the polling's own CPU on a loaded machine.
/// With <c>--mixed M</c> (issue 14, item 5): an all-Serf cluster of 2M, then one cluster of M Serf
/// agents and M <c>rumor agent --protocol serf</c> agents (on Serf's gossip port), a row per kind
/// (<see cref="MeasureMixedAsync"/>).
/// With <c>--runs R</c> each cluster is measured R times, the systems taking turns run by run so that
/// both see the same load, and a median row per system follows its R rows: one run decides little
/// when detection alone moves by 2 s between runs (it hangs on when a probe first reaches the victim).
/// Usage: <c>cluster [--nodes 5,20,50] [--systems rumor,serf] [--mixed 10] [--runs 1] [--rumor PATH] [--serf PATH] [--timeout 120]</c>.
/// </summary>
public static class ClusterBench
{
    private const int RumorGossipPort = 17946;
    private const int RumorHttpPort = 17373;
    private const int SerfGossipPort = 17947;
    private const int SerfRpcPort = 17374;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// The pause after a detection before the next kill (the mixed cluster's second victim, and each
    /// kill of <c>--kills</c>), so that every victim dies in a settled cluster, as the all-Serf row's
    /// does. Right after a detection the cluster is not settled: each failed probe of the victim
    /// raised the memberlist prober's awareness (Lifeguard's local health: +1 per indirect helper
    /// whose nack had not arrived by the end of the probe interval; a helper nacks ProbeTimeout
    /// after the request, about when the prober stops counting), which stretches its probe interval
    /// to (1 + awareness) s until successful probes take it off again, one per probe. Measured: the
    /// pause did not remove the mixed rows' occasional late first suspicion, and the kill series
    /// found no difference between the kinds (BENCHMARKS, session 14).
    /// </summary>
    private static readonly TimeSpan SettleBetweenKills = TimeSpan.FromSeconds(15);

    /// <summary>
    /// An event that reaches an agent later than this names that agent and keeps every agent's log:
    /// the median delivery is a fraction of a second, and a straggler of 15 s (BENCHMARKS, session
    /// 15) could not be traced because its logs were gone.
    /// </summary>
    private static readonly TimeSpan SlowDelivery = TimeSpan.FromSeconds(2);

    public static Command Create()
    {
        Option<int[]> nodes = BenchOptions.Ints("--nodes", "Cluster sizes (at most 250: agent k is on 127.0.0.k)", [5, 20]);
        Option<string[]> systems = BenchOptions.Names("--systems", "What to run", ["rumor", "serf"]);
        Option<string> rumor = new("--rumor") { Description = "The rumor executable or rumor.dll (default: artifacts/rumor-linux-x64/rumor, the AOT binary of scripts/publish-agent.sh, when present, else src/Rumor.Cli/bin/Release/net10.0/rumor.dll).", HelpName = "PATH" };
        Option<string> serf = new("--serf") { Description = "The serf executable (default: serf on PATH).", HelpName = "PATH", DefaultValueFactory = _ => "serf" };
        Option<int[]> mixed = BenchOptions.Ints("--mixed", "Mixed clusters of M Serf agents and M `rumor agent --protocol serf` agents, each after an all-Serf cluster of 2M in the same run; replaces --nodes and --systems", [], allowNone: true);
        Option<int> timeout = BenchOptions.Int("--timeout", "Upper bound in seconds of each measured phase.", 120);
        Option<int> runs = BenchOptions.Int("--runs", "Measure each cluster this many times (systems take turns run by run) and add a median row per system (1 to 20).", 1);
        Option<int> kills = BenchOptions.Int("--kills", "With --mixed: instead of the usual rows, kill this many agents one after another in each cluster (0 to 2M-2; the kinds take turns, Serf first, 15 s apart) and report each detection and, per kind, the median and mean.", 0);
        Command command = new("cluster", "Real agent processes on 127.0.0.k, Rumor beside Serf (or mixed with Serf in one cluster): start-up, convergence, idle RSS/CPU, event delivery, detection.") { nodes, systems, mixed, runs, kills, rumor, serf, timeout };
        command.SetAction(parsed => Run(parsed.GetValue(nodes)!, parsed.GetValue(systems)!, parsed.GetValue(mixed)!, parsed.GetValue(runs), parsed.GetValue(kills), parsed.GetValue(rumor), parsed.GetValue(serf)!, parsed.GetValue(timeout)).GetAwaiter().GetResult());
        return command;
    }

    private static async Task<int> Run(int[] sizes, string[] systems, int[] mixed, int runs, int kills, string? rumorPath, string serfPath, int timeoutSeconds)
    {
        if (kills != 0 && (mixed.Length == 0 || mixed.Any(m => kills < 0 || kills > 2 * m - 2)))
        {
            Console.Error.WriteLine("bench cluster: --kills goes with --mixed M and takes 1 to 2M-2.");
            return 2;
        }

        if (sizes.Any(n => n is < 2 or > 250) || mixed.Any(m => m is < 2 or > 125))
        {
            Console.Error.WriteLine("bench cluster: --nodes takes sizes from 2 to 250 and --mixed from 2 to 125 (agent k listens on 127.0.0.k).");
            return 2;
        }

        if (runs is < 1 or > 20)
        {
            Console.Error.WriteLine($"bench cluster: --runs takes 1 to 20, not {runs}.");
            return 2;
        }

        string rumor = rumorPath ?? DefaultRumor();
        if ((systems.Contains("rumor") || mixed.Length > 0) && !File.Exists(rumor))
        {
            Console.Error.WriteLine($"bench cluster: no rumor at {rumor}: run scripts/publish-agent.sh (AOT) or dotnet build -c Release src/Rumor.Cli, or pass --rumor PATH.");
            return 2;
        }

        TimeSpan timeout = TimeSpan.FromSeconds(timeoutSeconds);
        Console.WriteLine($"# Real-process cluster on loopback; rumor = {rumor}; serf = {serfPath}; both with LAN timings; APIs polled every {Poll.TotalMilliseconds} ms; load before: {File.ReadAllText("/proc/loadavg").Trim()}");
        int failures = 0;
        if (kills > 0)
        {
            Console.WriteLine("# Kill series: in each cluster of 2M, agents killed one after another (M, 2M, M-1, 2M-1, ...: in the mixed cluster the kinds take turns, Serf's first), each 15 s after the last detection; per kind the median / mean over its kills.");
            Console.WriteLine("| N | system | victim | first suspicion (s) | detection first / all (s) | false suspicions |");
            Console.WriteLine("|---|---|---|---|---|---|");
            foreach (int m in mixed)
            {
                for (int run = 1; run <= runs; run++)
                {
                    await using (SerfSide serfSide = new(serfPath))
                    {
                        failures += await KillSeriesAsync(serfSide, m, kills, run, timeout).ConfigureAwait(false);
                    }

                    await using MixedSide mixedSide = new(rumor, serfPath, m);
                    failures += await KillSeriesAsync(mixedSide, m, kills, run, timeout).ConfigureAwait(false);
                }
            }
        }
        else if (mixed.Length > 0)
        {
            PrintHeader();
            Console.WriteLine("# Mixed rows: agents 1..M are Serf's, M+1..2M rumor agent --protocol serf, one cluster. Per kind: its agents' start-up, RSS and CPU; convergence when every agent of the kind lists 2M alive; an event sent from the kind's first agent, delivery on every agent; the kind's last agent killed, detection by every other live agent (the Serf agent is killed first, the Rumor agent 15 s after its detection).");
            foreach (int m in mixed)
            {
                List<RowResult> results = [];
                for (int run = 1; run <= runs; run++)
                {
                    await using (SerfSide serfSide = new(serfPath))
                    {
                        failures += await RowsAsync(serfSide, 2 * m, run, runs, results, async () => [await MeasureAsync(serfSide, 2 * m, timeout).ConfigureAwait(false)]).ConfigureAwait(false);
                    }

                    await using MixedSide mixedSide = new(rumor, serfPath, m);
                    failures += await RowsAsync(mixedSide, 2 * m, run, runs, results, () => MeasureMixedAsync(mixedSide, m, timeout)).ConfigureAwait(false);
                }

                PrintMedians(results, runs);
            }
        }
        else
        {
            PrintHeader();
            foreach (int n in sizes)
            {
                List<RowResult> results = [];
                for (int run = 1; run <= runs; run++)
                {
                    foreach (string system in systems)
                    {
                        await using Side side = system == "rumor" ? new RumorSide(rumor) : new SerfSide(serfPath);
                        failures += await RowsAsync(side, n, run, runs, results, async () => [await MeasureAsync(side, n, timeout).ConfigureAwait(false)]).ConfigureAwait(false);
                    }
                }

                PrintMedians(results, runs);
            }
        }

        Console.WriteLine($"# load after: {File.ReadAllText("/proc/loadavg").Trim()}");
        return failures == 0 ? 0 : 1;
    }

    private static void PrintHeader()
    {
        Console.WriteLine("| N | system | start-up, agent 1 alone (s) | start-up p50 / max, N−1 at once (s) | convergence (s) | event p50 / all (s) | first suspicion (s) | detection first / all (s) | false suspicions | RSS per agent, mean / max (MiB) | idle CPU per agent (%) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
    }

    /// <summary>
    /// Prints the measured rows (named with the run when there are several) and keeps them in
    /// <paramref name="results"/>, or prints one failed row (keeping the agents' logs); 1 when it failed.
    /// </summary>
    private static async Task<int> RowsAsync(Side side, int n, int run, int runs, List<RowResult> results, Func<Task<RowResult[]>> measure)
    {
        string suffix = runs > 1 ? $", run {run}" : "";
        try
        {
            foreach (RowResult row in await measure().ConfigureAwait(false))
            {
                Console.WriteLine(row.Text(suffix));
                results.Add(row);
            }

            return 0;
        }
        catch (Exception e) when (IsAgentFailure(e))
        {
            return FailedRow(side, n, suffix, e);
        }
    }

    /// <summary>What a cluster of agent processes can fail with: a wait that timed out, an agent that did not start or answer.</summary>
    private static bool IsAgentFailure(Exception e) =>
        e is TimeoutException or InvalidOperationException or IOException or System.ComponentModel.Win32Exception or HttpRequestException;

    /// <summary>Prints one failed row for <paramref name="side"/> and keeps its agents' logs; returns 1 (one failure).</summary>
    private static int FailedRow(Side side, int n, string suffix, Exception e)
    {
        Console.WriteLine($"| {n} | {side.Name}{suffix} | failed: {e.Message} (agent logs: {side.Directory}) |");
        side.KeepLogs = true;
        return 1;
    }

    /// <summary>
    /// With several runs, one row per system of the medians over its runs that completed (each column
    /// on its own, so a row of medians need not be any single run's row).
    /// </summary>
    private static void PrintMedians(List<RowResult> results, int runs)
    {
        if (runs < 2)
        {
            return;
        }

        foreach (IGrouping<string, RowResult> system in results.GroupBy(r => r.Name))
        {
            RowResult[] rows = [.. system];
            double M(Func<RowResult, double> pick) => Median([.. rows.Select(pick)]);
            double[] suspicions = [.. rows.Where(r => r.FirstSuspicion is not null).Select(r => r.FirstSuspicion!.Value)];
            string suspicion = rows[0].ShowsSuspects ? (suspicions.Length > 0 ? F(Median(suspicions)) : "none seen") : "n/a (not in its API)";
            string alone = rows.All(r => r.Alone is not null) ? F(M(r => r.Alone!.Value)) : "n/a";
            Console.WriteLine($"| {rows[0].N} | **{system.Key}, median of {rows.Length} runs** | {alone} | {F(M(r => r.StartupP50))} / {F(M(r => r.StartupMax))} | {F(M(r => r.Convergence))} | {F(M(r => r.EventP50))} / {F(M(r => r.EventAll))} | {suspicion} | {F(M(r => r.DetectionFirst))} / {F(M(r => r.DetectionAll))} | {rows.Sum(r => r.FalseSuspicions)} (sum) | {F(M(r => r.RssMean), 1)} / {F(M(r => r.RssMax), 1)} | {F(M(r => r.CpuPercent), 2)} |");
        }
    }

    private static string DefaultRumor()
    {
        DirectoryInfo? dir = new(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Rumor.slnx")))
        {
            dir = dir.Parent;
        }

        string root = dir?.FullName ?? Directory.GetCurrentDirectory();
        string aot = Path.Combine(root, "artifacts", "rumor-linux-x64", "rumor");
        return File.Exists(aot) ? aot : Path.Combine(root, "src", "Rumor.Cli", "bin", "Release", "net10.0", "rumor.dll");
    }

    private static async Task<RowResult> MeasureAsync(Side side, int n, TimeSpan timeout)
    {
        int[] all = [.. Enumerable.Range(1, n)];
        Started started = await StartAsync(side, n, timeout).ConfigureAwait(false);
        Idle idle = await IdleAsync(side, all).ConfigureAwait(false);
        Probe probe = await ProbeAsync(side, all, origin: 1, victim: n, killed: [], timeout).ConfigureAwait(false);
        return Row(n, side.Name, started.Alone, all, started, idle, probe, side.ShowsSuspects);
    }

    /// <summary>
    /// A mixed cluster of 2M agents: agents 1..M Serf's, M+1..2M <c>rumor agent --protocol serf</c>,
    /// one cluster. Two rows, one per kind: that kind's start-up, convergence (every agent of the kind
    /// lists 2M alive), RSS and idle CPU; an event sent from the kind's first agent (delivery on every
    /// agent of both kinds); its last agent killed (every other live agent lists it failed), the
    /// Serf agent first and the Rumor agent <see cref="SettleBetweenKills"/> after its detection.
    /// </summary>
    private static async Task<RowResult[]> MeasureMixedAsync(MixedSide side, int m, TimeSpan timeout)
    {
        int n = 2 * m;
        int[] all = [.. Enumerable.Range(1, n)];
        int[] serfs = [.. Enumerable.Range(1, m)];
        int[] rumors = [.. Enumerable.Range(m + 1, m)];
        Started started = await StartAsync(side, n, timeout).ConfigureAwait(false);
        Idle idle = await IdleAsync(side, all).ConfigureAwait(false);
        Probe fromSerf = await ProbeAsync(side, all, origin: 1, victim: m, killed: [], timeout).ConfigureAwait(false);
        await Task.Delay(SettleBetweenKills).ConfigureAwait(false);
        Probe fromRumor = await ProbeAsync(side, all, origin: m + 1, victim: n, killed: [m], timeout).ConfigureAwait(false);
        return
        [
            Row(n, $"mixed {m}+{m}: Serf agents", started.Alone, serfs, started, idle, fromSerf, showsSuspects: true),
            Row(n, $"mixed {m}+{m}: Rumor agents", null, rumors, started, idle, fromRumor, showsSuspects: true),
        ];
    }

    /// <summary>A convergence slower than this keeps the agents' logs (and says where).</summary>
    private const double SlowConvergenceSeconds = 5;

    /// <summary>Agent 1 alone (launch → API), then agents 2..N at once: start-up per agent, and convergence (every agent lists N alive).</summary>
    private static async Task<Started> StartAsync(Side side, int n, TimeSpan timeout)
    {
        side.Launch(1, join: false);
        double alone = (await WaitAsync(side, [1], side.HealthyAsync, timeout, "agent 1's API").ConfigureAwait(false))[1];

        int[] rest = [.. Enumerable.Range(2, n - 1)];
        Stopwatch launch = Stopwatch.StartNew();
        foreach (int k in rest)
        {
            side.Launch(k, join: true);
        }

        int[] all = [.. Enumerable.Range(1, n)];
        Task<Dictionary<int, double>> startups = WaitAsync(side, rest, side.HealthyAsync, timeout, "the agents' APIs", launch);
        Dictionary<int, double> converged = await WaitAsync(side, all, async k => await side.MembersAsync(k).ConfigureAwait(false) is { } m && m.Count(e => e.Value == "alive") >= n, timeout, "every agent to list N alive", launch).ConfigureAwait(false);
        double last = converged.Values.Max();
        if (last > SlowConvergenceSeconds)
        {
            // A tail worth explaining (an agent that joined seconds late): keep the logs to read why.
            side.KeepLogs = true;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# slow convergence: {last:0.00} s, last agents {string.Join(", ", converged.OrderByDescending(c => c.Value).Take(3).Select(c => $"{side.NodeName(c.Key)} at {c.Value:0.00} s"))}; agent logs kept in {side.Directory}"));
        }

        return new Started(alone, await startups.ConfigureAwait(false), converged);
    }

    /// <summary>Idle: 3 s settle, then each agent's CPU over 10 s and its resident memory.</summary>
    private static async Task<Idle> IdleAsync(Side side, int[] all)
    {
        await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        Dictionary<int, long> cpu0 = all.ToDictionary(k => k, side.CpuTicks);
        Stopwatch idle = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        Dictionary<int, long> cpu1 = all.ToDictionary(k => k, side.CpuTicks);
        double idleSeconds = idle.Elapsed.TotalSeconds;

        // What the resident set is made of (anonymous: heap, stacks, the rehydrated data; file: the
        // executable's pages), so a change in RSS can be told apart from a change in the binary.
        Dictionary<int, (long Anon, long File)> parts = all.ToDictionary(k => k, k => (side.StatusKiB(k, "RssAnon:"), side.StatusKiB(k, "RssFile:")));
        int largest = all.MaxBy(k => parts[k].Anon + parts[k].File);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# {side.Name}, N = {all.Length}: RssAnon mean {parts.Values.Average(p => p.Anon) / 1024.0:0.0} MiB, RssFile mean {parts.Values.Average(p => p.File) / 1024.0:0.0} MiB; largest {side.NodeName(largest)} {parts[largest].Anon / 1024.0:0.0} + {parts[largest].File / 1024.0:0.0} MiB"));
        return new Idle(
            all.ToDictionary(k => k, k => side.RssKiB(k) / 1024.0),
            all.ToDictionary(k => k, k => (cpu1[k] - cpu0[k]) / 100.0 / idleSeconds * 100));
    }

    /// <summary>
    /// An event sent on <paramref name="origin"/>, stamped by the handler on every live agent (the wall
    /// clock, as the script's date); then SIGKILL of <paramref name="victim"/>: every other live agent
    /// lists it failed; first suspicion; false suspicions (a member other than the victims seen non-alive).
    /// </summary>
    private static async Task<Probe> ProbeAsync(Side side, int[] all, int origin, int victim, int[] killed, TimeSpan timeout)
    {
        int[] live = [.. all.Where(k => !killed.Contains(k))];
        double sentAt = UnixSeconds();
        await side.SendEventAsync(origin, "bench").ConfigureAwait(false);
        _ = await WaitAsync(side, live, k => Task.FromResult(side.DeliveredAt(k) is { } t && t >= sentAt - 1), timeout, $"the event from {side.NodeName(origin)} on every agent").ConfigureAwait(false);
        double[] eventTimes = [.. live.Select(k => Math.Max(0, side.DeliveredAt(k)!.Value - sentAt))];
        string[] late = [.. live.Select((k, i) => (k, i)).Where(a => eventTimes[a.i] > SlowDelivery.TotalSeconds).Select(a => $"{side.NodeName(a.k)} after {F(eventTimes[a.i])} s")];
        if (late.Length > 0)
        {
            side.KeepLogs = true;
            Console.WriteLine($"# slow event from {side.NodeName(origin)}: {string.Join(", ", late)}; agent logs kept in {side.Directory}");
        }

        Detection detection = await DetectAsync(side, live, victim, killed, timeout).ConfigureAwait(false);
        return new Probe(eventTimes, detection.FirstSuspicion, detection.Detected, detection.FalseSuspicions);
    }

    /// <summary>
    /// SIGKILL of <paramref name="victim"/>, then every other live agent (of <paramref name="live"/>)
    /// polled until it lists the victim failed: when each did, the first suspicion seen (agents that
    /// show suspects), and false suspicions (a member other than the killed ones seen non-alive).
    /// </summary>
    private static async Task<Detection> DetectAsync(Side side, int[] live, int victim, int[] killed, TimeSpan timeout)
    {
        string victimName = side.NodeName(victim);
        HashSet<string> gone = [victimName, .. killed.Select(side.NodeName)];
        int[] observers = [.. live.Where(k => k != victim)];
        Dictionary<int, double> suspected = [];
        Lock seen = new();
        HashSet<(int Observer, string Member)> falseSuspicions = [];
        // Lifeguard's local health score of each observer just before the kill: a score above 0
        // stretches that agent's probe interval and timeout, so a late first suspicion can be told
        // apart from a slow probe order.
        int?[] scores = await Task.WhenAll(observers.Select(async k =>
        {
            try
            {
                return await side.HealthScoreAsync(k).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
            {
                return null;
            }
        })).ConfigureAwait(false);
        Stopwatch detect = Stopwatch.StartNew();
        DateTimeOffset killedAt = DateTimeOffset.UtcNow;
        side.Kill(victim);
        Dictionary<int, double> detected = await WaitAsync(
            side,
            observers,
            async k =>
            {
                if (await side.MembersAsync(k).ConfigureAwait(false) is not { } m)
                {
                    return false;
                }

                string victimState = m.GetValueOrDefault(victimName, "alive");
                lock (seen)
                {
                    foreach ((string member, string state) in m)
                    {
                        if (!gone.Contains(member) && state != "alive")
                        {
                            falseSuspicions.Add((k, member));
                        }
                    }

                    if (victimState == "suspect")
                    {
                        suspected.TryAdd(k, detect.Elapsed.TotalSeconds);
                    }
                }

                return victimState == "failed";
            },
            timeout,
            $"every agent to list the killed {victimName} failed",
            detect).ConfigureAwait(false);
        int[] known = [.. scores.OfType<int>()];
        if (known.Length > 0)
        {
            string first = suspected.Count > 0 ? F(suspected.Values.Min()) : "none seen";
            Console.WriteLine($"# {side.Name}, kill of {victimName}: first suspicion {first} s; local health scores at the kill: max {known.Max()}, above 0 on {known.Count(x => x > 0)} of {known.Length} agents");

            // Who probed the victim when: a late first suspicion with no probe in between is the
            // probe order; with probes, it is what followed them.
            DateTimeOffset[]?[] probes = await Task.WhenAll(observers.Select(async k =>
            {
                try
                {
                    return await side.ProbesOfAsync(k, victimName).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
                {
                    return null;
                }
            })).ConfigureAwait(false);
            double[] after = [.. probes.OfType<DateTimeOffset[]>().SelectMany(p => p).Select(t => (t - killedAt).TotalSeconds).Where(t => t >= 0).Order()];
            int before = probes.OfType<DateTimeOffset[]>().Sum(p => p.Count(t => t < killedAt && t >= killedAt.AddSeconds(-10)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# {side.Name}, probes of {victimName}: {before} in the 10 s before the kill; after it, at {string.Join(", ", after.Take(6).Select(t => t.ToString("0.00", CultureInfo.InvariantCulture)))} s"));
        }

        return new Detection(suspected.Count > 0 ? suspected.Values.Min() : null, detected, falseSuspicions.Count);
    }

    /// <summary>
    /// <paramref name="kills"/> agents of a cluster of 2M killed one after another (the kinds take
    /// turns, Serf's first: agents M, 2M, M−1, 2M−1, …; an all-Serf cluster kills the same numbers),
    /// each <see cref="SettleBetweenKills"/> after the last detection: a row per kill, then per kind
    /// the median and mean of the first suspicion and of detection by all. One run of the usual rows
    /// kills one agent of each kind, too few to tell a difference between kinds from the spread.
    /// </summary>
    private static async Task<int> KillSeriesAsync(Side side, int m, int kills, int run, TimeSpan timeout)
    {
        int n = 2 * m;
        int[] all = [.. Enumerable.Range(1, n)];
        List<int> killed = [];
        List<(string Kind, Detection Detection)> results = [];
        try
        {
            _ = await StartAsync(side, n, timeout).ConfigureAwait(false);
            await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
            for (int i = 0; i < kills; i++)
            {
                int victim = i % 2 == 0 ? m - (i / 2) : n - (i / 2);
                string kind = side is MixedSide ? (victim <= m ? "Serf agent" : "Rumor agent") : (victim <= m ? "agent ≤ M" : "agent > M");
                int[] live = [.. all.Where(k => !killed.Contains(k))];
                Detection detection = await DetectAsync(side, live, victim, [.. killed], timeout).ConfigureAwait(false);
                killed.Add(victim);
                results.Add((kind, detection));
                string suspicion = detection.FirstSuspicion is { } first ? F(first) : side.ShowsSuspects ? "none seen" : "n/a";
                Console.WriteLine($"| {n} | {side.Name}, run {run}, kill {i + 1} | {kind} {side.NodeName(victim)} | {suspicion} | {F(detection.Detected.Values.Min())} / {F(detection.Detected.Values.Max())} | {detection.FalseSuspicions} |");
                await Task.Delay(SettleBetweenKills).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (IsAgentFailure(e))
        {
            return FailedRow(side, n, $", run {run}", e);
        }

        foreach (IGrouping<string, (string Kind, Detection Detection)> kind in results.GroupBy(r => r.Kind))
        {
            double[] firsts = [.. kind.Where(r => r.Detection.FirstSuspicion is not null).Select(r => r.Detection.FirstSuspicion!.Value)];
            double[] alls = [.. kind.Select(r => r.Detection.Detected.Values.Max())];
            string suspicion = firsts.Length > 0 ? $"{F(Median(firsts))} / {F(firsts.Average())}" : "n/a";
            Console.WriteLine($"| {n} | **{side.Name}, run {run}: {kind.Key}, {alls.Length} kills, median / mean** | | {suspicion} | all: {F(Median(alls))} / {F(alls.Average())} | {kind.Sum(r => r.Detection.FalseSuspicions)} (sum) |");
        }

        return 0;
    }


    /// <summary>One table row: start-up, convergence, RSS and CPU over <paramref name="agents"/>; the probe's event and detection.</summary>
    private static RowResult Row(int n, string name, double? alone, int[] agents, Started started, Idle idle, Probe probe, bool showsSuspects)
    {
        double[] startups = [.. agents.Where(started.Startups.ContainsKey).Select(k => started.Startups[k])];
        double[] rss = [.. agents.Select(k => idle.RssMiB[k])];
        return new RowResult(
            n,
            name,
            alone,
            startups.Length > 0 ? Percentile(startups, 0.5) : 0,
            startups.Length > 0 ? startups.Max() : 0,
            agents.Max(k => started.Converged[k]),
            Percentile(probe.EventTimes, 0.5),
            probe.EventTimes.Max(),
            showsSuspects,
            probe.FirstSuspicion,
            probe.Detected.Values.Min(),
            probe.Detected.Values.Max(),
            probe.FalseSuspicions,
            rss.Average(),
            rss.Max(),
            agents.Average(k => idle.CpuPercent[k]));
    }

    /// <summary>
    /// Polls <paramref name="done"/> for every agent in <paramref name="agents"/> (all at once each
    /// round, every <see cref="Poll"/>) until each is done; the seconds on <paramref name="clock"/>
    /// when each was first seen done. Throws after <paramref name="timeout"/>.
    /// </summary>
    private static async Task<Dictionary<int, double>> WaitAsync(Side side, int[] agents, Func<int, Task<bool>> done, TimeSpan timeout, string what, Stopwatch? clock = null)
    {
        clock ??= Stopwatch.StartNew();
        Dictionary<int, double> at = [];
        while (at.Count < agents.Length)
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"waited {timeout.TotalSeconds} s for {what}: {at.Count} of {agents.Length} done");
            }

            int[] pending = [.. agents.Where(k => !at.ContainsKey(k))];
            bool[] results = await Task.WhenAll(pending.Select(async k =>
            {
                try
                {
                    return await done(k).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or SocketException or HttpRequestException or TaskCanceledException or JsonException or InvalidDataException)
                {
                    side.Forget(k);
                    return false;
                }
            })).ConfigureAwait(false);
            double now = clock.Elapsed.TotalSeconds;
            for (int i = 0; i < pending.Length; i++)
            {
                if (results[i])
                {
                    at[pending[i]] = now;
                }
            }

            if (at.Count < agents.Length)
            {
                await Task.Delay(Poll).ConfigureAwait(false);
            }
        }

        return at;
    }

    /// <summary>The middle value, or the mean of the two middle values of an even count.</summary>
    private static double Median(double[] values)
    {
        double[] sorted = [.. values.Order()];
        int half = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2;
    }

    private static double Percentile(double[] values, double q)
    {
        double[] sorted = [.. values.Order()];
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Round(q * (sorted.Length - 1)))];
    }

    private static string F(double value, int decimals = 2) => value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static double UnixSeconds() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>One system's agents: how to launch one, ask its API, send an event; the processes and their files.</summary>
    private abstract class Side : IAsyncDisposable
    {
        private readonly Dictionary<int, Process> _processes = [];
        private readonly bool _ownsDirectory;

        /// <param name="name">The system's name in the table.</param>
        /// <param name="directory">Another side's directory to share (its agents' logs, handler and stamps); null: a new one, deleted on dispose.</param>
        protected Side(string name, string? directory = null)
        {
            Name = name;
            _ownsDirectory = directory is null;
            Directory = directory ?? System.IO.Directory.CreateTempSubdirectory($"rumor-bench-{name}-").FullName;
            HandlerScript = Path.Combine(Directory, "stamp.sh");

            // The same user-event handler for both: the delivery time, in a file named after the agent.
            File.WriteAllText(HandlerScript, $"#!/bin/sh\ncat > /dev/null\ndate +%s.%N > \"{Directory}/$RUMOR_SELF_NAME$SERF_SELF_NAME.event\"\n");
        }

        public string Name { get; }

        public string Directory { get; }

        public bool KeepLogs { get; set; }

        public virtual bool ShowsSuspects => false;

        protected string HandlerScript { get; }

        public abstract string NodeName(int k);

        public void Launch(int k, bool join)
        {
            (string file, List<string> args) = Command(k, join);
            ProcessStartInfo start = new("/bin/sh") { UseShellExecute = false };
            foreach (string variable in start.Environment.Keys.Where(v => v.StartsWith("RUMOR_", StringComparison.Ordinal) || v.StartsWith("SERF_", StringComparison.Ordinal)).ToList())
            {
                start.Environment.Remove(variable);
            }

            // exec: the process id is the agent's; its output goes to a file, not through a pipe to us.
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("exec \"$0\" \"$@\" > \"$BENCH_LOG\" 2>&1");
            start.ArgumentList.Add(file);
            foreach (string arg in args)
            {
                start.ArgumentList.Add(arg);
            }

            start.Environment["BENCH_LOG"] = Path.Combine(Directory, NodeName(k) + ".log");
            _processes[k] = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        }

        public void Kill(int k) => _processes[k].Kill();

        public long CpuTicks(int k)
        {
            string stat = File.ReadAllText($"/proc/{_processes[k].Id}/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }

        public long RssKiB(int k) => StatusKiB(k, "VmRSS:");

        /// <summary>A kB field of /proc/PID/status (VmRSS:, RssAnon:, RssFile:).</summary>
        public long StatusKiB(int k, string field)
        {
            string line = File.ReadLines($"/proc/{_processes[k].Id}/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
            return long.Parse(line[field.Length..].Replace("kB", string.Empty, StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture);
        }

        public double? DeliveredAt(int k)
        {
            string file = Path.Combine(Directory, NodeName(k) + ".event");
            return File.Exists(file) && double.TryParse(File.ReadAllText(file).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double t) ? t : null;
        }

        public abstract Task<bool> HealthyAsync(int k);

        /// <summary>Member name → alive, suspect, failed or left, as agent k lists them; null when it does not answer.</summary>
        public abstract Task<Dictionary<string, string>?> MembersAsync(int k);

        public abstract Task SendEventAsync(int k, string name);

        /// <summary>Agent k's local health score (Lifeguard: 0 is healthy; it stretches probe intervals and timeouts), when its API shows one.</summary>
        public virtual Task<int?> HealthScoreAsync(int k) => Task.FromResult<int?>(null);

        /// <summary>When agent k's recent probes of <paramref name="member"/> started (wall clock), when its API shows them.</summary>
        public virtual Task<DateTimeOffset[]?> ProbesOfAsync(int k, string member) => Task.FromResult<DateTimeOffset[]?>(null);

        /// <summary>Drops a cached connection to agent k after an error.</summary>
        public virtual void Forget(int k)
        {
        }

        public virtual async ValueTask DisposeAsync()
        {
            foreach (Process process in _processes.Values)
            {
                try
                {
                    process.Kill();
                    using CancellationTokenSource cancel = new(TimeSpan.FromSeconds(10));
                    await process.WaitForExitAsync(cancel.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
                {
                    // Already gone.
                }

                process.Dispose();
            }

            if (_ownsDirectory && !KeepLogs)
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
        }

        /// <summary>The executable and arguments that launch agent k (joining agent 1 when <paramref name="join"/>).</summary>
        public abstract (string File, List<string> Args) Command(int k, bool join);
    }

    /// <summary>
    /// Rumor's agents, asked through their HTTP API. With <paramref name="serfProtocol"/>, <c>rumor agent
    /// --protocol serf</c> on Serf's gossip port, joining agent 1 there (a Serf agent in a mixed cluster).
    /// </summary>
    private sealed class RumorSide(string path, bool serfProtocol = false, string? directory = null) : Side(serfProtocol ? "rumor-serf" : "rumor", directory)
    {
        private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

        public override bool ShowsSuspects => true;

        public override string NodeName(int k) => $"rumor-{k}";

        public override async Task<bool> HealthyAsync(int k)
        {
            using HttpResponseMessage response = await _http.GetAsync(Url(k, "/v1/health")).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }

        public override async Task<Dictionary<string, string>?> MembersAsync(int k)
        {
            using HttpResponseMessage response = await _http.GetAsync(Url(k, "/v1/members")).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            using JsonDocument document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false));
            return document.RootElement.EnumerateArray().ToDictionary(
                m => m.GetProperty("name").GetString()!,
                m => m.GetProperty("state").GetString() switch { "dead" => "failed", { } s => s, null => "unknown" },
                StringComparer.Ordinal);
        }

        public override async Task<int?> HealthScoreAsync(int k)
        {
            using HttpResponseMessage response = await _http.GetAsync(Url(k, "/v1/status")).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            using JsonDocument document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false));
            return document.RootElement.TryGetProperty("localHealth", out JsonElement health) && health.TryGetProperty("score", out JsonElement score) ? score.GetInt32() : null;
        }

        public override async Task<DateTimeOffset[]?> ProbesOfAsync(int k, string member)
        {
            using HttpResponseMessage response = await _http.GetAsync(Url(k, "/v1/members/" + member)).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            using JsonDocument document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false));
            return document.RootElement.TryGetProperty("probes", out JsonElement probes)
                ? [.. probes.EnumerateArray().Select(p => p.GetProperty("at").GetDateTimeOffset())]
                : null;
        }

        public override async Task SendEventAsync(int k, string name)
        {
            using StringContent body = new($"{{\"name\":\"{name}\",\"payload\":\"x\"}}", Encoding.UTF8, "application/json");
            using HttpResponseMessage response = await _http.PostAsync(Url(k, "/v1/events"), body).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync().ConfigureAwait(false);
            _http.Dispose();
        }

        public override (string File, List<string> Args) Command(int k, bool join)
        {
            List<string> args = path.EndsWith(".dll", StringComparison.Ordinal) ? [path] : [];
            int gossipPort = serfProtocol ? SerfGossipPort : RumorGossipPort;
            args.AddRange(["agent", "--name", NodeName(k), "--bind", $"127.0.0.{k}:{gossipPort}", "--http", $"127.0.0.{k}:{RumorHttpPort}", "--preset", "lan", "--log-level", "warning", "--event-handler", $"user=sh {HandlerScript}"]);
            if (serfProtocol)
            {
                args.AddRange(["--protocol", "serf"]);
            }

            if (join)
            {
                args.AddRange(["--join", $"127.0.0.1:{gossipPort}"]);
            }

            return (path.EndsWith(".dll", StringComparison.Ordinal) ? "dotnet" : path, args);
        }

        private static Uri Url(int k, string path) => new($"http://127.0.0.{k}:{RumorHttpPort}{path}");
    }

    /// <summary>Serf's agents, asked through their RPC (msgpack over TCP: handshake, members, event) on kept connections.</summary>
    private sealed class SerfSide(string path, string? directory = null) : Side("serf", directory)
    {
        private readonly Dictionary<int, SerfRpc> _rpc = [];
        private readonly Lock _lock = new();

        public override string NodeName(int k) => $"serf-{k}";

        public override async Task<bool> HealthyAsync(int k)
        {
            using SerfRpc rpc = await SerfRpc.ConnectAsync(k).ConfigureAwait(false);
            return true;
        }

        public override async Task<Dictionary<string, string>?> MembersAsync(int k)
        {
            SerfRpc rpc = await RpcAsync(k).ConfigureAwait(false);
            GoMap body = await rpc.CallAsync("members", null, expectBody: true).ConfigureAwait(false);
            Dictionary<string, string> members = new(StringComparer.Ordinal);
            foreach (object? item in body.List("Members"))
            {
                if (item is GoMap m)
                {
                    members[m.String("Name")] = m.String("Status");
                }
            }

            return members;
        }

        public override async Task SendEventAsync(int k, string name)
        {
            SerfRpc rpc = await RpcAsync(k).ConfigureAwait(false);
            await rpc.CallAsync("event", (ref MessagePackWriter w) =>
            {
                w.WriteMapHeader(3);
                GoMsgpack.WriteString(ref w, "Name");
                GoMsgpack.WriteString(ref w, name);
                GoMsgpack.WriteString(ref w, "Payload");
                GoMsgpack.WriteBytes(ref w, "x"u8.ToArray());
                GoMsgpack.WriteString(ref w, "Coalesce");
                w.Write(false);
            }, expectBody: false).ConfigureAwait(false);
        }

        public override void Forget(int k)
        {
            lock (_lock)
            {
                if (_rpc.Remove(k, out SerfRpc? rpc))
                {
                    rpc.Dispose();
                }
            }
        }

        public override async ValueTask DisposeAsync()
        {
            lock (_lock)
            {
                foreach (SerfRpc rpc in _rpc.Values)
                {
                    rpc.Dispose();
                }

                _rpc.Clear();
            }

            await base.DisposeAsync().ConfigureAwait(false);
        }

        public override (string File, List<string> Args) Command(int k, bool join)
        {
            List<string> args = ["agent", "-profile=lan", $"-node={NodeName(k)}", $"-bind=127.0.0.{k}:{SerfGossipPort}", $"-rpc-addr=127.0.0.{k}:{SerfRpcPort}", "-log-level=warn", $"-event-handler=user=sh {HandlerScript}"];
            if (join)
            {
                args.Add($"-join=127.0.0.1:{SerfGossipPort}");
            }

            return (path, args);
        }

        private async Task<SerfRpc> RpcAsync(int k)
        {
            lock (_lock)
            {
                if (_rpc.TryGetValue(k, out SerfRpc? cached))
                {
                    return cached;
                }
            }

            SerfRpc rpc = await SerfRpc.ConnectAsync(k).ConfigureAwait(false);
            lock (_lock)
            {
                _rpc[k] = rpc;
            }

            return rpc;
        }
    }

    /// <summary>
    /// One cluster of both kinds: agents 1..M are <see cref="SerfSide"/>'s, the rest
    /// <see cref="RumorSide"/>'s in Serf mode, all joining agent 1 on Serf's gossip port. The processes
    /// are this side's; commands and API calls go to the agent's kind, which shares this directory.
    /// </summary>
    private sealed class MixedSide : Side
    {
        private readonly int _m;
        private readonly SerfSide _serf;
        private readonly RumorSide _rumor;

        public MixedSide(string rumorPath, string serfPath, int m)
            : base("mixed")
        {
            _m = m;
            _serf = new SerfSide(serfPath, Directory);
            _rumor = new RumorSide(rumorPath, serfProtocol: true, Directory);
        }

        public override bool ShowsSuspects => true;

        public override string NodeName(int k) => Of(k).NodeName(k);

        public override (string File, List<string> Args) Command(int k, bool join) => Of(k).Command(k, join);

        public override Task<bool> HealthyAsync(int k) => Of(k).HealthyAsync(k);

        public override Task<Dictionary<string, string>?> MembersAsync(int k) => Of(k).MembersAsync(k);

        public override Task SendEventAsync(int k, string name) => Of(k).SendEventAsync(k, name);

        public override void Forget(int k) => Of(k).Forget(k);

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync().ConfigureAwait(false);
            await _serf.DisposeAsync().ConfigureAwait(false);
            await _rumor.DisposeAsync().ConfigureAwait(false);
        }

        private Side Of(int k) => k <= _m ? _serf : _rumor;
    }

    /// <summary>
    /// One system's figures from one run (seconds, MiB, % of a core): start-up of agent 1 alone (none
    /// for a mixed cluster's Rumor kind: agent 1 is Serf's) and p50 / max of agents 2..N, convergence,
    /// event delivery p50 / last, first suspicion, detection first / last, false suspicions, RSS mean /
    /// max, idle CPU mean.
    /// </summary>
    private sealed record RowResult(int N, string Name, double? Alone, double StartupP50, double StartupMax, double Convergence, double EventP50, double EventAll, bool ShowsSuspects, double? FirstSuspicion, double DetectionFirst, double DetectionAll, int FalseSuspicions, double RssMean, double RssMax, double CpuPercent)
    {
        public string Text(string suffix)
        {
            string alone = Alone is { } a ? F(a) : "n/a (agent 1 is Serf)";
            string startup = StartupMax > 0 ? $"{F(StartupP50)} / {F(StartupMax)}" : "n/a";
            string firstSuspicion = ShowsSuspects ? (FirstSuspicion is { } s ? F(s) : "none seen") : "n/a (not in its API)";
            return $"| {N} | {Name}{suffix} | {alone} | {startup} | {F(Convergence)} | {F(EventP50)} / {F(EventAll)} | {firstSuspicion} | {F(DetectionFirst)} / {F(DetectionAll)} | {FalseSuspicions} | {F(RssMean, 1)} / {F(RssMax, 1)} | {F(CpuPercent, 2)} |";
        }
    }

    /// <summary>Start-up of agent 1 alone; per agent of 2..N, the seconds from their launch to its API and to its listing N alive.</summary>
    private sealed record Started(double Alone, Dictionary<int, double> Startups, Dictionary<int, double> Converged);

    /// <summary>Per agent, its resident memory and its CPU while idle.</summary>
    private sealed record Idle(Dictionary<int, double> RssMiB, Dictionary<int, double> CpuPercent);

    /// <summary>Event delivery per live agent (s after sending); first suspicion and detection per observer (s after the kill); false suspicions.</summary>
    private sealed record Probe(double[] EventTimes, double? FirstSuspicion, Dictionary<int, double> Detected, int FalseSuspicions);

    private sealed record Detection(double? FirstSuspicion, Dictionary<int, double> Detected, int FalseSuspicions);

    /// <summary>One connection to a Serf agent's RPC: msgpack request header (+ body), response header (+ body).</summary>
    private sealed class SerfRpc : IDisposable
    {
        private readonly TcpClient _client;
        private readonly NetworkStream _stream;
        private readonly byte[] _buffer = new byte[1 << 20];
        private int _length;
        private ulong _seq;

        private SerfRpc(TcpClient client)
        {
            _client = client;
            _stream = client.GetStream();
        }

        public static async Task<SerfRpc> ConnectAsync(int k)
        {
            TcpClient client = new();
            try
            {
                using CancellationTokenSource cancel = new(TimeSpan.FromSeconds(5));
                await client.ConnectAsync($"127.0.0.{k}", SerfRpcPort, cancel.Token).ConfigureAwait(false);
                SerfRpc rpc = new(client);
                await rpc.CallAsync("handshake", (ref MessagePackWriter w) =>
                {
                    w.WriteMapHeader(1);
                    GoMsgpack.WriteString(ref w, "Version");
                    w.Write(1);
                }, expectBody: false).ConfigureAwait(false);
                return rpc;
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }

        public async Task<GoMap> CallAsync(string command, WriteBody? body, bool expectBody)
        {
            ArrayBufferWriter<byte> output = new();
            MessagePackWriter writer = GoMsgpack.CreateWriter(output);
            writer.WriteMapHeader(2);
            GoMsgpack.WriteString(ref writer, "Command");
            GoMsgpack.WriteString(ref writer, command);
            GoMsgpack.WriteString(ref writer, "Seq");
            writer.Write(_seq++);
            body?.Invoke(ref writer);
            writer.Flush();
            using CancellationTokenSource cancel = new(TimeSpan.FromSeconds(5));
            await _stream.WriteAsync(output.WrittenMemory, cancel.Token).ConfigureAwait(false);
            GoMap header = await ReadAsync(cancel.Token).ConfigureAwait(false);
            if (header.String("Error") is { Length: > 0 } error)
            {
                throw new InvalidOperationException($"serf rpc {command}: {error}");
            }

            return expectBody ? await ReadAsync(cancel.Token).ConfigureAwait(false) : GoMap.Empty;
        }

        public void Dispose()
        {
            _stream.Dispose();
            _client.Dispose();
        }

        private async Task<GoMap> ReadAsync(CancellationToken cancel)
        {
            while (true)
            {
                if (_length > 0)
                {
                    if (GoMsgpack.TryDecode(_buffer.AsMemory(0, _length), out object? value, out int consumed, out bool truncated))
                    {
                        Buffer.BlockCopy(_buffer, consumed, _buffer, 0, _length - consumed);
                        _length -= consumed;
                        return value as GoMap ?? throw new InvalidDataException("serf rpc: expected a map");
                    }

                    if (!truncated)
                    {
                        throw new InvalidDataException("serf rpc: malformed msgpack");
                    }
                }

                if (_length == _buffer.Length)
                {
                    throw new InvalidDataException("serf rpc: an answer over 1 MiB");
                }

                int read = await _stream.ReadAsync(_buffer.AsMemory(_length), cancel).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException("serf rpc: connection closed");
                }

                _length += read;
            }
        }
    }

    private delegate void WriteBody(ref MessagePackWriter writer);
}
