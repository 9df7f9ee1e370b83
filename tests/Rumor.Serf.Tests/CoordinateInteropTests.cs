using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Rumor.Serf.Tests;

/// <summary>
/// Network coordinates with real serf agents: our acks carry our coordinate (so <c>serf rtt</c>
/// can place the Rumor node), their acks update ours, and our estimate of the RTT between two
/// agents agrees with <c>serf rtt</c>'s.
/// </summary>
[Collection(nameof(SerfInteropCollection))]
public sealed partial class CoordinateInteropTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [GeneratedRegex(@"rtt: ([0-9.]+) ms")]
    private static partial Regex RttLine();

    private static async Task<double?> SerfRttMsAsync(SerfAgentCluster agents, int via, string a, string b)
    {
        (int exit, string output) = await SerfAgentCluster.RunSerfAsync("rtt", $"-rpc-addr={agents.RpcAddress(via)}", a, b);
        Match m = RttLine().Match(output);
        return exit == 0 && m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }

    [Fact]
    public async Task Serf_places_the_rumor_node_and_our_estimates_agree_with_serf_rtt()
    {
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(cluster: 11, count: 3);
        await using SerfNode node = SerfNode.Start(new SerfNodeOptions
        {
            Name = "rumor",
            Bind = new IPEndPoint(SerfAgentCluster.AgentAddress(11, 10), SerfAgentCluster.GossipPort),
            RandomSeed = 11,
        });
        await node.JoinAsync([agents.GossipEndPoint(1)]);

        // Our coordinate reaches Serf: serf1 caches it from an ack to one of its pings, and only
        // then can `serf rtt rumor serf2` answer (without it: "Could not find a coordinate").
        double? viaSerf = null;
        Assert.True(await Wait.UntilAsync(async () => (viaSerf = await SerfRttMsAsync(agents, 1, "rumor", "serf2")) is not null, Bound),
            "serf rtt rumor serf2 never found the rumor node's coordinate");
        Assert.True(viaSerf > 0);

        // Serf's coordinates reach us: we cache serf2's and serf3's, and our own has moved off the origin.
        Assert.True(await Wait.UntilAsync(() => node.GetCoordinate("serf2") is not null && node.GetCoordinate("serf3") is not null, Bound));
        // (Its error may still be at the cap under load: a wrong guess can keep it there; its position cannot stay put.)
        Assert.True(node.Coordinate.Vec.Any(x => x != 0), "our coordinate was never updated");
        Assert.Equal(0, node.Counters.CoordinatesRejected);

        // Let both sides take in a few more samples, then compare the estimate of serf2 <-> serf3
        // from our cache with serf2's own (`serf rtt serf2 serf3` through serf2). Loopback RTTs are
        // tens to hundreds of microseconds and jitter with the machine's load, and the two sides hold
        // coordinates of different ages, so the comparison is within 20 % or within 0.5 ms (the
        // ms granularity of a loopback RTT), whichever is looser.
        // A snapshot can catch the two sides' copies at different ages (a copy moves with every
        // sample), so the pair is read again, at most ten times a second apart, until both estimates
        // agree; they must agree at one reading (a CI run at load 6 caught 0.903 vs 1.494 ms once).
        await Task.Delay(TimeSpan.FromSeconds(8));
        string last = "";
        double ours = 0, ownToSerf2 = 0;
        double? theirs = null, serfRumor2 = null;
        bool agreed = false;
        // Under CI load serf's own estimate of one pair moved between 0.3 and 2.8 ms from one second
        // to the next (a CI run of ff390da). So a reading also agrees when ours lies within the band
        // of serf's own readings of that pair so far, widened by the same 0.5 ms.
        double theirsMin = double.MaxValue, theirsMax = double.MinValue, rumorMin = double.MaxValue, rumorMax = double.MinValue;
        for (int attempt = 0; attempt < 10 && !agreed; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }

            // serf2 <-> serf3 from our cache against serf2's own (`serf rtt serf2 serf3` through serf2),
            // and our own estimate to serf2 against serf's estimate of rumor <-> serf2.
            theirs = await SerfRttMsAsync(agents, 2, "serf2", "serf3");
            ours = node.GetCoordinate("serf2")!.DistanceSeconds(node.GetCoordinate("serf3")!) * 1000;
            serfRumor2 = await SerfRttMsAsync(agents, 2, "rumor", "serf2");
            ownToSerf2 = node.Coordinate.DistanceSeconds(node.GetCoordinate("serf2")!) * 1000;
            if (theirs is { } seen && serfRumor2 is { } seenRumor)
            {
                (theirsMin, theirsMax) = (Math.Min(theirsMin, seen), Math.Max(theirsMax, seen));
                (rumorMin, rumorMax) = (Math.Min(rumorMin, seenRumor), Math.Max(rumorMax, seenRumor));
            }

            agreed = theirs is { } t && serfRumor2 is { } r
                && (Math.Abs(ours - t) <= Math.Max(0.2 * t, 0.5) || (ours >= theirsMin - 0.5 && ours <= theirsMax + 0.5))
                && (Math.Abs(ownToSerf2 - r) <= Math.Max(0.2 * r, 0.5) || (ownToSerf2 >= rumorMin - 0.5 && ownToSerf2 <= rumorMax + 0.5));
            last += FormattableString.Invariant($" [serf2<->serf3 ours {ours:F3} ms, serf rtt {theirs:F3} ms; rumor<->serf2 ours {ownToSerf2:F3} ms, serf rtt {serfRumor2:F3} ms]");
        }

        Assert.True(agreed, "our estimates never agreed with serf rtt (within 20 % or 0.5 ms, or within 0.5 ms of the band of serf's own readings) at one reading:" + last);
        Console.WriteLine(FormattableString.Invariant($"serf2<->serf3: ours {ours:F3} ms, serf rtt {theirs:F3} ms; rumor<->serf2: ours {ownToSerf2:F3} ms, serf rtt {serfRumor2:F3} ms"));
    }
}
