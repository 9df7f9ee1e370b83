using System.Globalization;
using System.Text;
using Rumor.Core;
using Xunit.Abstractions;

namespace Rumor.Simulation.Tests;

/// <summary>
/// An aggregate's lifecycle in virtual time: it ends by itself on every member after its lifetime,
/// a stop at one member ends it everywhere, a start after a stop is a new run, and a small
/// cluster converges within a few seconds with the default options (the agent's).
/// </summary>
public sealed class AggregateLifecycleTests(ITestOutputHelper output)
{
    private const string Key = "load";

    private static GossipOptions Options => GossipOptions.Lan with { StateGossipInterval = TimeSpan.FromMinutes(10) };

    private static SimCluster Started(ulong seed, int nodes, GossipOptions? options = null)
    {
        SimCluster cluster = Sim.Cluster(seed, nodes, options ?? Options);
        cluster.StartAll(TimeSpan.FromMilliseconds(5));
        Sim.Converge(cluster, TimeSpan.FromSeconds(60), $"{nodes} nodes joining");
        foreach (SimNode node in cluster.Nodes)
        {
            string value = (10 + node.Index).ToString(CultureInfo.InvariantCulture);
            node.Command((n, now) => n.SetValue(Key, Encoding.UTF8.GetBytes(value), now));
        }

        return cluster;
    }

    private static bool RunningAnywhere(SimCluster cluster) => cluster.LiveNodes.Any(n => n.LiveNode.GetAggregate(Key) is not null);

    private static bool RunningEverywhere(SimCluster cluster) => cluster.LiveNodes.All(n => n.LiveNode.GetAggregate(Key) is not null);

    [Fact]
    public void An_aggregate_ends_on_every_member_after_its_lifetime_and_stays_ended()
    {
        SimCluster cluster = Started(9101, 20);
        TimeSpan started = cluster.Now;
        Assert.True(cluster.Nodes[3].Command((n, now) => n.StartAggregate(Key, now, AggregateFunction.Sum, TimeSpan.FromSeconds(30))));
        if (cluster.RunUntil(() => RunningEverywhere(cluster), TimeSpan.FromSeconds(20)) is null)
        {
            Sim.Fail(cluster, "the aggregate did not reach every member within 20 s");
        }

        SimNode other = cluster.Nodes[11];
        AggregateEstimate joined = other.LiveNode.GetAggregate(Key)!;
        Assert.Equal(AggregateFunction.Sum, joined.Function);
        Assert.NotNull(joined.EndsAt);
        Assert.InRange(joined.EndsAt!.Value - started, TimeSpan.FromSeconds(29), TimeSpan.FromSeconds(30.5));

        // Still running shortly before the end, ended everywhere within a round or two after it.
        cluster.RunUntilTime(started + TimeSpan.FromSeconds(28));
        Assert.True(RunningEverywhere(cluster), "ended before its lifetime");
        cluster.RunUntilTime(started + TimeSpan.FromSeconds(33));
        Assert.False(RunningAnywhere(cluster), $"still running 3 s after its lifetime at {string.Join(", ", cluster.LiveNodes.Where(n => n.LiveNode.GetAggregate(Key) is not null).Select(n => n.Name))}");
        Assert.All(cluster.LiveNodes, n => Assert.True(n.LiveNode.AggregateCounters.Ended >= 1));

        // Nothing restarts it: a minute later it is still gone, and no aggregate traffic flows.
        long pushes = cluster.LiveNodes.Sum(n => n.LiveNode.AggregateCounters.PushesSent);
        cluster.RunFor(TimeSpan.FromMinutes(1));
        Assert.False(RunningAnywhere(cluster));
        Assert.Equal(pushes, cluster.LiveNodes.Sum(n => n.LiveNode.AggregateCounters.PushesSent));
        Sim.NoViolations(cluster);
    }

    [Fact]
    public void A_stop_at_one_member_ends_the_aggregate_everywhere_and_a_new_start_runs_again()
    {
        SimCluster cluster = Started(9201, 30);
        cluster.Nodes[0].Command((n, now) => n.StartAggregate(Key, now, AggregateFunction.Average, TimeSpan.FromHours(1)));
        if (cluster.RunUntil(() => RunningEverywhere(cluster), TimeSpan.FromSeconds(20)) is null)
        {
            Sim.Fail(cluster, "the aggregate did not reach every member within 20 s");
        }

        cluster.RunFor(TimeSpan.FromSeconds(5));

        // Stopped at a member that did not start it.
        SimNode stopper = cluster.Nodes[17];
        Assert.True(stopper.Command((n, now) => n.StopAggregate(Key, now)));
        Assert.False(stopper.Command((n, now) => n.StopAggregate(Key, now)));
        TimeSpan? ended = cluster.RunUntil(() => !RunningAnywhere(cluster), TimeSpan.FromSeconds(30));
        if (ended is null)
        {
            Sim.Fail(cluster, $"30 s after the stop the aggregate still runs at {string.Join(", ", cluster.LiveNodes.Where(n => n.LiveNode.GetAggregate(Key) is not null).Select(n => n.Name))}");
        }

        output.WriteLine($"stop reached all 30 members in {ended!.Value.TotalSeconds:0.0} s");
        cluster.RunFor(TimeSpan.FromSeconds(30));
        Assert.False(RunningAnywhere(cluster), "a stopped aggregate came back");

        // Started again (anywhere): a new run that every member joins, in a later epoch.
        Assert.True(cluster.Nodes[5].Command((n, now) => n.StartAggregate(Key, now, AggregateFunction.Max, TimeSpan.FromHours(1))));
        if (cluster.RunUntil(() => RunningEverywhere(cluster), TimeSpan.FromSeconds(20)) is null)
        {
            Sim.Fail(cluster, "the restarted aggregate did not reach every member within 20 s");
        }

        TimeSpan? max = cluster.RunUntil(() => cluster.LiveNodes.All(n => n.LiveNode.GetAggregate(Key)?.Value == 39), TimeSpan.FromSeconds(30));
        Assert.True(max is not null, "the restarted aggregate's max did not reach 39 everywhere");
        Assert.All(cluster.LiveNodes, n => Assert.True(n.LiveNode.GetAggregate(Key)!.Epoch >= 3));
        Sim.NoViolations(cluster);
    }

    [Fact]
    public void A_three_member_aggregate_converges_within_a_few_seconds_with_the_default_options()
    {
        SimCluster cluster = Started(9301, 3, GossipOptions.Lan);
        TimeSpan started = cluster.Now;
        cluster.Nodes[0].Command((n, now) => n.StartAggregate(Key, now, AggregateFunction.Sum, TimeSpan.FromMinutes(5)));
        TimeSpan? took = cluster.RunUntil(
            () => cluster.LiveNodes.All(n => n.LiveNode.GetAggregate(Key) is { Converged: true }),
            TimeSpan.FromSeconds(60),
            TimeSpan.FromMilliseconds(100));
        Assert.True(took is not null, "three members did not converge within 60 s");
        output.WriteLine($"3 members converged {took!.Value.TotalSeconds:0.0} s after the start");
        foreach (SimNode node in cluster.LiveNodes)
        {
            AggregateEstimate estimate = node.LiveNode.GetAggregate(Key)!;
            Assert.InRange(estimate.Sum!.Value, 33 * 0.99, 33 * 1.01);
            Assert.InRange(estimate.Count!.Value, 2.97, 3.03);
            Assert.Equal(AggregateInputState.Number, estimate.Input);
        }

        Assert.True(took.Value <= TimeSpan.FromSeconds(5), $"three members took {took.Value.TotalSeconds:0.0} s to converge");
    }
}
