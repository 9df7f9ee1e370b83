using Rumor.Core;
using Rumor.Core.Events;
using Rumor.Core.Membership;
using Rumor.Core.Security;
using Xunit.Abstractions;

namespace Rumor.Simulation.Tests;

/// <summary>
/// Issue 12, live key rotation in virtual time: install → use → remove through the key queries
/// across a lossy cluster, with members offline at different steps. Each node's keyring is
/// "persisted" on every <see cref="KeyringChanged"/> (as the transport writes keyring.json) and a
/// restarted node starts from that copy. A member that still holds a key of the ring rejoins and
/// learns the current ring; one that holds none is refused and says why.
/// </summary>
public sealed class KeyRotationTests(ITestOutputHelper output)
{
    private static readonly byte[] OldKey = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
    private static readonly byte[] NewKey = [.. Enumerable.Range(101, 16).Select(i => (byte)i)];
    private static readonly TimeSpan StepBound = TimeSpan.FromSeconds(180);

    public static TheoryData<ulong> Seeds => [1301, 1302, 1303, 1304, 1305, 1306];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void A_rotation_reaches_every_member_and_members_offline_during_it_rejoin_or_are_refused(ulong seed)
    {
        Dictionary<int, GossipKeyring> persisted = [];
        SimCluster cluster = new(new SimulationOptions
        {
            Seed = Sim.SeedOr(seed),
            Gossip = Sim.Lan,
            Network = new NetworkOptions { LossProbability = 0.05 },
        });
        cluster.AddNodes(10, node => Sim.Lan with
        {
            Seeds = cluster.SeedAddresses,
            Keyring = persisted.TryGetValue(node.Index, out GossipKeyring? ring) ? ring : new GossipKeyring([OldKey], "sim"),
        });
        cluster.Observe((node, gossipEvent) =>
        {
            if (gossipEvent is KeyringChanged && node.Node?.Keyring is { } ring)
            {
                persisted[node.Index] = ring.Clone();
            }
        });
        List<string> joinFailures = [];
        cluster.Observe((node, gossipEvent) =>
        {
            if (gossipEvent is JoinFailed failed)
            {
                joinFailures.Add($"{node.Name}: {failed.Reason}");
            }
        });

        cluster.StartAll(TimeSpan.FromMilliseconds(10));
        Sim.Converge(cluster, TimeSpan.FromSeconds(60), "10 encrypted nodes joining");
        foreach (SimNode node in cluster.Nodes)
        {
            AnswerKeyQueries(node);
        }

        SimNode asker = cluster.Nodes[0];
        SimNode missesAll = cluster.Nodes[5];   // offline from before the install to the end: holds no key of the final ring
        SimNode missesUse = cluster.Nodes[6];   // offline from before the install until after the use: holds the old key, still in the ring
        SimNode missesRemove = cluster.Nodes[7]; // offline from after the install to the end: holds both, the old one primary
        cluster.Crash(missesAll);
        cluster.Crash(missesUse);

        RunKeyQuery(cluster, asker, KeyOperation.Install, NewKey, ringVersion: 1, offline: [missesAll, missesUse]);
        WaitForRing(cluster, "after install", ring => ring.Contains(NewKey) && ring.Version == 1);
        cluster.Crash(missesRemove);

        RunKeyQuery(cluster, asker, KeyOperation.Use, NewKey, ringVersion: 2, offline: [missesAll, missesUse, missesRemove]);
        WaitForRing(cluster, "after use", ring => ring.Version == 2 && Same(ring.PrimaryKey, NewKey) && ring.Contains(OldKey));

        // Back after the use, holding only the old key, which the ring still has: it joins in the old
        // key, the seed answers in that key with the current ring, and it adopts it.
        Restart(cluster, missesUse);
        WaitForRing(cluster, "the member back after the use", ring => ring.Version == 2 && Same(ring.PrimaryKey, NewKey) && ring.Contains(OldKey));
        Sim.Converge(cluster, StepBound, "the member back after the use rejoining");

        RunKeyQuery(cluster, asker, KeyOperation.Remove, OldKey, ringVersion: 3, offline: [missesAll, missesRemove]);
        WaitForRing(cluster, "after remove", ring => ring.Version == 3 && ring.Keys.Count == 1 && Same(ring.PrimaryKey, NewKey));

        // Back after the remove, holding both keys with the removed one primary: the join in the old
        // key is not answered, the retry in the new key is, and it learns the ring without the old key.
        Restart(cluster, missesRemove);
        WaitForRing(cluster, "the member back after the remove", ring => ring.Version == 3 && ring.Keys.Count == 1 && Same(ring.PrimaryKey, NewKey));
        Sim.Converge(cluster, StepBound, "the member back after the remove rejoining");
        Assert.True(persisted.TryGetValue(missesRemove.Index, out GossipKeyring? learnt) && learnt.Version == 3, "the learnt ring was reported for persistence");

        // Back holding only the removed key: nobody can read it, and its join failure says why.
        joinFailures.Clear();
        long unauthenticatedBefore = asker.LiveNode.Counters.PacketsUnauthenticated;
        cluster.Restart(missesAll);
        AnswerKeyQueries(missesAll);
        cluster.RunFor(TimeSpan.FromSeconds(60));
        Assert.Contains(joinFailures, f => f.StartsWith(missesAll.Name, StringComparison.Ordinal) && f.Contains("holds none of them", StringComparison.Ordinal));
        Assert.Equal(0ul, missesAll.LiveNode.Keyring!.Version);
        foreach (SimNode node in cluster.LiveNodes.Where(n => n != missesAll))
        {
            Assert.NotEqual(MemberState.Alive, node.StateOf(missesAll.Name) ?? MemberState.Dead);
            Assert.NotEqual(missesAll.LiveNode.Self.Generation, node.LiveNode.FindMember(missesAll.Name)?.Generation ?? 0);
        }

        Assert.True(asker.LiveNode.Counters.PacketsUnauthenticated > unauthenticatedBefore, "the seed counted the refused member's join as unauthenticated");
        cluster.Crash(missesAll);
        Sim.Converge(cluster, StepBound, "the rest after the refused member stopped");
        Sim.NoViolations(cluster);
        output.WriteLine($"seed {cluster.Seed}: rotated in {cluster.Now.TotalSeconds:0} s of virtual time");
    }

    [Fact]
    public void Key_operations_refuse_what_would_lock_a_member_out()
    {
        SimCluster cluster = Sim.Cluster(seed: 1310, nodes: 1, gossip: Sim.Lan with { Keyring = new GossipKeyring([OldKey]) });
        cluster.StartAll();
        cluster.RunFor(TimeSpan.FromSeconds(1));
        GossipNode node = cluster.Nodes[0].LiveNode;
        Assert.Contains("primary", node.ApplyKeyOperation(KeyOperation.Remove, OldKey, 1), StringComparison.Ordinal);
        Assert.Contains("install it first", node.ApplyKeyOperation(KeyOperation.Use, NewKey, 1), StringComparison.Ordinal);
        Assert.Contains("16, 24 or 32", node.ApplyKeyOperation(KeyOperation.Install, [1, 2, 3], 1), StringComparison.Ordinal);
        Assert.Equal(0ul, node.Keyring!.Version);
        Assert.Null(node.ApplyKeyOperation(KeyOperation.Install, NewKey, 1));
        Assert.Null(node.ApplyKeyOperation(KeyOperation.Remove, [.. Enumerable.Repeat((byte)9, 32)], 1)); // absent: nothing to do
        Assert.Equal(1ul, node.Keyring!.Version);
        Assert.Equal(2, node.Keyring!.Keys.Count);

        SimCluster plain = Sim.Cluster(seed: 1311, nodes: 1);
        plain.StartAll();
        plain.RunFor(TimeSpan.FromSeconds(1));
        Assert.Contains("encryption is off", plain.Nodes[0].LiveNode.ApplyKeyOperation(KeyOperation.Install, NewKey, 1), StringComparison.Ordinal);
    }

    [Fact]
    public void A_ring_section_round_trips_and_malformed_ones_are_refused()
    {
        using GossipKeyring ring = new([NewKey, OldKey], "sim", version: 7);
        Core.Wire.Messages.StateSection section = KeyringSection.Encode(ring);
        Assert.True(KeyringSection.TryDecode(section.Data, out ulong version, out IReadOnlyList<byte[]> keys));
        Assert.Equal(7ul, version);
        Assert.Equal([NewKey, OldKey], keys);
        Assert.False(KeyringSection.TryDecode(section.Data.AsSpan(0, section.Data.Length - 1), out _, out _));
        Assert.False(KeyringSection.TryDecode([.. section.Data, 0], out _, out _));
        byte[] badLength = [.. section.Data];
        badLength[9] = 17;
        Assert.False(KeyringSection.TryDecode(badLength, out _, out _));
        byte[] noKeys = [.. section.Data[..8], 0];
        Assert.False(KeyringSection.TryDecode(noKeys, out _, out _));
    }

    private static void AnswerKeyQueries(SimNode node) =>
        node.Command((n, _) => n.QueryResponder = request => KeyringQueries.TryAnswer(n, request));

    private static void Restart(SimCluster cluster, SimNode node)
    {
        cluster.Restart(node);
        AnswerKeyQueries(node);
    }

    private static void RunKeyQuery(SimCluster cluster, SimNode asker, KeyOperation operation, byte[] key, ulong ringVersion, SimNode[] offline)
    {
        ulong id = asker.Command((n, now) => n.Query(KeyringQueries.NameOf(operation), KeyringQueries.EncodeRequest(ringVersion, key), null, TimeSpan.FromSeconds(10), now));
        cluster.RunFor(TimeSpan.FromSeconds(11));
        QueryResult result = asker.LiveNode.GetQueryResult(id) ?? throw new InvalidOperationException("the query was forgotten");
        Assert.True(result.Done);
        Assert.All(result.Responses, answer => Assert.True(KeyringQueries.DecodeAnswer(answer.Payload).Ok, $"{answer.From}: {KeyringQueries.DecodeAnswer(answer.Payload).Error}"));
        Assert.DoesNotContain(result.Responses, answer => offline.Any(n => n.Name == answer.From));
        Assert.Equal(result.Expected.Count, result.Responses.Count + result.Missing.Count);
        Assert.True(result.Responses.Count >= 1);
    }

    /// <summary>Runs until every live node's ring satisfies <paramref name="holds"/> (anti-entropy brings members that missed the query).</summary>
    private static void WaitForRing(SimCluster cluster, string what, Func<GossipKeyring, bool> holds)
    {
        if (cluster.RunUntil(() => cluster.LiveNodes.All(n => holds(n.LiveNode.Keyring!)), StepBound) is null)
        {
            string rings = string.Join("; ", cluster.LiveNodes.Select(n => $"{n.Name} v{n.LiveNode.Keyring!.Version} keys={n.LiveNode.Keyring!.Keys.Count} primaryNew={Same(n.LiveNode.Keyring!.PrimaryKey, NewKey)}"));
            Sim.Fail(cluster, $"{what}: the rings did not agree within {StepBound.TotalSeconds} s: {rings}");
        }
    }

    private static bool Same(byte[] a, byte[] b) => a.AsSpan().SequenceEqual(b);
}
