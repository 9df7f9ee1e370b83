using System.Diagnostics;
using Rumor.Core;
using Rumor.Core.Events;
using Rumor.Core.Membership;

namespace Rumor.Simulation.Experiments;

/// <summary>One run of <see cref="ClusterScenario.Run"/>: every figure in seconds of virtual time from the action that starts it.</summary>
/// <param name="Nodes">Cluster size.</param>
/// <param name="JoinsAnsweredSeconds">From the first join until every join was answered (every node started at once, then <see cref="ClusterScenario.JoinParallelism"/> joins in flight, as <c>rumor cluster</c> joins).</param>
/// <param name="JoinSeconds">From the first join until every node sees every node alive.</param>
/// <param name="JoinsFailed">Joins that a seed did not answer (a join push-pull that failed or timed out).</param>
/// <param name="KeyAllSeconds">For each key set (one at a time): until every live node holds it.</param>
/// <param name="EventAllSeconds">For each user event sent (one at a time): until every live node delivered it.</param>
/// <param name="SuspectFirstSeconds">For each crash (one at a time, not restarted): until the first view suspects it (or declares it failed).</param>
/// <param name="DeadFirstSeconds">For each crash: until the first view declares it failed.</param>
/// <param name="DeadAllSeconds">For each crash: until every live view declared it failed.</param>
/// <param name="Missed">Steps that did not complete within the bound (not in the lists).</param>
/// <param name="WallTime">Wall time of the whole run.</param>
public sealed record ClusterScenarioResult(
    int Nodes,
    double JoinsAnsweredSeconds,
    double JoinSeconds,
    int JoinsFailed,
    IReadOnlyList<double> KeyAllSeconds,
    IReadOnlyList<double> EventAllSeconds,
    IReadOnlyList<double> SuspectFirstSeconds,
    IReadOnlyList<double> DeadFirstSeconds,
    IReadOnlyList<double> DeadAllSeconds,
    int Missed,
    TimeSpan WallTime);

/// <summary>
/// The simulator's counterpart of <c>scripts/cluster-scale.py</c> (the real-socket run over
/// <c>rumor cluster</c>, docs/BENCHMARKS.md "Many nodes in one process"), step for step, so that the
/// two can be compared in rounds: the same options (<see cref="GossipOptions.Lan"/>, which is what
/// <c>rumor cluster --preset lan</c> resolves to), every node watching every key as the real cluster's
/// nodes do; after the join and a settle, <c>repeat</c> times one at a time a key set on node 1 + r
/// and an event sent from node 2 + r, each awaited on every node; then <c>repeat</c> crashes, one at a
/// time, of nodes N − 2, N − 3, … (no leave, not restarted), each awaited until every live view holds
/// it failed. The join is the real run's too: every node started at once with no seeds, then
/// <see cref="JoinParallelism"/> joins in flight, node i through node 0 and node i/2, the next one
/// started as soon as one is answered (every seed answered or failed), as <c>InProcessCluster</c>
/// joins. What differs is the network: here <see cref="NetworkOptions"/>' 1 ms latency and no CPU
/// contention; loopback there, with every node's loop sharing two cores.
/// </summary>
public static class ClusterScenario
{
    /// <summary>The longest a step may take in virtual time before it counts as missed.</summary>
    public static readonly TimeSpan StepBound = TimeSpan.FromSeconds(300);

    /// <summary>Joins in flight at once: <c>InProcessClusterOptions.JoinParallelism</c>'s default (<see cref="ManyNodeJoin"/>).</summary>
    public const int JoinParallelism = ManyNodeJoin.Parallelism;

    public static ClusterScenarioResult Run(int nodes, int repeat, TimeSpan settle, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nodes, 4);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeat, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(repeat, (nodes - 2) / 2);
        Stopwatch wall = Stopwatch.StartNew();
        SimCluster cluster = new(new SimulationOptions { Seed = seed, Gossip = GossipOptions.Lan, Network = new NetworkOptions(), TraceRecent = 0 });
        cluster.Checkers.TrackIncarnations = false;

        // No configured seeds (as rumor cluster's nodes have none): each learns its two from its join.
        cluster.AddNodes(nodes, _ => GossipOptions.Lan);
        foreach (SimNode node in cluster.Nodes)
        {
            cluster.Start(node, join: false);
            node.Command((g, _) => g.Watch(string.Empty));
        }

        (double answered, double join, int joinsFailed) = JoinAsTheRealRunDoes(cluster);
        cluster.RunFor(settle);

        // What the observers count: holders of the current key, deliverers of the current event,
        // and the current victim's suspicions and failed verdicts.
        string? key = null;
        string? keyOwner = null;
        string? eventName = null;
        HashSet<string> holders = new(StringComparer.Ordinal);
        HashSet<string> deliverers = new(StringComparer.Ordinal);
        TimeSpan keyLast = TimeSpan.Zero;
        TimeSpan eventLast = TimeSpan.Zero;
        SimNode? victim = null;
        ulong victimGeneration = 0;
        TimeSpan? suspected = null;
        TimeSpan? firstDead = null;
        HashSet<string> deadViews = new(StringComparer.Ordinal);
        TimeSpan deadLast = TimeSpan.Zero;
        cluster.Observe((observer, e) =>
        {
            switch (e)
            {
                case KeyChanged change when change.Key == key && change.Owner == keyOwner && change.NewValue is not null:
                    if (holders.Add(observer.Name))
                    {
                        keyLast = change.At;
                    }

                    break;
                case UserEventReceived received when received.Event.Name == eventName:
                    if (deliverers.Add(observer.Name))
                    {
                        eventLast = received.At;
                    }

                    break;
                case MemberChanged change when victim is not null && change.Member.Name == victim.Name && change.Member.Generation == victimGeneration:
                    if (change.Kind is MemberChangeKind.Suspected or MemberChangeKind.Failed)
                    {
                        suspected ??= change.At;
                    }

                    if (change.Kind == MemberChangeKind.Failed)
                    {
                        firstDead ??= change.At;
                        if (deadViews.Add(observer.Name))
                        {
                            deadLast = change.At;
                        }
                    }

                    break;
            }
        });

        List<double> keys = [];
        List<double> events = [];
        int missed = 0;
        for (int r = 0; r < repeat; r++)
        {
            // The owner and the sender count from the start (each holds its own key and has its own
            // event at once; whether it also reports it to its own watch does not matter).
            SimNode owner = cluster.Nodes[1 + r];
            key = r == 0 ? "scale/key" : $"scale/key-{r}";
            keyOwner = owner.Name;
            holders.Clear();
            holders.Add(owner.Name);
            TimeSpan keySent = cluster.Now;
            keyLast = keySent;
            owner.Command((g, now) => g.SetValue(key, "value"u8.ToArray(), now));
            int live = cluster.LiveNodes.Count();
            if (cluster.RunUntil(() => holders.Count >= live, StepBound, TimeSpan.FromMilliseconds(10)) is not null)
            {
                keys.Add((keyLast - keySent).TotalSeconds);
            }
            else
            {
                missed++;
            }

            SimNode sender = cluster.Nodes[2 + r];
            eventName = r == 0 ? "scale-event" : $"scale-event-{r}";
            deliverers.Clear();
            deliverers.Add(sender.Name);
            TimeSpan eventSent = cluster.Now;
            eventLast = eventSent;
            sender.Command((g, now) => g.SendEvent(eventName, "payload"u8.ToArray(), now));
            if (cluster.RunUntil(() => deliverers.Count >= live, StepBound, TimeSpan.FromMilliseconds(10)) is not null)
            {
                events.Add((eventLast - eventSent).TotalSeconds);
            }
            else
            {
                missed++;
            }
        }

        List<double> suspects = [];
        List<double> deadFirst = [];
        List<double> deadAll = [];
        for (int r = 0; r < repeat; r++)
        {
            victim = cluster.Nodes[nodes - 2 - r];
            victimGeneration = victim.LiveNode.Self.Generation;
            suspected = null;
            firstDead = null;
            deadViews.Clear();
            TimeSpan crashedAt = cluster.Now;
            cluster.Crash(victim);
            int observers = cluster.LiveNodes.Count();
            if (cluster.RunUntil(() => deadViews.Count >= observers, StepBound, TimeSpan.FromMilliseconds(10)) is not null && suspected is { } s && firstDead is { } d)
            {
                suspects.Add((s - crashedAt).TotalSeconds);
                deadFirst.Add((d - crashedAt).TotalSeconds);
                deadAll.Add((deadLast - crashedAt).TotalSeconds);
            }
            else
            {
                missed++;
            }

            victim = null;
        }

        return new ClusterScenarioResult(nodes, answered, join, joinsFailed, keys, events, suspects, deadFirst, deadAll, missed, wall.Elapsed);
    }

    /// <summary>
    /// Node 1 joins through node 0, node i ≥ 2 through node 0 and node i/2, <see cref="JoinParallelism"/>
    /// at a time, each next join started when one is answered. Returns when every node sees every
    /// node alive: the seconds from the first join until every join was answered and until then, and
    /// the seeds that did not answer.
    /// </summary>
    private static (double Answered, double Converged, int Failed) JoinAsTheRealRunDoes(SimCluster cluster)
    {
        IReadOnlyList<SimNode> all = cluster.Nodes;
        TimeSpan started = cluster.Now;
        TimeSpan lastAnswer = started;
        Dictionary<string, int> seedsLeft = new(StringComparer.Ordinal);
        int next = 1;
        int answered = 0;
        int failed = 0;

        void StartNext(SimCluster c)
        {
            if (next >= all.Count)
            {
                return;
            }

            SimNode joiner = all[next];
            NodeAddress[] seeds = ManyNodeJoin.Seeds(next, k => all[k].Address);
            seedsLeft[joiner.Name] = seeds.Length;
            next++;
            joiner.Command((g, now) =>
            {
                g.Join(seeds, now);
                return true;
            });
        }

        cluster.Observe((observer, e) =>
        {
            if (e is not (JoinSucceeded or JoinFailed) || !seedsLeft.TryGetValue(observer.Name, out int left))
            {
                return;
            }

            failed += e is JoinFailed ? 1 : 0;
            if (left > 1)
            {
                seedsLeft[observer.Name] = left - 1;
                return;
            }

            seedsLeft.Remove(observer.Name);
            answered++;
            lastAnswer = e.At;
            cluster.At(cluster.Now, StartNext); // not inside the observer: after the event that answered
        });

        for (int i = 0; i < JoinParallelism; i++)
        {
            StartNext(cluster);
        }

        if (cluster.RunUntil(() => answered == all.Count - 1 && cluster.MembershipAgrees(), ExperimentCluster.JoinBound, TimeSpan.FromMilliseconds(100)) is not { } converged)
        {
            cluster.MembershipAgrees(out string differences);
            throw new InvalidOperationException($"{all.Count} nodes did not converge within {ExperimentCluster.JoinBound.TotalSeconds} s ({answered} joins answered): {differences}");
        }

        return ((lastAnswer - started).TotalSeconds, converged.TotalSeconds, failed);
    }
}
