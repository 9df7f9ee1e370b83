using Rumor.Core.AntiEntropy;

namespace Rumor.Core.Tests.AntiEntropy;

/// <summary>The compact owner map behaves the same in its single-entry and array forms and past the switch to the indexed form.</summary>
public sealed class OwnerStateTests
{
    private static StoredEntry Entry(string key, ulong version) => new(key, version, false, 0, [1, 2], TimeSpan.Zero);

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
                Assert.True(owner.TryPut(Entry(key, version), out StoredEntry? replaced));
                Assert.Equal(round == 1, replaced is not null);
                expected[key] = version;
                owner.MaxVersion = version;
            }
        }

        Assert.False(owner.TryPut(Entry("k0", 1), out _)); // older than what is held
        Assert.Equal(keys, owner.Count);
        Assert.Equal(expected.Values.Order(), owner.Entries.Select(e => e.Version));
        foreach ((string key, ulong v) in expected)
        {
            Assert.Equal(v, owner.Find(key)!.Version);
        }

        ulong middle = expected.Values.Order().ElementAt(keys / 2);
        Assert.Equal(expected.Values.Count(v => v > middle), owner.CountAbove(middle));
        Assert.Equal(expected.Values.Where(v => v > middle).Order(), owner.Above(middle).Select(e => e.Version));

        StoredEntry first = owner.Entries.First();
        owner.Remove(Entry(first.Key, first.Version)); // another instance: not removed
        Assert.Equal(keys, owner.Count);
        owner.Remove(first);
        Assert.Equal(keys - 1, owner.Count);
        Assert.Null(owner.Find(first.Key));

        owner.Clear(2);
        Assert.Equal(0, owner.Count);
        Assert.Empty(owner.Entries);
        Assert.Equal(0, owner.Bytes);
    }
}
