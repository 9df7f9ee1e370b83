using Rumor.EndToEnd.Tests.Support;
using Xunit.Abstractions;

namespace Rumor.EndToEnd.Tests;

/// <summary>
/// Drives scripts/netns-chaos.sh: six agents in their own network namespaces, found through a real
/// dnsmasq, under link faults, partitions, pauses, kills and a mass restart, judged by
/// tools/Rumor.Chaos. Needs root, iproute2, nftables, dnsmasq and curl (CI runs as root and
/// .ci/run installs them): without them the test fails saying what is missing; it never skips.
/// </summary>
public sealed class NetnsChaosTests
{
    private readonly ITestOutputHelper _output;

    public NetnsChaosTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Six_agents_in_namespaces_lose_nothing_and_accuse_nobody_falsely()
    {
        ScriptRun.RequireRootAnd(
            "the network-namespace chaos test", "apt-get install -y iproute2 nftables dnsmasq curl", "ip", "tc", "nft", "dnsmasq", "curl");
        ScriptRun.Result run = await ScriptRun.RunAsync(
            _output, TimeSpan.FromMinutes(15), "scripts/netns-chaos.sh", "--nodes", "6", "--seconds", "90", "--seed", "1");

        string last = run.Lines.LastOrDefault(line => line.StartsWith("chaos: ", StringComparison.Ordinal)) ?? "(no chaos: line)";
        Assert.True(run.ExitCode == 0, $"scripts/netns-chaos.sh exited {run.ExitCode}: {last}");
        Assert.Matches(@"^chaos: [1-9]\d* writes acknowledged, 0 lost, 0 resurrected, membership converged in [\d.]+ s after heal, 0 false dead$", last);
    }
}
