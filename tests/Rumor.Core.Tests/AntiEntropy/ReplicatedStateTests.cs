using System.Text;
using Rumor.Core.AntiEntropy;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.Tests.AntiEntropy;

public sealed class ReplicatedStateTests
{
    private static readonly TimeSpan T0 = TimeSpan.FromSeconds(1);

    private static StateDeltaMessage RoundTrip(StateDeltaMessage delta)
    {
        byte[] packet = PacketBuilder.EncodeSingle(delta);
        Assert.Equal(DecodeError.None, PacketReader.TryOpen(packet, WireLimits.StreamMaxBytes, out PacketReader reader));
        Assert.True(reader.TryNext(out MessageType type, out ReadOnlySpan<byte> payload, out _));
        Assert.Equal(MessageType.StateDelta, type);
        Assert.Equal(DecodeError.None, StateDeltaMessage.TryDecode(payload, null, out StateDeltaMessage decoded));
        return decoded;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Deltas_for_a_digest_in_owner_order_equal_those_for_the_same_digest_in_any_order(int seed)
    {
        // A digest in increasing ordinal order is walked beside the rows; any other order, or an
        // owner repeated, goes through a dictionary that keeps each owner's first entry. Same deltas.
        Random random = new(seed);
        ReplicatedState a = new("a", 1);
        List<string> owners = [];
        for (int o = 0; o < 40; o++)
        {
            string name = "owner-" + random.Next(1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture) + (o % 3 == 0 ? "Z" : "a");
            ReplicatedState writer = new(name, (ulong)random.Next(1, 3));
            for (int k = random.Next(1, 6); k > 0; k--)
            {
                writer.WriteLocal("k" + random.Next(4).ToString(System.Globalization.CultureInfo.InvariantCulture), [1, 2, 3], 0, T0);
            }

            a.Apply(writer.DeltasFor([], 1_000_000, null), T0, 1_000, out _);
            owners.Add(name);
        }

        // The peer's view: some owners missing, some behind, equal or ahead, some of another generation, some unknown to us.
        List<DigestEntry> peer = [];
        foreach (string name in owners.Concat(["unknown-1", "a", "zz-unknown"]).Distinct())
        {
            if (random.Next(5) == 0)
            {
                continue;
            }

            peer.Add(new DigestEntry(name, (ulong)random.Next(1, 3), (ulong)random.Next(0, 7)));
        }

        DigestEntry[] ordered = [.. peer.OrderBy(e => e.Owner, StringComparer.Ordinal)];
        DigestEntry[] shuffled = [.. ordered.OrderBy(_ => random.Next())];
        List<DigestEntry> repeated = [.. ordered];
        int at = random.Next(repeated.Count);
        repeated.Insert(at + 1, repeated[at] with { MaxVersion = repeated[at].MaxVersion + 3 }); // the first entry counts

        foreach (int budget in new[] { 1_000_000, 300 })
        {
            byte[] walked = PacketBuilder.EncodeSingle(a.DeltasFor(ordered, budget, "b"));
            Assert.Equal(walked, PacketBuilder.EncodeSingle(a.DeltasFor(shuffled, budget, "b")));
            Assert.Equal(walked, PacketBuilder.EncodeSingle(a.DeltasFor(repeated, budget, "b")));
        }

        Assert.NotEmpty(a.DeltasFor(ordered, 1_000_000, "b").Owners);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Owners_are_served_most_missing_first_ties_in_name_order_each_with_exactly_its_entries(int seed)
    {
        // Pack's order (scuttle-depth) by a sort of (missing, index) keys: the model is LINQ's
        // stable OrderByDescending over the owners in name order, as Pack used before.
        Random random = new(seed);
        ReplicatedState a = new("a", 1);
        Dictionary<string, int> keys = [];
        for (int o = 0; o < 60; o++)
        {
            string name = "owner-" + random.Next(1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (keys.ContainsKey(name))
            {
                continue;
            }

            ReplicatedState writer = new(name, 1);
            int count = random.Next(1, 5); // few counts: many ties
            for (int k = 0; k < count; k++)
            {
                writer.WriteLocal("k" + k.ToString(System.Globalization.CultureInfo.InvariantCulture), [(byte)k], 0, T0);
            }

            a.Apply(writer.DeltasFor([], 1_000_000, null), T0, 1_000, out _);
            keys[name] = count;
        }

        string[] model = [.. keys.Keys.Order(StringComparer.Ordinal).OrderByDescending(name => keys[name])];
        StateDeltaMessage delta = a.DeltasFor([], 1_000_000, null);
        Assert.Equal(model, delta.Owners.Select(o => o.Owner).Where(o => o != "a"));
        Assert.All(delta.Owners, o => Assert.Equal(keys[o.Owner], o.Entries.Count));
        Assert.All(delta.Owners, o => Assert.Equal(o.Entries.Count, Assert.IsType<StateEntry[]>(o.Entries).Length));
        Assert.False(delta.MorePending);

        // Cut by a budget: a prefix of the same order (owners skipped when their next entry does not fit).
        StateDeltaMessage cut = a.DeltasFor([], 400, null);
        Assert.True(cut.MorePending);
        string[] served = [.. cut.Owners.Select(o => o.Owner)];
        Assert.Equal(served, model.Where(served.Contains));
        Assert.All(cut.Owners, o => Assert.Equal(o.Entries.Count, Assert.IsType<StateEntry[]>(o.Entries).Length));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Deltas_encoded_straight_from_the_rows_are_the_bytes_of_the_message(int seed)
    {
        // Streams encode deltas without OwnerDelta objects (EncodedDeltasFor): the same bytes as
        // encoding DeltasFor's message, for full and Bloom digests, cut by budgets or not.
        Random random = new(seed);
        ReplicatedState a = new("a", 1);
        List<string> owners = [];
        for (int o = 0; o < 50; o++)
        {
            string name = "owner-" + random.Next(1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
            ReplicatedState writer = new(name, (ulong)random.Next(1, 3));
            for (int k = random.Next(1, 8); k > 0; k--)
            {
                byte[] value = new byte[random.Next(0, 40)];
                random.NextBytes(value);
                writer.WriteLocal("key-" + random.Next(6).ToString(System.Globalization.CultureInfo.InvariantCulture), random.Next(5) == 0 ? null : value, 0, T0);
            }

            a.Apply(writer.DeltasFor([], 1_000_000, null), T0, 1_000, out _);
            owners.Add(name);
        }

        List<DigestEntry> peer = [];
        foreach (string name in owners.Distinct().Order(StringComparer.Ordinal))
        {
            if (random.Next(4) != 0)
            {
                peer.Add(new DigestEntry(name, (ulong)random.Next(1, 3), (ulong)random.Next(0, 8)));
            }
        }

        ReplicatedState peerState = new("b", 1);
        for (int o = 0; o < owners.Count; o += 2)
        {
            ReplicatedState writer = new(owners[o], 1);
            writer.WriteLocal("x", [1], 0, T0);
            peerState.Apply(writer.DeltasFor([], 1_000_000, null), T0, 1_000, out _);
        }

        BloomDigest bloom = peerState.BloomDigest(0.01, (uint)seed);
        foreach (int budget in new[] { 1_000_000, 2_000, 300, 40 })
        {
            StateDeltaMessage message = a.DeltasFor(peer, budget, "b");
            using PooledBytes encoded = a.EncodedDeltasFor(peer, budget, "b", out int count);
            Assert.Equal(PacketBuilder.EncodeMessage(message), encoded.Span.ToArray());
            Assert.Equal(message.Owners.Count, count);

            StateDeltaMessage fromBloom = a.DeltasForBloom(bloom, budget, "b");
            using PooledBytes encodedBloom = a.EncodedDeltasForBloom(bloom, budget, "b", out int bloomCount);
            Assert.Equal(PacketBuilder.EncodeMessage(fromBloom), encodedBloom.Span.ToArray());
            Assert.Equal(fromBloom.Owners.Count, bloomCount);
        }

        Assert.NotEmpty(a.DeltasFor(peer, 1_000_000, "b").Owners);
        Assert.True(a.DeltasFor(peer, 300, "b").MorePending);
    }

    [Fact]
    public void Deltas_bring_a_peer_up_to_date_and_round_trip_through_the_codec()
    {
        ReplicatedState a = new("a", 1);
        ReplicatedState b = new("b", 1);
        for (int i = 0; i < 100; i++)
        {
            a.WriteLocal($"k{i % 30}", Encoding.UTF8.GetBytes($"v{i}"), 0, T0);
        }

        StateDeltaMessage delta = RoundTrip(a.DeltasFor(b.Digest(), 1_000_000, "b"));
        Assert.False(delta.MorePending);
        b.Apply(delta, T0, 100, out int ignored);
        Assert.Equal(0, ignored);
        Assert.Equal(a.Checksum, b.Checksum);
        Assert.Equal(30, b.Find("a")!.Value.Count);
        Assert.True(b.Find("a")!.Value.TryFind("k9", out StoredEntry k9));
        Assert.Equal("v99", Encoding.UTF8.GetString(k9.Value));
    }

    [Fact]
    public void A_small_budget_sends_a_contiguous_prefix_and_flags_the_rest()
    {
        ReplicatedState a = new("a", 1);
        ReplicatedState b = new("b", 1);
        for (int i = 0; i < 200; i++)
        {
            a.WriteLocal($"key-{i}", new byte[20], 0, T0);
        }

        int rounds = 0;
        while (b.Find("a")?.MaxVersion != 200 && rounds++ < 100)
        {
            StateDeltaMessage delta = RoundTrip(a.DeltasFor(b.Digest(), 1200, "b"));
            Assert.True(delta.PayloadLength <= 1200);
            b.Apply(delta, T0, 100, out int ignored);
            Assert.Equal(0, ignored);
        }

        Assert.Equal(a.Checksum, b.Checksum);
        Assert.InRange(rounds, 2, 100);
    }

    [Fact]
    public void A_delta_that_would_leave_a_gap_is_ignored()
    {
        ReplicatedState a = new("a", 1);
        ReplicatedState b = new("b", 1);
        for (int i = 0; i < 10; i++)
        {
            a.WriteLocal($"k{i}", [1], 0, T0);
        }

        // Pretend b holds a up to version 5: the delta starts at 5, but b has nothing.
        StateDeltaMessage gap = a.DeltasFor([new DigestEntry("a", 1, 5)], 100_000, "b");
        b.Apply(gap, T0, 100, out int ignored);
        Assert.Equal(1, ignored);
        Assert.Null(b.Find("a"));
    }

    [Fact]
    public void A_peer_older_than_collected_tombstones_gets_a_reset()
    {
        ReplicatedState a = new("a", 1);
        ReplicatedState b = new("b", 1);
        a.WriteLocal("x", [1], 0, T0);
        a.WriteLocal("y", [2], 0, T0);
        b.Apply(a.DeltasFor(b.Digest(), 100_000, "b"), T0, 100, out _);
        a.WriteLocal("x", null, 0, T0);
        Assert.Equal(1, a.CollectTombstones(T0 + TimeSpan.FromHours(2), TimeSpan.FromHours(1)));

        StateDeltaMessage delta = RoundTrip(a.DeltasFor(b.Digest(), 100_000, "b"));
        Assert.True(delta.Owners[0].Reset);
        b.Apply(delta, T0, 100, out _);
        Assert.False(b.Find("a")!.Value.TryFind("x", out _));
        Assert.True(b.Find("a")!.Value.TryFind("y", out _));
        Assert.Equal(a.Checksum, b.Checksum);
    }

    [Fact]
    public void Bloom_deltas_find_the_peers_version_or_ask_for_a_full_digest()
    {
        ReplicatedState a = new("a", 1);
        ReplicatedState b = new("b", 1);
        for (int i = 0; i < 5; i++)
        {
            a.WriteLocal($"k{i}", [1], 0, T0);
        }

        b.Apply(a.DeltasFor(b.Digest(), 100_000, "b"), T0, 100, out _);
        a.WriteLocal("k9", [9], 0, T0);
        StateDeltaMessage delta = RoundTrip(a.DeltasForBloom(b.BloomDigest(0.01, 7), 100_000, "b"));
        Assert.Single(delta.Owners);
        Assert.Equal(5UL, delta.Owners[0].FromVersion);
        b.Apply(delta, T0, 100, out _);
        Assert.Equal(a.Checksum, b.Checksum);

        // A peer that never heard of the owner cannot be located in the filter: fall back.
        ReplicatedState c = new("c", 1);
        StateDeltaMessage fallback = a.DeltasForBloom(c.BloomDigest(0.01, 8), 100_000, "c");
        Assert.True(fallback.MorePending);
    }
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Owners_added_and_removed_at_random_stay_found_and_in_name_order(int seed)
    {
        // The rows sit in dense slots (a removal moves the last row into the freed slot) behind a
        // name order of slots: checked against a sorted dictionary through adds, removals and re-adds.
        Random random = new(seed);
        ReplicatedState state = new("m-local", 1);
        SortedDictionary<string, ulong> model = new(StringComparer.Ordinal);
        for (int step = 0; step < 3_000; step++)
        {
            string owner = $"m{random.Next(300):D3}";
            if (random.Next(3) > 0)
            {
                ulong version = model.TryGetValue(owner, out ulong held) ? held + 1 : 1;
                StateEntry entry = new("k", version, false, 0, BitConverter.GetBytes(version));
                OwnerDelta delta = new(owner, 1, false, version - 1, version, [entry]);
                state.Apply(new StateDeltaMessage(false, [delta]), T0, 1_000, out int ignored);
                Assert.Equal(0, ignored);
                model[owner] = version;
            }
            else
            {
                List<AppliedChange> removed = state.RemoveOwner(owner);
                Assert.Equal(model.Remove(owner) ? 1 : 0, removed.Count);
            }

            if (step % 100 == 0 || step == 2_999)
            {
                Assert.Equal(["m-local", .. model.Keys], state.Owners.Select(o => o.Owner));
                Assert.Equal(model.Count + 1, state.OwnerCount);
                foreach ((string name, ulong version) in model)
                {
                    OwnerState row = state.Find(name)!.Value;
                    Assert.Equal(version, row.MaxVersion);
                    Assert.True(row.TryFind("k", out StoredEntry entry));
                    Assert.Equal(version, BitConverter.ToUInt64(entry.Value));
                }
            }
        }

        // The local owner (slot 0) is never removed and still takes writes.
        Assert.Empty(state.RemoveOwner("m-local"));
        state.WriteLocal("x", [1], 0, T0);
        Assert.Equal(1UL, state.Find("m-local")!.Value.MaxVersion);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void The_checksum_line_count_and_length_kept_as_owners_change_equal_a_pass_over_every_owner(int seed)
    {
        // Writes, tombstones, exchanges cut to small budgets, Bloom exchanges, restarts in a new
        // generation, collected tombstones (hence resets) and reaped owners, in random order: after
        // each, every node's checksum, digest line count and digest length equal a pass over its rows.
        Random random = new(seed);
        string[] names = ["n0", "n1", "n2", "n3", "n4", "n5"];
        ReplicatedState[] nodes = [.. names.Select(n => new ReplicatedState(n, 1))];
        ulong[] generations = [.. names.Select(_ => 1UL)];
        TimeSpan now = T0;
        for (int step = 0; step < 600; step++)
        {
            int i = random.Next(nodes.Length);
            int j = (i + 1 + random.Next(nodes.Length - 1)) % nodes.Length;
            switch (random.Next(10))
            {
                case 0 or 1 or 2:
                    nodes[i].WriteLocal("k" + random.Next(12).ToString(System.Globalization.CultureInfo.InvariantCulture), random.Next(5) == 0 ? null : [(byte)step], 0, now);
                    break;
                case 3 or 4 or 5:
                    StateDeltaMessage delta = nodes[i].DeltasFor(nodes[j].Digest(), random.Next(2) == 0 ? 150 : 100_000, names[j]);
                    nodes[j].Apply(random.Next(2) == 0 ? RoundTrip(delta) : delta, now, 100, out _);
                    break;
                case 6:
                    nodes[j].Apply(nodes[i].DeltasForBloom(nodes[j].BloomDigest(0.01, (uint)step), 100_000, names[j]), now, 100, out _);
                    break;
                case 7:
                    if (random.Next(4) == 0)
                    {
                        nodes[i] = new ReplicatedState(names[i], ++generations[i]);
                    }

                    break;
                case 8:
                    now += TimeSpan.FromMinutes(random.Next(1, 40));
                    nodes[i].CollectTombstones(now, TimeSpan.FromMinutes(30));
                    break;
                default:
                    nodes[i].RemoveOwner(names[j]);
                    break;
            }

            foreach (ReplicatedState node in nodes)
            {
                ulong sum = 0;
                int count = 0, length = 0;
                foreach (OwnerState owner in node.Owners)
                {
                    if (owner.MaxVersion > 0)
                    {
                        sum += ReplicatedState.TermOf(owner.Owner, owner.Generation, owner.MaxVersion);
                        count++;
                        length += StateDigestMessage.EntryLength(owner.Owner);
                    }
                }

                Assert.True(StableHash.FnvOffsetBasis + sum == node.Checksum, $"seed {seed}, step {step}: checksum kept {node.Checksum:x16}, a pass gives {StableHash.FnvOffsetBasis + sum:x16}");
                Assert.Equal(count, node.Digest().Length);
                Assert.Equal(length, node.DigestEntriesLength());
            }
        }

        // Equal digests, equal checksums, whatever order the owners arrived in.
        for (int round = 0; round < 40; round++)
        {
            for (int i = 0; i < nodes.Length; i++)
            {
                for (int j = 0; j < nodes.Length; j++)
                {
                    if (i != j)
                    {
                        nodes[j].Apply(nodes[i].DeltasFor(nodes[j].Digest(), 100_000, names[j]), now, 100, out _);
                    }
                }
            }
        }

        Assert.All(nodes, node => Assert.Equal(nodes[0].Checksum, node.Checksum));
    }

    [Fact]
    public void The_checksum_is_the_offset_basis_plus_each_written_owners_term_as_PROTOCOL_gives_it()
    {
        // Written out here from PROTOCOL.md §6.9, apart from StableHash, so that a change to the
        // formula or to the hashes under it (what members compare across versions) fails.
        static ulong Fnv(string text)
        {
            ulong h = 14695981039346656037UL;
            foreach (char c in text)
            {
                h = (h ^ c) * 1099511628211UL;
            }

            return h;
        }

        static ulong SplitMix(ulong z)
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        static ulong Term(string owner, ulong generation, ulong maxVersion) => SplitMix(SplitMix(Fnv(owner) ^ generation) ^ maxVersion);

        ReplicatedState state = new("zeta", 7);
        Assert.Equal(0xcbf29ce484222325UL, state.Checksum); // nothing written: the offset basis, as the fold gave
        state.WriteLocal("k", [1], 0, T0);
        state.WriteLocal("k", [2], 0, T0);
        ReplicatedState other = new("alpha", 3);
        other.WriteLocal("x", [1], 0, T0);
        state.Apply(other.DeltasFor(state.Digest(), 100_000, "zeta"), T0, 100, out _);
        ReplicatedState silent = new("mid", 1); // knows of no write: not in the digest, no term
        state.Apply(silent.DeltasFor(state.Digest(), 100_000, "zeta"), T0, 100, out _);
        Assert.Equal(unchecked(0xcbf29ce484222325UL + Term("zeta", 7, 2) + Term("alpha", 3, 1)), state.Checksum);
        Assert.Equal(0x04f236a17c5d16dfUL, state.Checksum);
    }
}
