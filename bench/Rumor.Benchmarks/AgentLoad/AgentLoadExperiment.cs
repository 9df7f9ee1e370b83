using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Rumor.Benchmarks.AgentLoad;

/// <summary>
/// <c>agent-load</c>: issue 13 item 1 against three real agent processes (<c>rumor agent</c>, LAN
/// preset unless <c>--preset local</c>, on 127.0.13.1-3, the API's rate limit off and StreamSubscribersMax 256 on each so the
/// load reaches the node), the load of <see cref="AgentLoadScenario"/> on the first. Prints the
/// figures and exits 1 when a member was suspected or any call answered 5xx. Usage, after
/// <c>dotnet build -c Release src/Rumor.Cli</c>:
/// <c>dotnet run -c Release --project bench/Rumor.Benchmarks -- agent-load [--rumor src/Rumor.Cli/bin/Release/net10.0/rumor.dll]</c>.
/// </summary>
public static partial class AgentLoadExperiment
{
    public static Command Create()
    {
        Option<string> rumor = new("--rumor")
        {
            Description = "The built rumor.dll (run with dotnet).",
            HelpName = "PATH",
            DefaultValueFactory = _ => Path.Combine("src", "Rumor.Cli", "bin", "Release", "net10.0", "rumor.dll"),
        };
        Option<int> subscribers = BenchOptions.Int("--subscribers", "Silent /v1/stream clients on the target.", 200);
        Option<int> writes = BenchOptions.Int("--writes", "Large writes in the burst.", 400);
        Option<int> calls = BenchOptions.Int("--calls", "Concurrent mixed API calls (reads, small writes, queries).", 1_000);
        Option<int> queries = BenchOptions.Int("--queries", "Concurrent queries of the second phase.", 1_000);
        Option<string> preset = new("--preset")
        {
            Description = "The agents' protocol preset (lan, the agent's default, or local: memberlist's single-host timings, 200 ms probe timeout).",
            HelpName = "lan|local",
            DefaultValueFactory = _ => "lan",
        };
        Option<int> trimSlack = BenchOptions.Int("--memory-trim-slack", "The agents' MemoryTrimSlackBytes (-1: the agent's default; 0 turns the idle trim off).", -1);
        Option<int> observe = BenchOptions.Int("--rss-observe", "Seconds after the silent clients went at which the target's RSS is read once more (0: not).", 40);
        Command command = new("agent-load", "Three agent processes; on one: silent stream subscribers, large writes, concurrent API calls; suspicions, latency, statuses and RSS.")
        {
            rumor, subscribers, writes, calls, queries, preset, trimSlack, observe,
        };
        command.SetAction(parsed => Run(parsed.GetValue(rumor)!, parsed.GetValue(preset)!, parsed.GetValue(trimSlack), new AgentLoadSettings
        {
            RssObserveAfter = TimeSpan.FromSeconds(parsed.GetValue(observe)),
            SilentSubscribers = parsed.GetValue(subscribers),
            LargeWrites = parsed.GetValue(writes),
            ConcurrentCalls = parsed.GetValue(calls),
            ConcurrentQueries = parsed.GetValue(queries),
        }));
        return command;
    }

    private static int Run(string rumorDll, string preset, int trimSlack, AgentLoadSettings settings)
    {
        if (!File.Exists(rumorDll))
        {
            Console.Error.WriteLine($"agent-load: {rumorDll} does not exist; build it first (dotnet build -c Release src/Rumor.Cli) or pass --rumor PATH.");
            return 2;
        }

        DirectoryInfo scratch = Directory.CreateTempSubdirectory("rumor-agent-load-");
        List<Process> processes = [];
        try
        {
            string config = Path.Combine(scratch.FullName, "agent.json");
            // Through the file, not the environment: Start clears RUMOR_* so the caller's shell cannot change the run.
            string trim = trimSlack < 0 ? "" : string.Create(CultureInfo.InvariantCulture, $",\"MemoryTrimSlackBytes\":{trimSlack}");
            File.WriteAllText(config, "{\"HttpRateLimit\":0,\"StreamSubscribersMax\":256" + trim + "}");
            (Process process, LoadAgent agent, string gossip, StringBuilder output) first = Start(rumorDll, preset, scratch, config, "load-a", "127.0.13.1", null);
            processes.Add(first.process);
            List<LoadAgent> others = [];
            foreach ((string name, string address) in new[] { ("load-b", "127.0.13.2"), ("load-c", "127.0.13.3") })
            {
                (Process process, LoadAgent agent, string _, StringBuilder _) = Start(rumorDll, preset, scratch, config, name, address, first.gossip);
                processes.Add(process);
                others.Add(agent);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# agent-load: {settings.SilentSubscribers} silent /v1/stream clients, {settings.LargeWrites} writes of {settings.LargeValueBytes:N0} B values, {settings.ConcurrentCalls:N0} concurrent mixed calls, then {settings.ConcurrentQueries:N0} concurrent queries, on load-a of three agents (--preset {preset})"));
            AgentLoadResult result = AgentLoadScenario.RunAsync(first.agent, others, settings).GetAwaiter().GetResult();
            Console.WriteLine(result.Describe());
            if (result.ServerErrors > 0)
            {
                // What the target logged about them (warnings and errors: the agents run at --log-level warning).
                string[] lines;
                lock (first.output)
                {
                    lines = first.output.ToString().Split('\n');
                }

                Console.WriteLine("load-a's log around the 5xx (first 40 lines of failures):");
                foreach (string line in lines.Where(l => l.Contains("fail", StringComparison.OrdinalIgnoreCase) || l.Contains("Exception", StringComparison.Ordinal) || l.TrimStart().StartsWith("at ", StringComparison.Ordinal)).Take(40))
                {
                    Console.WriteLine("  " + line);
                }
            }

            bool ok = result.Suspicions.Count == 0 && result.NotAliveAtEnd.Count == 0 && result.ServerErrors == 0 && result.TransportFailures == 0;
            Console.WriteLine(ok ? "verdict: no suspicion, no 5xx" : "verdict: FAILED (a suspicion, a 5xx or a call without an answer)");
            return ok ? 0 : 1;
        }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException or TimeoutException)
        {
            // Caught so that the finally below stops the agents (an unhandled exception would skip it).
            Console.Error.WriteLine("agent-load: " + e.Message);
            return 1;
        }
        finally
        {
            foreach (Process process in processes)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(10_000);
                }

                process.Dispose();
            }

            scratch.Delete(recursive: true);
        }
    }

    private static (Process Process, LoadAgent Agent, string Gossip, StringBuilder Output) Start(string rumorDll, string preset, DirectoryInfo scratch, string config, string name, string address, string? join)
    {
        string data = Path.Combine(scratch.FullName, name);
        Directory.CreateDirectory(data);
        ProcessStartInfo start = new(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string variable in start.Environment.Keys.Where(k => k.StartsWith("RUMOR_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(variable);
        }

        string[] args = [rumorDll, "agent", "--name", name, "--bind", address + ":0", "--http", address + ":0", "--preset", preset, "--data-dir", data, "--config", config, "--log-level", "warning"];
        foreach (string arg in join is null ? args : [.. args, "--join", join])
        {
            start.ArgumentList.Add(arg);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        StringBuilder output = new();
        TaskCompletionSource<Match> running = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // Output is drained for the agent's whole life, so it never blocks on a full pipe.
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                running.TrySetException(new InvalidOperationException($"agent {name} ended before it ran:\n{output}"));
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (RunningAt().Match(e.Data) is { Success: true } match)
            {
                running.TrySetResult(match);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Match started = running.Task.WaitAsync(TimeSpan.FromSeconds(90)).GetAwaiter().GetResult();
        return (process, new LoadAgent(name, process.Id, new Uri(started.Groups["http"].Value)), started.Groups["gossip"].Value, output);
    }

    [GeneratedRegex(@"running at (?<gossip>\S+) \(bound .*HTTP API and dashboard at (?<http>http://\S+?);")]
    private static partial Regex RunningAt();
}
