using Rumor.Agent;

namespace Rumor.Client.Tests;

/// <summary>Key-value get, set, delete, list and watch through <see cref="RumorClient"/>.</summary>
public sealed class KeyValueClientTests
{
    [Fact]
    public async Task Set_get_list_and_delete_text_and_binary_values()
    {
        await using RumorAgent a = await Agents.StartAsync("kv-a");
        using RumorClient client = Agents.Client(a);

        KvWriteResponse written = await client.SetKeyAsync("config/db", "postgres://x", TimeSpan.FromMinutes(5));
        KvWriteResponse binary = await client.SetKeyAsync("blob", new byte[] { 0xff, 0x00, 0xfe });
        IReadOnlyList<KvEntryDto> got = await client.GetKeyAsync("config/db");
        IReadOnlyList<KvEntryDto> blob = await client.GetKeyAsync("blob", owner: "kv-a");
        IReadOnlyList<KvEntryDto> listed = await client.ListKeysAsync(prefix: "config/");

        Assert.Equal(("kv-a", "config/db"), (written.Owner, written.Key));
        KvEntryDto entry = Assert.Single(got);
        Assert.Equal("postgres://x", entry.Value);
        Assert.Null(entry.ValueBase64);
        Assert.Equal(written.Version, entry.Version);
        Assert.Equal(300_000, entry.TtlMs);
        Assert.Equal("/wD+", Assert.Single(blob).ValueBase64);
        Assert.Null(blob[0].Value);
        Assert.True(binary.Version > 0);
        Assert.Equal("config/db", Assert.Single(listed).Key);

        KvWriteResponse deleted = await client.DeleteKeyAsync("config/db");
        Assert.True(deleted.Version > written.Version);
        RumorApiException gone = await Assert.ThrowsAsync<RumorApiException>(() => client.GetKeyAsync("config/db"));
        Assert.Equal(404, gone.Status);
        Assert.Equal("No member has a key 'config/db'.", gone.Detail);
        RumorApiException notOwned = await Assert.ThrowsAsync<RumorApiException>(() => client.DeleteKeyAsync("config/db"));
        Assert.Equal(404, notOwned.Status);
    }

    [Fact]
    public async Task A_put_with_both_value_forms_is_a_400_problem()
    {
        await using RumorAgent a = await Agents.StartAsync("kv-bad");
        using RumorClient client = Agents.Client(a);

        RumorApiException e = await Assert.ThrowsAsync<RumorApiException>(() => client.SetKeyAsync("k", new KvPutRequest("x", "eA==", null)));

        Assert.Equal(400, e.Status);
        Assert.Equal("Give exactly one of value (UTF-8 text) and valueBase64 (binary).", e.Detail);
        Assert.Equal("https://rumor.dev/problems/bad-request", e.Problem!.Type);
    }

    [Fact]
    public async Task A_watch_returns_once_subscribed_and_reads_typed_changes()
    {
        await using RumorAgent a = await Agents.StartAsync("kv-watch");
        using RumorClient client = Agents.Client(a);

        await using RumorEventStream<KvChangeDto> watch = await client.WatchKeysAsync("app/");
        await using IAsyncEnumerator<KvChangeDto> changes = watch.GetAsyncEnumerator();
        await client.SetKeyAsync("other", "ignored");
        await client.SetKeyAsync("app/color", "blue");
        await client.SetKeyAsync("app/color", "green");
        await client.DeleteKeyAsync("app/color");

        KvChangeDto created = await Agents.NextAsync(changes);
        KvChangeDto updated = await Agents.NextAsync(changes);
        KvChangeDto deleted = await Agents.NextAsync(changes);

        Assert.Equal(("kv-watch", "app/color", null, "blue", false), (created.Owner, created.Key, created.OldValue, created.NewValue, created.Deleted));
        Assert.Equal(("blue", "green"), (updated.OldValue, updated.NewValue));
        Assert.True(deleted.Deleted);
        Assert.Null(deleted.NewValue);
        Assert.True(deleted.Version > updated.Version);
    }

    [Fact]
    public async Task A_watch_ends_quietly_when_the_agent_stops()
    {
        RumorAgent a = await Agents.StartAsync("kv-watch-stop");
        using RumorClient client = Agents.Client(a);
        await using RumorEventStream<KvChangeDto> watch = await client.WatchKeysAsync();
        await using IAsyncEnumerator<KvChangeDto> changes = watch.GetAsyncEnumerator();

        await a.DisposeAsync();

        using CancellationTokenSource timeout = new(Agents.Bound);
        Assert.False(await changes.MoveNextAsync().AsTask().WaitAsync(timeout.Token));
    }
}
