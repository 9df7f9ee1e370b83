using Rumor.Core.AntiEntropy;
using Rumor.Core.Wire;

namespace Rumor.Core.Tests.AntiEntropy;

/// <summary>The compact owner map behaves the same in its single-entry and array forms and past the switch to the indexed form.</summary>
public sealed class OwnerStateTests
{
    // Each write's time is its version in milliseconds, so a row that mixed up its times shows; a
    // third of them have a time to live (only those, and tombstones, keep their time).
    private static StoredEntry Entry(string key, ulong version) => new(key, version, false, Ttl(version), [1, 2], TimeSpan.FromMilliseconds(version));

    private static uint Ttl(ulong version) => version % 3 == 0 ? 60_000u : 0;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(OwnerState.SmallMax)]
    [InlineData(OwnerState.SmallMax + 1)]
    [InlineData(40)]
    public void Entries_stay_in_version_order_with_one_per_key(int keys)
    {
        OwnerState owner = new("a", 1);
        Dictionary<string, ulong> expected = [];
        ulong version = 0;

        // Each key written twice, out of order for half of them: only the newest version stays.
        for (int round = 0; round < 2; round++)
        {
            for (int k = 0; k < keys; k++)
            {
                string key = $"k{(k * 7) % keys}";
                version++;
                Assert.True(owner.TryPut(Entry(key, version), out StoredEntry replaced));
                Assert.Equal(round == 1, replaced.Key is not null);
                expected[key] = version;
                owner.MaxVersion = version;
            }
        }

        Assert.False(owner.TryPut(Entry("k0", 1), out _)); // older than what is held
        Assert.Equal(keys, owner.Count);
        Assert.Equal(expected.Values.Order(), owner.Entries.Select(e => e.Version));
        foreach ((string key, ulong v) in expected)
        {
            Assert.True(owner.TryFind(key, out StoredEntry found));
            Assert.Equal(v, found.Version);
        }

        ulong middle = expected.Values.Order().ElementAt(keys / 2);
        Assert.Equal(expected.Values.Count(v => v > middle), owner.CountAbove(middle));
        Assert.Equal(expected.Values.Where(v => v > middle).Order(), owner.Above(middle).Select(e => e.Version));

        StoredEntry first = owner.Entries.First();
        owner.Remove(Entry(first.Key, first.Version - 1)); // an older write of the key: not removed
        Assert.Equal(keys, owner.Count);
        owner.Remove(first);
        Assert.Equal(keys - 1, owner.Count);
        Assert.False(owner.TryFind(first.Key, out _));

        owner.Clear(2);
        Assert.Equal(0, owner.Count);
        Assert.Empty(owner.Entries);
        Assert.Equal(0, owner.Bytes);
    }

    [Theory]
    [InlineData(1, 3, false)]
    [InlineData(2, 9, false)]
    [InlineData(3, 12, false)]
    [InlineData(4, 30, false)]
    [InlineData(5, 6, false)]
    [InlineData(1, 3, true)]
    [InlineData(2, 9, true)]
    [InlineData(5, 6, true)]
    public void Random_puts_and_removes_match_a_plain_dictionary(int seed, int keyCount, bool shared)
    {
        // Model: key -> (version, tombstone), the newest write of each key. Every step checks the
        // whole map (count, version order, lookups, ranges), so each form switch (none, one inline,
        // array, indexed) and each way back is compared with the model.
        // With a shared table (a simulation's), single entries take shared bodies.
        NameTable? names = shared ? new NameTable(internStateEntries: true) : null;
        Random random = new(seed);
        OwnerState owner = new("a", 1);
        Dictionary<string, ulong> model = [];
        ulong version = 0;
        HashSet<ulong> usedVersions = [];
        for (int step = 0; step < 3000; step++)
        {
            string key = $"k{random.Next(keyCount)}";
            int action = random.Next(10);
            if (action < 6)
            {
                // Distinct versions in random order (deltas may bring an older key's write after a newer one's).
                version += 2;
                ulong v = version - (ulong)random.Next(2) * (ulong)random.Next(1, (int)Math.Min(version, 40UL) / 2 + 1) * 2 + 1;
                while (!usedVersions.Add(v))
                {
                    v += 2;
                }

                bool newer = !model.TryGetValue(key, out ulong old) || old < v;
                Assert.Equal(newer, owner.TryPut(Entry(key, v), out StoredEntry replaced, names));
                if (newer)
                {
                    Assert.Equal(old, replaced.Key is null ? 0 : replaced.Version);
                    model[key] = v;
                }

                owner.MaxVersion = Math.Max(owner.MaxVersion, v);
            }
            else if (action < 9 && model.TryGetValue(key, out ulong held))
            {
                owner.Remove(Entry(key, held + 1)); // not the held write: stays
                owner.Remove(Entry(key, held));
                model.Remove(key);
            }
            else if (action == 9 && random.Next(20) == 0)
            {
                owner.Clear(2);
                model.Clear();
                usedVersions.Clear();
            }

            Assert.Equal(model.Count, owner.Count);
            Assert.Equal(model.Values.Order(), owner.Entries.Select(e => e.Version));
            Assert.Equal(model.Keys.Order(StringComparer.Ordinal), owner.Entries.Select(e => e.Key).Order(StringComparer.Ordinal));
            if (model.TryGetValue(key, out ulong current))
            {
                Assert.False(owner.TryPut(Entry(key, current), out _, names)); // the same version again: refused
            }

            if (model.Count > 0)
            {
                ulong middle = model.Values.Order().ElementAt(model.Count / 2);
                Assert.Equal(model.Values.Where(v => v > middle).Order(), owner.Above(middle).Select(e => e.Version));
                Assert.Equal(model.Values.Count(v => v > middle), owner.CountAbove(middle));
            }

            for (int k = 0; k < keyCount; k++)
            {
                string probe = $"k{k}";
                Assert.Equal(model.TryGetValue(probe, out ulong v), owner.TryFind(probe, out StoredEntry found));
                Assert.Equal(v, found.Key is null ? 0 : found.Version);
                if (found.Key is not null && Ttl(v) > 0)
                {
                    Assert.Equal(TimeSpan.FromMilliseconds(v), found.UpdatedAt);
                }
                else if (found.Key is not null)
                {
                    // Never read for an entry without a time to live: kept in the array forms, zero alone.
                    Assert.Contains(found.UpdatedAt, new[] { TimeSpan.Zero, TimeSpan.FromMilliseconds(v) });
                }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(OwnerState.SmallMax)]
    [InlineData(OwnerState.SmallMax + 3)]
    public void Only_tombstones_past_the_grace_are_collected_and_raise_the_gc_version(int keys)
    {
        // Key i is written at i seconds; even keys are tombstones. With a grace of 10 s at now =
        // keys + 5 s, the tombstones written at or before keys - 5 s go.
        OwnerState owner = new("a", 1);
        for (int i = 0; i < keys; i++)
        {
            Assert.True(owner.TryPut(new StoredEntry($"k{i}", (ulong)i + 1, i % 2 == 0, 0, [], TimeSpan.FromSeconds(i)), out _));
        }

        owner.MaxVersion = (ulong)keys;
        TimeSpan now = TimeSpan.FromSeconds(keys + 5);
        int[] collected = [.. Enumerable.Range(0, keys).Where(i => i % 2 == 0 && i <= keys - 5)];
        Assert.Equal(collected.Length, owner.CollectTombstones(now, TimeSpan.FromSeconds(10), out ulong highest));
        Assert.Equal(collected.Length == 0 ? 0UL : (ulong)collected.Max() + 1, highest);
        Assert.Equal(Enumerable.Range(0, keys).Except(collected).Select(i => (ulong)i + 1), owner.Entries.Select(e => e.Version));
        Assert.Equal(0, owner.CollectTombstones(now, TimeSpan.FromSeconds(10), out highest));
        Assert.Equal(0UL, highest);
        Assert.Equal(Enumerable.Range(0, keys).Count(i => i % 2 == 0) - collected.Length, owner.CollectTombstones(TimeSpan.FromHours(1), TimeSpan.FromSeconds(10), out _));
        Assert.All(owner.Entries, e => Assert.False(e.IsTombstone));
        Assert.Equal(keys / 2, owner.Count);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 3)]
    [InlineData(3, 9)]
    [InlineData(4, 14)]
    public void MaxVersion_reads_back_what_was_last_set_whatever_the_entries_did_since(int seed, int keyCount)
    {
        // MaxVersion is no field: it is read from the entries and held apart only where it differs
        // from their highest version. Model: the value last set (by the setter or by a put that
        // stores with maxVersionAfter) must read back after every put, removal, collection and form
        // switch, above, at or below the entries' highest version.
        Random random = new(seed);
        OwnerState owner = new("a", 1);
        Dictionary<string, (ulong Version, bool Tombstone)> model = [];
        ulong maxModel = 0;
        ulong next = 0;
        for (int step = 0; step < 4000; step++)
        {
            string key = $"k{random.Next(keyCount)}";
            ulong highest = model.Count == 0 ? 0 : model.Values.Max(e => e.Version);
            switch (random.Next(8))
            {
                case 0 or 1 or 2:
                    next += (ulong)random.Next(1, 3);
                    bool tombstone = random.Next(4) == 0;
                    StoredEntry entry = new(key, next, tombstone, 0, [], TimeSpan.FromSeconds(step));
                    bool stored;
                    if (random.Next(2) == 0)
                    {
                        ulong after = random.Next(3) switch { 0 => next, 1 => next + (ulong)random.Next(1, 5), _ => maxModel };
                        stored = owner.TryPut(entry, out _, null, after);
                        maxModel = stored ? after : maxModel;
                    }
                    else
                    {
                        stored = owner.TryPut(entry, out _);
                    }

                    Assert.True(stored); // versions only rise here
                    model[key] = (next, tombstone);
                    break;
                case 3:
                    maxModel = random.Next(3) switch { 0 => highest, 1 => highest + (ulong)random.Next(1, 5), _ => (ulong)random.Next(0, (int)highest + 1) };
                    owner.MaxVersion = maxModel;
                    break;
                case 4 or 5:
                    if (model.TryGetValue(key, out (ulong Version, bool Tombstone) held))
                    {
                        owner.Remove(new StoredEntry(key, held.Version, held.Tombstone, 0, [], TimeSpan.Zero));
                        model.Remove(key);
                    }

                    break;
                case 6:
                    TimeSpan now = TimeSpan.FromSeconds(step);
                    int dead = model.Count(e => e.Value.Tombstone && e.Value.Version + 50 <= next);
                    int collected = owner.CollectTombstones(now, TimeSpan.Zero, out _);
                    Assert.Equal(model.Count(e => e.Value.Tombstone), collected);
                    foreach (string gone in model.Where(e => e.Value.Tombstone).Select(e => e.Key).ToList())
                    {
                        model.Remove(gone);
                    }

                    Assert.True(dead <= collected);
                    break;
                default:
                    if (random.Next(30) == 0)
                    {
                        owner.Clear(1);
                        model.Clear();
                        maxModel = 0;
                    }

                    break;
            }

            Assert.Equal(maxModel, owner.MaxVersion);
            Assert.Equal(model.Count, owner.Count);
            Assert.Equal(model.Values.Select(e => e.Version).Order(), owner.Entries.Select(e => e.Version));
            Assert.Equal(model.Values.Count(e => e.Version > maxModel / 2 && maxModel / 2 < maxModel), owner.CountAbove(maxModel / 2));
            Assert.Empty(owner.Above(maxModel).ToArray());

            OwnerState copy = owner; // a copy is a snapshot of MaxVersion, whatever the table does next
            owner.MaxVersion = maxModel + 7;
            Assert.Equal(maxModel, copy.MaxVersion);
            owner.MaxVersion = maxModel;
        }
    }

    [Fact]
    public void A_row_is_16_bytes()
    {
        // Every node of a simulated cluster holds one row per owner (N² of them): a field added
        // here costs N² × its size, so the layout is pinned (docs/BENCHMARKS.md, issue 17).
        Assert.Equal(16, System.Runtime.CompilerServices.Unsafe.SizeOf<OwnerState>());
        Assert.Equal(40, System.Runtime.CompilerServices.Unsafe.SizeOf<StoredEntry>());
    }

    [Fact]
    public void Rows_holding_the_same_write_through_a_shared_table_share_its_body_and_keep_their_own_times_where_needed()
    {
        NameTable names = new(internStateEntries: true);
        byte[] value = "v"u8.ToArray();
        const int Rows = 1000;
        OwnerState[] rows = new OwnerState[Rows];
        for (int i = 0; i < Rows; i++)
        {
            rows[i] = new OwnerState("a", 1);
        }

        // Warm up: the first put makes the body and the table's entry. Each put raises MaxVersion
        // to the write's version in the same step, as a delta's apply does (MaxVersion is then read
        // from the entry: nothing held beside it).
        Assert.True(rows[0].TryPut(Write(TimeSpan.Zero), out _, names, 7));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 1; i < Rows; i++)
        {
            Assert.True(rows[i].TryPut(Write(TimeSpan.FromSeconds(i)), out _, names, 7));
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < Rows * 8, $"{allocated} bytes allocated for {Rows - 1} rows holding one shared write: a body per row?");
        Assert.Equal(1, names.EntryCount);
        for (int i = 0; i < Rows; i++)
        {
            Assert.True(rows[i].TryFind("k", out StoredEntry held));
            Assert.Equal(TimeSpan.Zero, held.UpdatedAt); // no tombstone, no time to live: the time is never read
            Assert.Equal(7UL, held.Version);
            Assert.Equal("v"u8.ToArray(), held.Value);
        }

        // A row's tombstone is collected by its own time, not the first holder's.
        Assert.True(rows[0].TryPut(new StoredEntry("k", 8, true, 0, [], TimeSpan.FromSeconds(100)), out _, names));
        Assert.True(rows[1].TryPut(new StoredEntry("k", 8, true, 0, [], TimeSpan.FromSeconds(200)), out _, names));
        Assert.Equal(1, rows[0].CollectTombstones(TimeSpan.FromSeconds(150), TimeSpan.FromSeconds(50), out ulong highest));
        Assert.Equal(8UL, highest);
        Assert.Equal(0, rows[1].CollectTombstones(TimeSpan.FromSeconds(150), TimeSpan.FromSeconds(50), out _));
        Assert.Equal(1, rows[1].Count);
        Assert.True(rows[1].TryFind("k", out StoredEntry tombstone));
        Assert.Equal(TimeSpan.FromSeconds(200), tombstone.UpdatedAt);
        Assert.Equal(2, names.EntryCount);

        // One value array, as the simulation's table gives every decoder (the test below shows a copy of the bytes is the same write).
        StoredEntry Write(TimeSpan at) => new("k", 7, false, 0, value, at);
    }

    [Fact]
    public void The_shared_table_tells_writes_apart_by_every_part_and_a_node_table_shares_nothing()
    {
        NameTable shared = new(internStateEntries: true);
        StoredEntry write = new("k", 7, false, 1000, [1, 2, 3], TimeSpan.Zero);
        EntryBody body = shared.InternEntry(write);
        Assert.Same(body, shared.InternEntry(new StoredEntry("k", 7, false, 1000, [1, 2, 3], TimeSpan.FromHours(1))));
        Assert.NotSame(body, shared.InternEntry(new StoredEntry("k", 8, false, 1000, [1, 2, 3], TimeSpan.Zero)));
        Assert.NotSame(body, shared.InternEntry(new StoredEntry("j", 7, false, 1000, [1, 2, 3], TimeSpan.Zero)));
        Assert.NotSame(body, shared.InternEntry(new StoredEntry("k", 7, true, 1000, [1, 2, 3], TimeSpan.Zero)));
        Assert.NotSame(body, shared.InternEntry(new StoredEntry("k", 7, false, 999, [1, 2, 3], TimeSpan.Zero)));
        Assert.NotSame(body, shared.InternEntry(new StoredEntry("k", 7, false, 1000, [1, 2, 4], TimeSpan.Zero)));
        Assert.Equal(6, shared.EntryCount);

        NameTable node = new();
        Assert.NotSame(node.InternEntry(write), node.InternEntry(write));
        Assert.Equal(0, node.EntryCount);
    }
}
