using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Rumor.Serf.Wire;

namespace Rumor.Serf.Tests;

/// <summary>
/// Key rotation of a mixed cluster: <c>serf keys</c> counts the Rumor node (it answers Serf's key
/// queries and its keyring changes), and <c>rumor keys</c> through a Serf-mode agent rotates the
/// Serf agents' keyrings (it sends those queries and reports the answers).
/// </summary>
[Collection(nameof(SerfInteropCollection))]
public sealed class KeyRotationInteropTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static string Key(int seed) => Convert.ToBase64String([.. Enumerable.Range(seed, 32).Select(i => (byte)i)]);

    private static async Task<string> SerfKeysAsync(SerfAgentCluster agents, params string[] args)
    {
        (int exit, string output) = await SerfAgentCluster.RunSerfAsync(["keys", $"-rpc-addr={agents.RpcAddress(1)}", .. args]);
        Assert.True(exit == 0, $"serf keys {string.Join(' ', args)} failed: {output}");
        return output;
    }

    [Fact]
    public async Task Serf_keys_rotation_includes_the_rumor_node()
    {
        string oldKey = Key(1);
        string newKey = Key(50);
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(12, 3, $"-encrypt={oldKey}");
        SerfKeyring keyring = SerfKeyring.FromBase64(oldKey);
        await using SerfNode node = SerfNode.Start(new SerfNodeOptions
        {
            Name = "rumor",
            Bind = new IPEndPoint(SerfAgentCluster.AgentAddress(12, 10), SerfAgentCluster.GossipPort),
            Keyring = keyring,
            RandomSeed = 12,
        });
        await node.JoinAsync([agents.GossipEndPoint(1)]);
        await agents.WaitForAsync(1, members => members.Count(m => m.Status == "alive") == 4, "serf1 lists 4 members alive");

        // serf keys fails unless every member (the Rumor node included) answers with success.
        await SerfKeysAsync(agents, "-install", newKey);
        Assert.Contains(keyring.Keys, k => Convert.ToBase64String(k) == newKey);
        Assert.Matches(new Regex(Regex.Escape(newKey) + @"\s+\[4/4\]"), await SerfKeysAsync(agents, "-list"));

        await SerfKeysAsync(agents, "-use", newKey);
        Assert.Equal(newKey, Convert.ToBase64String(keyring.Keys[0]));
        await SerfKeysAsync(agents, "-remove", oldKey);
        Assert.Equal([newKey], keyring.Keys.Select(Convert.ToBase64String));
        string list = await SerfKeysAsync(agents, "-list");
        Assert.Matches(new Regex(Regex.Escape(newKey) + @"\s+\[4/4\]"), list);
        Assert.DoesNotContain(oldKey, list, StringComparison.Ordinal);

        // Removing the primary is refused by every member, ours with memberlist's message.
        (int exit, string refused) = await SerfAgentCluster.RunSerfAsync("keys", $"-rpc-addr={agents.RpcAddress(1)}", "-remove", newKey);
        Assert.NotEqual(0, exit);
        Assert.Contains("rumor", refused, StringComparison.Ordinal);
        Assert.Contains("Removing the primary key is not allowed", refused, StringComparison.Ordinal);

        // The cluster still talks with the new key only: an event from Serf reaches the Rumor node.
        List<string> names = [];
        node.UserEventReceived += e =>
        {
            lock (names)
            {
                names.Add(e.Name);
            }
        };
        await agents.SendEventAsync(2, "after-rotation", "x");
        Assert.True(await Wait.UntilAsync(() =>
        {
            lock (names)
            {
                return names.Contains("after-rotation");
            }
        }, Bound));
    }

    [Fact]
    public async Task Rumor_keys_through_a_serf_mode_agent_rotates_the_serf_agents()
    {
        string oldKey = Key(3);
        string newKey = Key(90);
        using SerfAgentCluster agents = await SerfAgentCluster.StartAsync(13, 3, $"-encrypt={oldKey}");
        string http = $"127.0.0.1:{FreeTcpPort()}";
        using ChildProcess agent = ChildProcess.Start("agent", "--protocol", "serf", "--name", "rumor-keys", "--bind", $"{SerfAgentCluster.AgentAddress(13, 10)}:{SerfAgentCluster.GossipPort}",
            "--http", http, "--join", agents.GossipEndPoint(1).ToString(), "--encrypt", oldKey);
        await agents.WaitForAsync(1, members => members.Count(m => m.Status == "alive") == 4, $"serf1 lists 4 members alive; agent output:\n{agent.Output}");
        Assert.True(await Wait.UntilAsync(async () => (await ChildProcess.RunAsync("members", "--agent", http)).Output.Contains("serf3", StringComparison.Ordinal), Bound));

        foreach ((string operation, string key, string done) in new[] { ("install", newKey, "installed the key"), ("use", newKey, "made the key primary"), ("remove", oldKey, "removed the key") })
        {
            (int exit, string output) = await ChildProcess.RunAsync("keys", operation, key, "--agent", http);
            Assert.True(exit == 0, $"rumor keys {operation}: {output}");
            Assert.Contains($"4 of 4 members {done}", output, StringComparison.Ordinal);
        }

        // Serf's own view: only the new key, on all four members.
        string list = await SerfKeysAsync(agents, "-list");
        Assert.Matches(new Regex(Regex.Escape(newKey) + @"\s+\[4/4\]"), list);
        Assert.DoesNotContain(oldKey, list, StringComparison.Ordinal);

        // And rumor keys list reports the same, with the key primary everywhere.
        (int listExit, string listed) = await ChildProcess.RunAsync("keys", "list", "--agent", http);
        Assert.True(listExit == 0, listed);
        Assert.Matches(new Regex(Regex.Escape(newKey) + @"\s+4/4\s+4"), listed);

        // A refusal is reported with the member and the reason, and fails the command.
        (int removeExit, string removeOutput) = await ChildProcess.RunAsync("keys", "remove", newKey, "--agent", http);
        Assert.Equal(1, removeExit);
        Assert.Contains("refused by serf1: Removing the primary key is not allowed", removeOutput, StringComparison.Ordinal);
    }

    private static int FreeTcpPort()
    {
        using TcpListener listener = new(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
