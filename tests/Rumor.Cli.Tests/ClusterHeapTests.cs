using System.Collections;

namespace Rumor.Cli.Tests;

/// <summary><c>rumor cluster</c>'s gen0 budget: sized by the node count, set only when the executable's is smaller, never over the user's.</summary>
public sealed class ClusterHeapTests
{
    [Theory]
    [InlineData(1, 4 * 1024 * 1024)]
    [InlineData(16, 4 * 1024 * 1024)]
    [InlineData(20, 5 * 1024 * 1024)]
    [InlineData(100, 25 * 1024 * 1024)]
    [InlineData(1000, 250 * 1024 * 1024)]
    [InlineData(10_000, 256 * 1024 * 1024)]
    public void The_budget_is_256_KiB_a_node_between_4_and_256_MiB(int nodes, long bytes) => Assert.Equal(bytes, ClusterHeap.BudgetFor(nodes));

    [Theory]
    [InlineData(new[] { "cluster", "--nodes", "1000" }, 1000)]
    [InlineData(new[] { "cluster", "--bind", "127.0.0.1:20000", "--nodes=50" }, 50)]
    [InlineData(new[] { "cluster", "--nodes:200" }, 200)]
    [InlineData(new[] { "cluster" }, 10)]
    [InlineData(new[] { "cluster", "--nodes" }, null)]
    [InlineData(new[] { "cluster", "--nodes", "many" }, null)]
    [InlineData(new[] { "simulate", "--nodes", "1000" }, null)]
    [InlineData(new string[0], null)]
    public void The_node_count_is_read_from_a_cluster_command_line_only(string[] args, int? nodes) => Assert.Equal(nodes, ClusterHeap.NodesOf(args));

    [Fact]
    public void A_large_cluster_gets_both_variables_in_hexadecimal_and_keeps_the_rest_of_the_environment()
    {
        SortedDictionary<string, string>? environment = ClusterHeap.EnvironmentFor(["cluster", "--nodes", "1000"], new Hashtable { ["PATH"] = "/usr/bin", ["HOME"] = "/root" });

        Assert.NotNull(environment);
        Assert.Equal("fa00000", environment[ClusterHeap.Gen0SizeVariable]);
        Assert.Equal("fa00000", environment[ClusterHeap.Gen0MaxBudgetVariable]);
        Assert.Equal("/usr/bin", environment["PATH"]);
        Assert.Equal("/root", environment["HOME"]);
        Assert.Equal(4, environment.Count);
    }

    [Fact]
    public void Nothing_is_replaced_for_a_small_cluster_another_command_or_a_budget_already_set()
    {
        Assert.Null(ClusterHeap.EnvironmentFor(["cluster", "--nodes", "16"], new Hashtable()));
        Assert.Null(ClusterHeap.EnvironmentFor(["agent"], new Hashtable()));
        Assert.Null(ClusterHeap.EnvironmentFor(["cluster", "--nodes", "1000"], new Hashtable { [ClusterHeap.Gen0SizeVariable] = "800000" }));
        Assert.Null(ClusterHeap.EnvironmentFor(["cluster", "--nodes", "1000"], new Hashtable { [ClusterHeap.Gen0MaxBudgetVariable] = "800000" }));
    }
}
