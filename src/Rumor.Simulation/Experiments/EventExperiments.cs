using System.Diagnostics;
using Rumor.Core;
using Rumor.Core.Events;
using Rumor.Core.Randomness;

namespace Rumor.Simulation.Experiments;

/// <summary>One configuration of the event residue experiment.</summary>
/// <param name="Nodes">Cluster size.</param>
/// <param name="Loss">Datagram loss probability while the events spread.</param>
/// <param name="RetransmitMultiplier">The broadcast retransmit multiplier (m in e^-m).</param>
/// <param name="AntiEntropy">Whether event anti-entropy ran.</param>
/// <param name="Events">Events measured.</param>
/// <param name="ResidueAt">Mean fraction of nodes missing an event at each checkpoint (seconds after sending).</param>
/// <param name="Duplicates">Deliveries beyond the first, all nodes and events (must be 0).</param>
/// <param name="DigestsPerNodeSecond">Event digests sent per node per second of the measured span.</param>
/// <param name="Repairs">Events re-sent by anti-entropy, all nodes.</param>
/// <param name="WallTime">Wall-clock time of the run.</param>
public sealed record EventResidueResult(int Nodes, double Loss, int RetransmitMultiplier, bool AntiEntropy, int Events, IReadOnlyList<(int Seconds, double Residue)> ResidueAt, long Duplicates, double DigestsPerNodeSecond, long Repairs, TimeSpan WallTime);

/// <summary>
/// Residue of user events: the fraction of nodes that never get an event. Rumor mongering alone
/// leaves about e^-m of them (m transmissions per node and event, fewer under loss); event
/// anti-entropy (Bloom digests every EventSyncInterval) should take it to zero. The real
/// <see cref="GossipNode"/> code runs in the simulator: N nodes join without loss, then the loss is
/// switched on and <c>events</c> events are sent from distinct random nodes at once; delivered
/// counts are sampled at checkpoints.
/// </summary>
public static class EventExperiments
{
    /// <summary>Runs one configuration.</summary>
    public static EventResidueResult Residue(int n, double loss, int retransmitMultiplier, bool antiEntropy, int events, ulong seed, int[]? checkpointsSeconds = null)
    {
        Stopwatch wall = Stopwatch.StartNew();
        int[] checkpoints = checkpointsSeconds ?? [2, 5, 10, 30, 60];
        GossipOptions gossip = GossipOptions.Lan with { RetransmitMultiplier = retransmitMultiplier, EventAntiEntropy = antiEntropy };
        SimCluster cluster = ExperimentCluster.Joined(n, seed, gossip);
        Dictionary<EventId, int> delivered = [];
        long duplicates = 0;
        HashSet<(string, EventId)> seen = [];
        cluster.Observe((node, e) =>
        {
            if (e is UserEventReceived r)
            {
                if (!seen.Add((node.Name, r.Event.Id)))
                {
                    duplicates++;
                    return;
                }

                delivered[r.Event.Id] = delivered.GetValueOrDefault(r.Event.Id) + 1;
            }
        });

        cluster.Network.Options = cluster.Network.Options with { LossProbability = loss };
        long digestsBefore = cluster.Nodes.Sum(x => x.LiveNode.Counters.EventDigestsSent);
        long repairsBefore = cluster.Nodes.Sum(x => x.LiveNode.Counters.EventsRepaired);
        List<SimNode> senders = [.. cluster.Nodes];
        new Xoshiro256StarStar(seed).Shuffle(senders);
        List<EventId> sent = [];
        foreach (SimNode node in senders.Take(events))
        {
            sent.Add(node.Command((g, now) => g.SendEvent("residue", [1, 2, 3, 4], now)).Id);
        }

        TimeSpan start = cluster.Now;
        List<(int, double)> residue = [];
        foreach (int seconds in checkpoints)
        {
            cluster.RunUntilTime(start + TimeSpan.FromSeconds(seconds));
            double missing = sent.Average(id => 1.0 - (delivered.GetValueOrDefault(id) / (double)n));
            residue.Add((seconds, missing));
        }

        double span = checkpoints[^1];
        long digests = cluster.Nodes.Sum(x => x.LiveNode.Counters.EventDigestsSent) - digestsBefore;
        long repairs = cluster.Nodes.Sum(x => x.LiveNode.Counters.EventsRepaired) - repairsBefore;
        return new EventResidueResult(n, loss, retransmitMultiplier, antiEntropy, events, residue, duplicates, digests / (n * span), repairs, wall.Elapsed);
    }
}
