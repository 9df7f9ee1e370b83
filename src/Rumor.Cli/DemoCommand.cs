using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Rumor.Core;
using Rumor.Core.Membership;
using Rumor.Transport;

namespace Rumor.Cli;

/// <summary>
/// <c>rumor demo</c>: a whole cluster in one process, on loopback, over real UDP and TCP sockets.
/// It starts N nodes, joins them through the first, waits until every node sees N alive members,
/// crashes one (dispose without leave: it just goes silent), waits until every survivor has
/// declared it failed, then stops everything. Each step is bounded; missing a bound exits 1 with
/// every node's view, so the demo doubles as an end-to-end smoke test.
/// </summary>
internal static class DemoCommand
{
    private const int DefaultNodes = 5;
    private const int NodesMax = 32;
    private static readonly TimeSpan StepBound = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>The command for the parser, writing to the writers given.</summary>
    public static Command Create(TextWriter output, TextWriter error)
    {
        Command command = new("demo", "Runs a local cluster on 127.0.0.1 in this process, crashes one node and shows the others detect it.")
        {
            CliOptions.Count("--nodes", "N", $"How many nodes (2 to {NodesMax}; default {DefaultNodes}).", 2, NodesMax, "a node count"),
        };
        command.SetAction((parsed, stop) => RunAsync(parsed.GetValue<int?>("--nodes") ?? DefaultNodes, output, error, stop));
        return command;
    }

    /// <summary>
    /// Fast timings, so the demo takes seconds: Local preset, probing every 500 ms, and Lifeguard's
    /// suspicion stretch turned off so that the suspicion always lasts its minimum.
    /// </summary>
    internal static GossipOptions DemoOptions(string name) => GossipOptions.Local with
    {
        Name = name,
        AdvertiseAddress = NodeAddress.Parse("127.0.0.1:0"),
        ProbeInterval = TimeSpan.FromMilliseconds(500),
        ProbeTimeout = TimeSpan.FromMilliseconds(200),
        GossipInterval = TimeSpan.FromMilliseconds(100),
        SuspicionMultiplier = 4,
        SuspicionMaxTimeoutMultiplier = 1,
        PushPullInterval = TimeSpan.FromSeconds(5),
        StreamTimeout = TimeSpan.FromSeconds(1),
        GossipToTheDeadTime = TimeSpan.FromSeconds(5),
    };

    private static async Task<int> RunAsync(int count, TextWriter output, TextWriter error, CancellationToken stop)
    {
        Timeline timeline = new(output);
        DemoCluster cluster = new(timeline);
        try
        {
            return await RunScenarioAsync(cluster, count, timeline, error, stop).ConfigureAwait(false);
        }
        catch (TransportBindException e)
        {
            await error.WriteLineAsync($"rumor demo: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        finally
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<int> RunScenarioAsync(DemoCluster cluster, int count, Timeline timeline, TextWriter error, CancellationToken stop)
    {
        GossipOptions sample = DemoOptions("sample");
        TimeSpan suspicion = sample.ProbeInterval * (sample.SuspicionMultiplier * Math.Max(1.0, Math.Log10(count)));
        timeline.Header($"Rumor demo: {count} nodes on 127.0.0.1 in one process, over real UDP and TCP sockets.");
        timeline.Header(string.Create(CultureInfo.InvariantCulture, $"Timings (fast, for a demo; the lan preset is 2 to 5 times slower): probe every {sample.ProbeInterval.TotalMilliseconds:0} ms (ack timeout {sample.ProbeTimeout.TotalMilliseconds:0} ms), gossip every {sample.GossipInterval.TotalMilliseconds:0} ms, suspicion {suspicion.TotalSeconds:0.0} s, push-pull every {sample.PushPullInterval.TotalSeconds:0} s."));
        timeline.Header(string.Empty);

        for (int i = 1; i <= count; i++)
        {
            GossipTransport node = await cluster.StartNodeAsync($"node-{i}").ConfigureAwait(false);
            timeline.Write($"{node.Name} started at {node.Address}");
        }

        GossipTransport seed = cluster.Live[0];
        foreach (GossipTransport node in cluster.Live.Skip(1))
        {
            JoinResult result = await node.JoinAsync([seed.Address], stop).ConfigureAwait(false);
            if (!result.Joined)
            {
                await error.WriteLineAsync($"rumor demo: {node.Name} could not join through {seed.Name}: {string.Join("; ", result.Failed.Select(f => f.Reason))}").ConfigureAwait(false);
                return ExitCodes.Failure;
            }
        }

        if (!await cluster.WaitUntilAsync(cluster.Live, view => view.Count(m => m.State == MemberState.Alive) == count, StepBound, stop).ConfigureAwait(false))
        {
            return await FailAsync(cluster, error, $"the cluster did not converge within {StepBound.TotalSeconds:0} s", stop).ConfigureAwait(false);
        }

        timeline.Write($"converged: all {count} nodes see {count} alive members");

        GossipTransport victim = cluster.Live[count >= 3 ? count - 2 : count - 1];
        timeline.Write($"stopping {victim.Name} abruptly (no leave)");
        await cluster.CrashAsync(victim).ConfigureAwait(false);

        if (!await cluster.WaitUntilAsync(cluster.Live, view => view.Any(m => m.Name == victim.Name && m.State == MemberState.Dead), StepBound, stop).ConfigureAwait(false))
        {
            return await FailAsync(cluster, error, $"the survivors did not all declare {victim.Name} failed within {StepBound.TotalSeconds:0} s", stop).ConfigureAwait(false);
        }

        timeline.Write($"detected: all {cluster.Live.Count} live nodes see {victim.Name} as failed");
        await cluster.StopAllAsync().ConfigureAwait(false);
        timeline.Write("stopped all nodes; done");
        return ExitCodes.Ok;
    }

    private static async Task<int> FailAsync(DemoCluster cluster, TextWriter error, string what, CancellationToken stop)
    {
        if (stop.IsCancellationRequested)
        {
            await error.WriteLineAsync("rumor demo: interrupted").ConfigureAwait(false);
            return ExitCodes.Interrupted;
        }

        await error.WriteLineAsync($"rumor demo: {what}. Each node's view:").ConfigureAwait(false);
        foreach (GossipTransport node in cluster.Live)
        {
            await error.WriteLineAsync($"  {node.Name}: {string.Join(", ", node.Members.Select(m => $"{m.Name}={m.State}"))}").ConfigureAwait(false);
        }

        return ExitCodes.Failure;
    }

    /// <summary>Prints lines stamped with the time since the demo started, one writer at a time so lines never interleave.</summary>
    private sealed class Timeline(TextWriter output)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Lock _lock = new();

        public void Header(string line)
        {
            lock (_lock)
            {
                output.WriteLine(line);
            }
        }

        public void Write(string message)
        {
            lock (_lock)
            {
                string stamp = string.Create(CultureInfo.InvariantCulture, $"+{_clock.Elapsed.TotalSeconds:0.000}s");
                output.WriteLine(stamp.PadRight(10) + message);
            }
        }
    }

    /// <summary>The demo's nodes: starts them with event printing, crashes one, stops all.</summary>
    private sealed class DemoCluster(Timeline timeline) : IAsyncDisposable
    {
        private readonly List<GossipTransport> _live = [];
        private readonly ConcurrentDictionary<NodeAddress, string> _names = new();
        private volatile bool _quiet;

        public IReadOnlyList<GossipTransport> Live => _live;

        public async Task<GossipTransport> StartNodeAsync(string name)
        {
            GossipTransportSettings settings = new() { OnEvent = e => Print(name, e) };
            GossipTransport node = await GossipTransport.StartAsync(DemoOptions(name), settings).ConfigureAwait(false);
            _names[node.Address] = name;
            _live.Add(node);
            return node;
        }

        public async Task CrashAsync(GossipTransport node)
        {
            _live.Remove(node);
            await node.DisposeAsync().ConfigureAwait(false);
        }

        public async Task StopAllAsync()
        {
            _quiet = true;
            GossipTransport[] nodes = [.. _live];
            _live.Clear();
            await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask())).ConfigureAwait(false);
        }

        /// <summary>Polls the nodes' member snapshots until <paramref name="condition"/> holds for all; false at the bound or on cancellation.</summary>
        public async Task<bool> WaitUntilAsync(IReadOnlyList<GossipTransport> nodes, Func<IReadOnlyList<MemberSnapshot>, bool> condition, TimeSpan bound, CancellationToken stop)
        {
            Stopwatch waited = Stopwatch.StartNew();
            while (!nodes.All(n => condition(n.Members)))
            {
                if (waited.Elapsed > bound || stop.IsCancellationRequested)
                {
                    return false;
                }

                try
                {
                    await Task.Delay(PollInterval, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            }

            return true;
        }

        public ValueTask DisposeAsync() => new(StopAllAsync());

        private void Print(string observer, GossipEvent gossipEvent)
        {
            if (_quiet)
            {
                return;
            }

            string? line = gossipEvent switch
            {
                MemberChanged { Kind: MemberChangeKind.Joined } e => $"{observer} sees {e.Member.Name} joined",
                MemberChanged { Kind: MemberChangeKind.Suspected } e => $"{observer} suspects {e.Member.Name}",
                MemberChanged { Kind: MemberChangeKind.Failed } e => $"{observer} declares {e.Member.Name} failed",
                MemberChanged { Kind: MemberChangeKind.Recovered } e => $"{observer} sees {e.Member.Name} recovered (it refuted the suspicion)",
                MemberChanged e => $"{observer} sees {e.Member.Name} {AgentCommand.Describe(e.Kind)}",
                JoinSucceeded e => $"{observer} joined through {NameOf(e.Seed)}, learning {e.MembersLearned} member(s)",
                JoinFailed e => $"{observer} could not join through {NameOf(e.Seed)}: {e.Reason}",
                NameConflict e => $"{observer} sees a name conflict: {e.Name} at {e.Known} and {e.Other}",
                _ => null,
            };
            if (line is not null)
            {
                timeline.Write(line);
            }
        }

        private string NameOf(NodeAddress address) => _names.TryGetValue(address, out string? name) ? name : address.ToString();
    }
}
