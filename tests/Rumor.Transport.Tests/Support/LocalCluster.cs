using System.Diagnostics;
using System.Text;
using Rumor.Core;
using Rumor.Core.Membership;

namespace Rumor.Transport.Tests.Support;

/// <summary>
/// Real transports on 127.0.0.1 with free ports and fast timings, so that a membership scenario
/// takes seconds. Every wait polls the transports' member snapshots against a deadline and, on
/// failure, reports every node's view.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    private readonly List<GossipTransport> _nodes = [];

    public IReadOnlyList<GossipTransport> Nodes => _nodes;

    public GossipTransport this[int index] => _nodes[index];

    /// <summary>Fast timings: probe every 200 ms, gossip every 50 ms, suspicion ≈ 0.4 s, push-pull every 2 s.</summary>
    public static GossipOptions FastOptions(string name) => GossipOptions.Local with
    {
        Name = name,
        AdvertiseAddress = NodeAddress.Parse("127.0.0.1:0"),
        ProbeInterval = TimeSpan.FromMilliseconds(200),
        ProbeTimeout = TimeSpan.FromMilliseconds(100),
        GossipInterval = TimeSpan.FromMilliseconds(50),
        SuspicionMultiplier = 2,
        PushPullInterval = TimeSpan.FromSeconds(2),
        StreamTimeout = TimeSpan.FromSeconds(5), // joins answer in milliseconds; 1 s timed out once on a loaded CI machine
    };

    /// <summary>Starts <paramref name="count"/> nodes named node-1.. and joins every one after the first through the first.</summary>
    public static async Task<LocalCluster> StartJoinedAsync(int count)
    {
        LocalCluster cluster = new();
        try
        {
            for (int i = 1; i <= count; i++)
            {
                cluster._nodes.Add(await GossipTransport.StartAsync(FastOptions($"node-{i}")));
            }

            for (int i = 1; i < count; i++)
            {
                JoinResult result = await cluster[i].JoinAsync([cluster[0].Address]);
                Assert.True(result.Succeeded.Count == 1, $"node-{i + 1} could not join through node-1: {string.Join("; ", result.Failed.Select(f => f.Reason))}");
            }
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    /// <summary>Polls until every node in <paramref name="observers"/> satisfies <paramref name="condition"/>; fails listing each view after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(IEnumerable<GossipTransport> observers, Func<IReadOnlyList<MemberSnapshot>, bool> condition, TimeSpan timeout, string what)
    {
        GossipTransport[] nodes = observers.ToArray();
        Stopwatch elapsed = Stopwatch.StartNew();
        while (elapsed.Elapsed < timeout)
        {
            if (nodes.All(node => condition(node.Members)))
            {
                return;
            }

            await Task.Delay(25);
        }

        StringBuilder views = new();
        foreach (GossipTransport node in nodes)
        {
            views.AppendLine().Append("  ").Append(node.Name).Append(" sees: ").AppendJoin(", ", node.Members.Select(m => $"{m.Name}={m.State}"));
        }

        Assert.Fail($"Not {what} within {timeout.TotalSeconds} s.{views}");
    }

    public static bool AllAlive(IReadOnlyList<MemberSnapshot> view, int count) =>
        view.Count(m => m.State == MemberState.Alive) == count;

    public static bool SeesAs(IReadOnlyList<MemberSnapshot> view, string name, MemberState state) =>
        view.Any(m => m.Name == name && m.State == state);

    public async ValueTask DisposeAsync()
    {
        foreach (GossipTransport node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
