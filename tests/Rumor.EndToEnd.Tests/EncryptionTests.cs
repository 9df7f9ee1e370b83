using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Rumor.Core;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;
using Rumor.EndToEnd.Tests.Support;

namespace Rumor.EndToEnd.Tests;

/// <summary>
/// Issue 12 with agent processes on 127.0.0.1: three agents started with <c>--encrypt $(rumor keygen)</c>
/// ignore forged plaintext gossip built with the wire encoders (a graceful-leave <c>Dead</c>,
/// <c>Alive</c> at generation 2^64−1, <c>Suspect</c>, a state delta at version 10^12 for another
/// owner, a user event at Lamport 2^64−1, a query naming a victim as its asker), and rotate their
/// key with <c>rumor keys</c> while one of them is down.
/// </summary>
public sealed class EncryptionTests
{
    [Fact]
    public Task Three_encrypted_agents_ignore_forged_plaintext_gossip_and_nobody_refutes() => Cluster.RunAsync(async cluster =>
    {
        string key = (await cluster.CliAsync("keygen")).Output.Trim();
        using TimingsFile timings = new();
        string config = timings.Path;
        AgentProcess a = await cluster.StartAgentAsync("a", extra: ["--encrypt", key, "--config", config]);
        await Task.WhenAll(new[] { "b", "c" }.Select(name => cluster.StartAgentAsync(name, join: a.GossipAddress, extra: ["--encrypt", key, "--config", config])));
        await cluster.WaitForAllAliveAsync("a", "b", "c");
        AgentProcess b = cluster["b"], c = cluster["c"];

        JsonElement victimBefore = await cluster.CliJsonAsync(a, "members", "show", "c");
        ulong generation = victimBefore.GetProperty("generation").GetUInt64();
        uint incarnation = (await cluster.CliJsonAsync(c, "status")).GetProperty("incarnation").GetUInt32();
        Dictionary<string, long> plaintextBefore = [];
        foreach (AgentProcess agent in new[] { a, b, c })
        {
            plaintextBefore[agent.Name] = await DropsAsync(cluster, agent, "plaintext");
        }

        NodeAddress victimAddress = NodeAddress.Parse(c.GossipAddress);
        byte[][] forgeries =
        [
            PacketBuilder.EncodeSingle(new DeadMessage("c", incarnation + 1, generation, "c")), // "c left"
            PacketBuilder.EncodeSingle(new DeadMessage("c", incarnation + 1, generation, "a")),
            PacketBuilder.EncodeSingle(new SuspectMessage("c", incarnation + 1, generation, "a")),
            PacketBuilder.EncodeSingle(new AliveMessage("c", NodeAddress.Parse("127.0.0.1:9"), 0, ulong.MaxValue, ProtocolVersions.Current, [])),
            PacketBuilder.EncodeSingle(new AliveMessage("ghost", NodeAddress.Parse("127.0.0.1:9"), 0, 1, ProtocolVersions.Current, [])),
            PacketBuilder.EncodeSingle(new StateDeltaMessage(false, [new OwnerDelta("b", generation, false, 1, 1_000_000_000_000, [new StateEntry("frozen", 1_000_000_000_000, false, 0, [1])])])),
            PacketBuilder.EncodeSingle(new UserEventMessage("b", generation, 1, ulong.MaxValue, 0, "forged", [])),
            PacketBuilder.EncodeSingle(new QueryMessage("c", generation, 1, 1, victimAddress, 1000, "rumor.ping", [], [])),
        ];
        using (Socket attacker = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            attacker.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            foreach (AgentProcess target in new[] { a, b, c })
            {
                IPEndPoint to = IPEndPoint.Parse(target.GossipAddress);
                foreach (byte[] forged in forgeries)
                {
                    await attacker.SendToAsync(forged, SocketFlags.None, to);
                }
            }

            // Every agent counts each forgery as refused plaintext (none is parsed past the envelope check).
            await cluster.WaitUntilAsync("every agent to count the forged datagrams as refused plaintext", Cluster.ConvergeBound, async () =>
            {
                List<string> behind = [];
                foreach (AgentProcess agent in new[] { a, b, c })
                {
                    long refused = await DropsAsync(cluster, agent, "plaintext") - plaintextBefore[agent.Name];
                    if (refused < forgeries.Length)
                    {
                        behind.Add($"{agent.Name} refused {refused} of {forgeries.Length}");
                    }
                }

                return behind.Count == 0 ? null : string.Join(", ", behind);
            });

            // Nothing amplified: no agent sent the attacker (or anyone, for the query) a reply.
            attacker.ReceiveTimeout = 1000;
            byte[] buffer = new byte[2048];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            SocketException? silence = Assert.Throws<SocketException>(() => attacker.ReceiveFrom(buffer, ref from));
            Assert.Equal(SocketError.TimedOut, silence.SocketErrorCode);
        }

        // Nobody recorded c as left or dead, no ghost, b's keys are not frozen, no forged event.
        await cluster.WaitForAllAliveAsync("a", "b", "c");
        foreach (AgentProcess observer in new[] { a, b })
        {
            JsonElement seen = await cluster.CliJsonAsync(observer, "members", "show", "c");
            Assert.Equal("alive", seen.GetProperty("state").GetString());
            Assert.Equal(generation, seen.GetProperty("generation").GetUInt64());
            Dictionary<string, JsonElement> members = await cluster.MembersAsync(observer);
            Assert.False(members.ContainsKey("ghost"), $"{observer.Name} lists the forged ghost");
            JsonElement events = await cluster.CliJsonAsync(observer, "events");
            Assert.DoesNotContain(events.EnumerateArray(), e => e.GetProperty("name").GetString() == "forged");
        }

        await cluster.CliOkAsync(b, "kv", "set", "after", "1");
        await cluster.WaitUntilAsync("b's write to reach a (its keys were not frozen)", Cluster.ConvergeBound, async () =>
        {
            CliResult read = await cluster.CliAsync(a, "kv", "get", "after", "--owner", "b", "--json");
            return read.ExitCode == 0 && read.Output.Contains("\"value\": \"1\"", StringComparison.Ordinal) ? null : read.Output + read.Error;
        });

        // c never had to refute: its incarnation is unchanged, unless an honest suspicion by a
        // member (a loaded machine missing a probe) made it, which the verdicts then show.
        uint incarnationAfter = (await cluster.CliJsonAsync(c, "status")).GetProperty("incarnation").GetUInt32();
        if (incarnationAfter != incarnation)
        {
            List<string> accusers = [];
            foreach (AgentProcess observer in new[] { a, b })
            {
                JsonElement shown = await cluster.CliJsonAsync(observer, "members", "show", "c");
                accusers.AddRange(shown.GetProperty("verdicts").EnumerateArray()
                    .Select(v => v.TryGetProperty("accuser", out JsonElement who) ? who.GetString() ?? string.Empty : string.Empty));
            }

            cluster.Check(accusers.Count > 0 && accusers.All(who => who is "a" or "b"), $"c refuted (incarnation {incarnation} → {incarnationAfter}) without an honest suspicion by a member; verdict accusers: {string.Join(", ", accusers)}");
        }
    });

    [Fact]
    public Task Keys_rotate_with_the_cli_and_an_agent_down_during_the_rotation_rejoins_with_the_current_ring() => Cluster.RunAsync(async cluster =>
    {
        string oldKey = (await cluster.CliAsync("keygen")).Output.Trim();
        using TimingsFile timings = new();
        string config = timings.Path;
        string newKey = (await cluster.CliAsync("keygen")).Output.Trim();
        AgentProcess a = await cluster.StartAgentAsync("a", extra: ["--encrypt", oldKey, "--config", config]);
        await Task.WhenAll(new[] { "b", "c" }.Select(name => cluster.StartAgentAsync(name, join: a.GossipAddress, extra: ["--encrypt", oldKey, "--config", config])));
        await cluster.WaitForAllAliveAsync("a", "b", "c");
        AgentProcess c = cluster["c"];

        CliResult installed = await cluster.CliOkAsync(a, "keys", "install", newKey, "--timeout", "20s");
        cluster.Check(installed.Output.Contains("3 of 3 members installed the key", StringComparison.Ordinal), "keys install should report 3 of 3 members.");
        CliResult refused = await cluster.CliAsync(a, "keys", "remove", oldKey, "--timeout", "20s");
        cluster.Check(refused.ExitCode == 1 && refused.Error.Contains("primary", StringComparison.Ordinal), $"keys remove of the primary key should fail naming the primary key; it exited {refused.ExitCode}: {refused.Error}");
        JsonElement listed = await cluster.CliJsonAsync(a, "keys", "list", "--timeout", "20s");
        Assert.Equal(2, listed.GetProperty("keys").GetArrayLength());
        Assert.All(listed.GetProperty("keys").EnumerateArray(), k => Assert.Equal(3, k.GetProperty("members").GetInt32()));

        // c goes down holding both keys with the old one primary; the others finish the rotation.
        c.Process.Kill();
        await cluster.WaitForStateAsync(["a", "b"], ["c"], "dead");
        // A key query spreads by gossip like any query: with the local preset and two live members it
        // is sent twice in all. Fresh-clone CI runs had b missing for all 20 s: both transmissions of
        // the relay went back to the member that sent it (fixed in session 18: a relayed query is
        // never sent back to its sender; QueryRelayTests). A CI run of stop 47 had b miss the first
        // try again: a's gossip rounds go to b and to c, dead for less than GossipToTheDeadTime, and
        // the kernel's sampler, 9 random draws over 3 members, left b out of 2.6 % of its rounds, so
        // both transmissions could go to c (in the simulator, 15 of 1,200 such queries missed b with
        // that sampler; session 38: it now counts the members left when its draws run out short;
        // QueryRelayTests, MemberSamplingTests). A lost datagram can still leave a member
        // without it, and 'keys use' is idempotent, so it is asked again, at most 3 times; each miss
        // records both members' packet and drop counters for the report.
        List<string> misses = [];
        int tries = 0;
        for (int attempt = 1; ; attempt++)
        {
            tries = attempt;
            CliResult used = await cluster.CliAsync(a, "keys", "use", newKey, "--timeout", "20s");
            if (used.ExitCode == 0 && used.Output.Contains("2 of 2 members made the key primary", StringComparison.Ordinal))
            {
                break;
            }

            StringBuilder miss = new($"try {attempt}: exit {used.ExitCode}: {used.Output.Trim()} {used.Error.Trim()}\n");
            foreach (AgentProcess member in new[] { a, cluster["b"] })
            {
                JsonElement status = await cluster.CliJsonAsync(member, "status");
                miss.Append(CultureInfo.InvariantCulture, $"    {member.Name} counters: {status.GetProperty("counters").GetRawText()}\n");
            }

            misses.Add(miss.ToString());
            cluster.Check(attempt < 3, $"keys use should report 2 of 2 members; 3 tries:\n{string.Join(string.Empty, misses)}");
        }

        await cluster.CliOkAsync(a, "keys", "remove", oldKey, "--timeout", "20s");

        // c restarts with its data directory (and its old --encrypt, which the stored ring overrides):
        // its join in the removed key goes unanswered, the retry in the new key is answered with the ring.
        AgentProcess again = await cluster.StartAgentAsync("c", join: a.GossipAddress, bind: c.GossipAddress, http: c.HttpAddress, extra: ["--encrypt", oldKey, "--config", config]);
        await cluster.WaitForAllAliveAsync("a", "b", "c");
        listed = await cluster.CliJsonAsync(again, "keys", "list", "--timeout", "20s");
        JsonElement only = Assert.Single(listed.GetProperty("keys").EnumerateArray());
        Assert.Equal(newKey, only.GetProperty("key").GetString());
        Assert.Equal(3, only.GetProperty("primaryOn").GetInt32());
        CliResult table = await cluster.CliOkAsync(a, "keys", "list", "--timeout", "20s");
        cluster.Check(table.Output.Contains(newKey, StringComparison.Ordinal) && table.Output.Contains("3/3", StringComparison.Ordinal) && !table.Output.Contains(oldKey, StringComparison.Ordinal), $"keys list should show only the new key on 3/3 members: {table.Output}");
        JsonElement stored = cluster.ParseJson(await File.ReadAllTextAsync(Path.Combine(c.DataDirectory, "keyring.json")), "c's keyring.json");
        string[] storedKeys = [.. stored.GetProperty("keys").EnumerateArray().Select(k => k.GetString()!)];
        cluster.Check(storedKeys.SequenceEqual([newKey]), $"c's keyring.json should hold only the new key; it holds {storedKeys.Length} key(s).");
        // Every request raises the ring's version by one on the asker (the request carries the asker's
        // version + 1; a member takes the larger): install, each 'keys use' sent, remove. A repeated
        // 'keys use' is one more request, so a retry above adds one (a CI run had b miss the first
        // try, and the check of version 3 then failed on a correct ring of version 4).
        ulong expectedVersion = 2 + (ulong)tries;
        ulong storedVersion = stored.GetProperty("version").GetUInt64();
        cluster.Check(storedVersion == expectedVersion, $"c's keyring.json should hold the ring of version {expectedVersion} (install, {tries} 'keys use', remove); it holds version {storedVersion}.");
    });

    /// <summary>
    /// A config file that lengthens the local preset's 1 s StreamTimeout to 10 s: on a loaded CI
    /// machine a join's push-pull reply can take longer than a second to be read.
    /// </summary>
    private sealed class TimingsFile : IDisposable
    {
        public TimingsFile() => File.WriteAllText(Path, "{ \"StreamTimeout\": \"00:00:10\" }");

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"rumor-e2e-timings-{Guid.NewGuid():N}.json");

        public void Dispose() => File.Delete(Path);
    }

    /// <summary>The agent's <c>rumor.drops</c> counter for <paramref name="reason"/>, from its Prometheus endpoint.</summary>
    private static async Task<long> DropsAsync(Cluster cluster, AgentProcess agent, string reason)
    {
        string text = await cluster.Http.GetStringAsync(new Uri(agent.HttpUrl, "/metrics"));
        string marker = $"reason=\"{reason}\"";
        foreach (string line in text.Split('\n'))
        {
            if (line.StartsWith("rumor_drops", StringComparison.Ordinal) && line.Contains(marker, StringComparison.Ordinal))
            {
                string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return (long)double.Parse(parts[1], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
