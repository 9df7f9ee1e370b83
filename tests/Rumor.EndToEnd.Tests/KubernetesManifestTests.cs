using Rumor.EndToEnd.Tests.Support;
using Xunit.Abstractions;

namespace Rumor.EndToEnd.Tests;

/// <summary>
/// Drives deploy/kubernetes/check-manifests.sh: the Kubernetes manifests parse into the objects that
/// fit together, and the StatefulSet's exact command (with the Secrets' variables: a gossip key and
/// the API token), its probes' path and its preStop, and the Dockerfile's ENTRYPOINT + CMD, run
/// against the built agent in a network namespace of their own. No container engine is needed (none
/// exists here); what needs one (building the image) is not checked. Needs root and python3 with
/// PyYAML (.ci/run installs python3-yaml); without them the test fails saying so, it never skips.
/// </summary>
public sealed class KubernetesManifestTests
{
    private readonly ITestOutputHelper _output;

    public KubernetesManifestTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task The_manifests_exact_commands_start_probe_and_stop_the_agent()
    {
        ScriptRun.RequireRootAnd("the Kubernetes manifest check", "apt-get install -y iproute2 curl python3-yaml", "ip", "curl", "python3");
        ScriptRun.Result run = await ScriptRun.RunAsync(_output, TimeSpan.FromMinutes(5), "deploy/kubernetes/check-manifests.sh");

        Assert.True(run.ExitCode == 0, $"deploy/kubernetes/check-manifests.sh exited {run.ExitCode}: {string.Join('\n', run.Lines.TakeLast(15))}");
        Assert.Equal("check-manifests: ok", run.Lines.LastOrDefault(line => line.StartsWith("check-manifests: ", StringComparison.Ordinal)));
        Assert.Contains(run.Lines, line => line.Contains("preStop leaves and the agent exits 0", StringComparison.Ordinal));
    }
}
