using System.CommandLine;
using System.Globalization;
using Rumor.Simulation;
using Rumor.Simulation.Experiments;

namespace Rumor.Benchmarks;

/// <summary>
/// Failure-detection experiments in virtual time (docs/BENCHMARKS.md, "Failure detection"), each
/// for plain SWIM, Lifeguard alone (stall guard off) and Lifeguard + stall guard (the defaults). Usage:
/// <c>detection loss [--nodes 100] [--duration 10000s] [--loss 0.01,0.05,0.10] [--seed 1]</c>,
/// <c>detection starved [--nodes 100] [--duration 1h] [--probability 0.02] [--crashes 20] [--seed 1]</c>,
/// <c>detection latency [--nodes 100,1000] [--crashes 20] [--seed 1]</c>.
/// </summary>
public static class DetectionExperiment
{
    public static Command Create()
    {
        Option<ulong> seed = BenchOptions.Seed();

        Option<int> lossNodes = BenchOptions.Int("--nodes", "Cluster size.", 100);
        Option<TimeSpan?> lossDuration = BenchOptions.Duration("--duration", "Virtual time per row after a loss-free join (default 10000s).");
        Option<double[]> losses = BenchOptions.Doubles("--loss", "Message loss rates", [0.01, 0.05, 0.10]);
        Command loss = new("loss", "False dead verdicts under random message loss.") { lossNodes, lossDuration, losses, seed };
        loss.SetAction(parsed => Loss(parsed.GetValue(lossNodes), parsed.GetValue(losses)!, (parsed.GetValue(lossDuration) ?? TimeSpan.FromSeconds(10000)).TotalSeconds, parsed.GetValue(seed)));

        Option<int> starvedNodes = BenchOptions.Int("--nodes", "Cluster size.", 100);
        Option<TimeSpan?> starvedDuration = BenchOptions.Duration("--duration", "Virtual time with the starved member, before the crashes (default 1h).");
        Option<double> probability = BenchOptions.Double("--probability", "Probability that an input freezes the starved member.", 0.02);
        Option<int> starvedCrashes = BenchOptions.Int("--crashes", "Crashes of other members afterwards.", 20);
        Command starved = new("starved", "One CPU-starved member: false accusations, and detection of real crashes beside it.") { starvedNodes, starvedDuration, probability, starvedCrashes, seed };
        starved.SetAction(parsed => Starved(parsed.GetValue(starvedNodes), (parsed.GetValue(starvedDuration) ?? TimeSpan.FromHours(1)).TotalSeconds, parsed.GetValue(probability), parsed.GetValue(starvedCrashes), parsed.GetValue(seed)));

        Option<int[]> latencyNodes = BenchOptions.Ints("--nodes", "Cluster sizes", [100, 1000]);
        Option<int> latencyCrashes = BenchOptions.Int("--crashes", "Crashes per row, one at a time.", 20);
        Command latency = new("latency", "Detection latency of real crashes.") { latencyNodes, latencyCrashes, seed };
        latency.SetAction(parsed => Latency(parsed.GetValue(latencyNodes)!, parsed.GetValue(latencyCrashes), parsed.GetValue(seed)));

        return new Command("detection", "Failure-detection experiments, each for plain SWIM, Lifeguard alone, and Lifeguard + stall guard.") { loss, starved, latency };
    }

    private static void Loss(int nodes, double[] losses, double seconds, ulong seed)
    {
        Console.WriteLine($"# False dead verdicts under random loss: {nodes} nodes, {seconds:0} s virtual per row after a loss-free join, LAN preset, seed {seed}");
        Console.WriteLine("| loss | detector | probes | failed probes | suspicions of live members | false dead | per 10^6 probes | refutations | stream-saved probes | wall time |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (double loss in losses)
        {
            foreach (Detector detector in Enum.GetValues<Detector>())
            {
                FalseDeadResult r = FailureDetectionExperiments.FalseDeadUnderLoss(nodes, loss, TimeSpan.FromSeconds(seconds), detector, seed);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {loss:P0} | {FailureDetectionExperiments.Name(detector)} | {r.Probes:N0} | {r.ProbesFailed:N0} | {r.Suspicions:N0} | {r.FalseDead} | {r.FalseDeadPerMillionProbes:0.##} | {r.Refutations:N0} | {r.FallbackAcks:N0} | {r.WallTime.TotalSeconds:0} s |"));
            }
        }
    }

    private static void Starved(int nodes, double seconds, double probability, int crashes, ulong seed)
    {
        InputDelayModel model = new(probability, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        Console.WriteLine($"# One CPU-starved member: {nodes} nodes, each input to node-0002 freezes it with p = {probability} for U(1 s, 5 s); {seconds:0} s virtual, then {crashes} crashes of other members; seed {seed}");
        Console.WriteLine("| detector | freezes (time frozen) | accusations by the starved member | suppressed by its stall guard | suspicions of healthy members (all views) | false dead of healthy members | dead verdicts of the starved member | false positives | crash: first suspicion mean / p50 / p99 | crash: dead everywhere mean / p50 / p99 | missed | wall time |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (Detector detector in Enum.GetValues<Detector>())
        {
            StarvedMemberResult r = FailureDetectionExperiments.StarvedMember(nodes, TimeSpan.FromSeconds(seconds), detector, seed, model, crashes);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {FailureDetectionExperiments.Name(detector)} | {r.Freezes} ({r.FrozenTime.TotalSeconds:0} s) | {r.AccusationsByStarved} | {r.SuppressedByStarved} | {r.SuspicionsOfHealthy} | {r.FalseDeadOfHealthy} | {r.DeadVerdictsOfStarved} | {r.FalsePositives} | {Stats(r.FirstSuspicionSeconds)} | {Stats(r.AllDeadSeconds)} | {r.Missed} | {r.WallTime.TotalSeconds:0} s |"));
        }
    }

    private static void Latency(int[] sizes, int crashes, ulong seed)
    {
        Console.WriteLine($"# Detection latency of real crashes, seconds from the crash; {crashes} crashes per row, one at a time; LAN preset (ProbeInterval 1 s); seed {seed}");
        Console.WriteLine("| N | detector | first suspicion mean | p50 | p99 | dead everywhere mean | p50 | p99 | missed | wall time |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (int n in sizes)
        {
            foreach (Detector detector in Enum.GetValues<Detector>())
            {
                DetectionLatencyResult r = FailureDetectionExperiments.DetectionLatency(n, crashes, detector, seed);
                SpreadStatistics f = r.FirstSuspicionSeconds;
                SpreadStatistics d = r.AllDeadSeconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {n} | {FailureDetectionExperiments.Name(detector)} | {f.Mean:0.00} | {f.P50:0.00} | {f.P99:0.00} | {d.Mean:0.00} | {d.P50:0.00} | {d.P99:0.00} | {r.Missed} | {r.WallTime.TotalSeconds:0} s |"));
            }
        }
    }

    private static string Stats(SpreadStatistics s) => string.Create(CultureInfo.InvariantCulture, $"{s.Mean:0.00} / {s.P50:0.00} / {s.P99:0.00} s");
}
