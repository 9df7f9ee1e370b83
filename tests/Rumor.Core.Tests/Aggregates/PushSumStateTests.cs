using Rumor.Core.Aggregates;
using Rumor.Core.Randomness;

namespace Rumor.Core.Tests.Aggregates;

/// <summary>Push-sum arithmetic: exact halving, mass conservation, the estimates, and convergence of synchronous rounds.</summary>
public class PushSumStateTests
{
    [Fact]
    public void A_starting_mass_encodes_value_holder_node_and_weight()
    {
        Assert.Equal(new PushSumState(4.5, 1, 1, 1), PushSumState.ForInput(4.5, initiator: true));
        Assert.Equal(new PushSumState(0, 0, 1, 0), PushSumState.ForInput(null, initiator: false));
        PushSumState alone = PushSumState.ForInput(7, initiator: true);
        Assert.Equal(7, alone.Average);
        Assert.Equal(1, alone.Count);
        Assert.Equal(7, alone.Sum);
        Assert.Equal(1, alone.HolderCount);
        PushSumState noWeight = PushSumState.ForInput(null, initiator: false);
        Assert.True(double.IsNaN(noWeight.Average));
        Assert.True(double.IsNaN(noWeight.Count));
        Assert.True(double.IsNaN(noWeight.Sum));
    }

    [Fact]
    public void Halving_is_exact_so_kept_plus_sent_is_the_whole()
    {
        Xoshiro256StarStar random = new(11);
        for (int i = 0; i < 1000; i++)
        {
            PushSumState mass = new((random.NextDouble() - 0.5) * 1e6, random.NextDouble(), random.NextDouble() * 3, random.NextDouble());
            PushSumState before = mass;
            PushSumState sent = mass.TakeHalf();
            Assert.Equal(sent, mass);
            PushSumState whole = mass;
            whole.Add(sent);
            Assert.Equal(before, whole);
            Assert.Equal(before.Average, mass.Average);
        }
    }

    [Fact]
    public void Cumulative_flow_differences_absorb_each_share_once_whatever_the_duplicates()
    {
        // The receiver keeps the last cumulative total; absorbing total − last adds each share once,
        // however often a total is delivered again.
        PushSumState cumulative = default;
        PushSumState lastSeen = default;
        PushSumState absorbed = default;
        PushSumState sender = new(100, 1, 1, 1);
        for (int round = 0; round < 20; round++)
        {
            cumulative.Add(sender.TakeHalf());
            int deliveries = round % 3; // 0: lost, 1: once, 2: duplicated
            for (int d = 0; d < deliveries; d++)
            {
                absorbed.Add(PushSumState.Difference(cumulative, lastSeen));
                lastSeen = cumulative;
            }
        }

        absorbed.Add(PushSumState.Difference(cumulative, lastSeen)); // the repairing retransmission
        PushSumState total = sender;
        total.Add(absorbed);
        Assert.Equal(100, total.Value, 9);
        Assert.Equal(1, total.Weight, 12);
        Assert.Equal(1, total.Nodes, 12);
    }

    [Theory]
    [InlineData(1000, 1)]
    [InlineData(5000, 2)]
    public void Synchronous_rounds_conserve_mass_and_converge_to_the_true_aggregates(int n, ulong seed)
    {
        Xoshiro256StarStar random = new(seed);
        PushSumState[] nodes = new PushSumState[n];
        PushSumState[] inbox = new PushSumState[n];
        double sum = 0;
        int holders = 0;
        for (int i = 0; i < n; i++)
        {
            double? value = i % 10 == 0 ? null : random.NextDouble() * 100;
            nodes[i] = PushSumState.ForInput(value, initiator: i == 0);
            sum += value ?? 0;
            holders += value.HasValue ? 1 : 0;
        }

        for (int round = 0; round < 80; round++)
        {
            Array.Clear(inbox);
            for (int i = 0; i < n; i++)
            {
                int peer = random.NextInt(n - 1);
                peer += peer >= i ? 1 : 0;
                inbox[peer].Add(nodes[i].TakeHalf());
            }

            for (int i = 0; i < n; i++)
            {
                nodes[i].Add(inbox[i]);
            }
        }

        PushSumState total = default;
        foreach (PushSumState node in nodes)
        {
            total.Add(node);
            Assert.Equal(sum / holders, node.Average, sum / holders * 1e-6);
            Assert.Equal(n, node.Count, n * 1e-6);
            Assert.Equal(sum, node.Sum, sum * 1e-6);
        }

        Assert.Equal(1, total.Weight, 12);
        Assert.Equal(n, total.Nodes, 9);
        Assert.Equal(sum, total.Value, 6);
    }

    [Theory]
    [InlineData("12.5", 12.5)]
    [InlineData("-3e2", -300.0)]
    [InlineData(" 7 ", 7.0)]
    [InlineData("abc", null)]
    [InlineData("NaN", null)]
    [InlineData("Infinity", null)]
    [InlineData("1,5", null)]
    [InlineData("", null)]
    public void Inputs_are_invariant_culture_finite_numbers_or_nothing(string text, double? expected)
    {
        Assert.Equal(expected, AggregateRun.ParseInput(System.Text.Encoding.UTF8.GetBytes(text)));
    }
}
