using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Rumor.Core;
using Rumor.Core.Security;
using Rumor.Hosting;
using Rumor.Transport;

namespace Rumor.Agent.Tests;

/// <summary>
/// Live key rotation through <c>/v1/keys</c> on in-process encrypted agents (127.0.0.1): each
/// operation reports every member's answer, names a member that did not answer and one that
/// refused, refuses removing the primary key, and the ring lands in keyring.json.
/// </summary>
public sealed class KeyApiTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rumor-keyapi-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_rotation_through_the_api_reports_every_member_and_persists_the_ring()
    {
        string oldKey = GossipKeyring.GenerateKey();
        string newKey = GossipKeyring.GenerateKey();
        await using RumorAgent a = await StartAsync("key-a", oldKey, null, Path.Combine(_directory, "a"));
        await using RumorAgent b = await StartAsync("key-b", oldKey, a);
        await using RumorAgent c = await StartAsync("key-c", oldKey, a);
        using HttpClient client = Agents.Client(a);
        await Agents.WaitForAliveAsync(client, 3);

        JsonElement listed = await Agents.GetJsonAsync(client, "/v1/keys?timeoutMs=20000");
        Assert.True(listed.GetProperty("succeeded").GetBoolean(), listed.ToString());
        JsonElement only = Assert.Single(listed.GetProperty("keys").EnumerateArray());
        Assert.Equal((oldKey, 3, 3), (only.GetProperty("key").GetString()!, only.GetProperty("members").GetInt32(), only.GetProperty("primaryOn").GetInt32()));
        Assert.Equal(3, listed.GetProperty("answers").GetArrayLength());

        JsonElement installed = await PostAsync(client, "install", newKey, HttpStatusCode.OK);
        Assert.True(installed.GetProperty("succeeded").GetBoolean(), installed.ToString());
        Assert.Equal(new[] { "key-a", "key-b", "key-c" }, installed.GetProperty("answers").EnumerateArray().Select(x => x.GetProperty("member").GetString()!).ToArray());

        JsonElement removePrimary = await PostAsync(client, "remove", oldKey, HttpStatusCode.Conflict);
        Assert.Contains("primary", removePrimary.GetProperty("detail").GetString(), StringComparison.Ordinal);

        Assert.True((await PostAsync(client, "use", newKey, HttpStatusCode.OK)).GetProperty("succeeded").GetBoolean());
        listed = await ListFromEveryMemberAsync(client, 3);
        Assert.Equal(new[] { (newKey, 3, 3), (oldKey, 3, 0) }, listed.GetProperty("keys").EnumerateArray().Select(k => (k.GetProperty("key").GetString()!, k.GetProperty("members").GetInt32(), k.GetProperty("primaryOn").GetInt32())).ToArray());

        Assert.True((await PostAsync(client, "remove", oldKey, HttpStatusCode.OK)).GetProperty("succeeded").GetBoolean());
        listed = await Agents.GetJsonAsync(client, "/v1/keys?timeoutMs=20000");
        Assert.Equal(newKey, Assert.Single(listed.GetProperty("keys").EnumerateArray()).GetProperty("key").GetString());
        using (GossipKeyring persisted = KeyringFile.Load(Path.Combine(_directory, "a", KeyringFile.FileName))!)
        {
            Assert.Equal([Convert.FromBase64String(newKey)], persisted.Keys);
            Assert.Equal(3ul, persisted.Version);
        }

        // A member that never answers (a bare transport without the key responder) is named as
        // missing; a member still migrating refuses, and says why.
        using GossipKeyring ring = new([Convert.FromBase64String(newKey)], "key-tests");
        await using GossipTransport silent = await GossipTransport.StartAsync(GossipOptions.Local with { Name = "key-silent", AdvertiseAddress = NodeAddress.Parse("127.0.0.1:0"), Keyring = ring });
        Assert.True((await silent.JoinAsync([a.Node.Address])).Joined);
        await Agents.WaitForAliveAsync(client, 4);
        await c.Node.SetGossipEncryptionModeAsync(encryptOutgoing: true, verifyIncoming: false);
        JsonElement partial = await InstallUntilOnlySilentIsMissingAsync(client);
        Assert.False(partial.GetProperty("succeeded").GetBoolean());
        Assert.Equal(new[] { "key-silent" }, partial.GetProperty("missing").EnumerateArray().Select(x => x.GetString()!).ToArray());
        JsonElement refused = partial.GetProperty("answers").EnumerateArray().Single(x => x.GetProperty("member").GetString() == "key-c");
        Assert.False(refused.GetProperty("ok").GetBoolean());
        Assert.Contains("migration", refused.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(4, partial.GetProperty("expected").GetArrayLength());
    }

    [Fact]
    public async Task Bad_key_requests_get_a_clear_problem()
    {
        await using RumorAgent keyed = await StartAsync("key-bad", GossipKeyring.GenerateKey(), null);
        using HttpClient client = Agents.Client(keyed);
        Assert.Contains("not base64", (await PostAsync(client, "install", "not base64!", HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("16, 24 or 32", (await PostAsync(client, "install", Convert.ToBase64String([1, 2, 3, 4, 5]), HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("install", (await PostAsync(client, "use", GossipKeyring.GenerateKey(), HttpStatusCode.Conflict)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("install, use or remove", (await PostAsync(client, "rotate", GossipKeyring.GenerateKey(), HttpStatusCode.NotFound)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("timeoutMs", (await PostAsync(client, "install", GossipKeyring.GenerateKey(), HttpStatusCode.BadRequest, timeoutMs: 0)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        using (HttpResponseMessage noKey = await client.PostAsJsonAsync("/v1/keys/install", new { }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, noKey.StatusCode);
        }

        await using RumorAgent plain = await Agents.StartAsync("key-plain");
        using HttpClient plainClient = Agents.Client(plain);
        using HttpResponseMessage off = await plainClient.GetAsync("/v1/keys");
        Assert.Equal(HttpStatusCode.Conflict, off.StatusCode);
        Assert.Contains("encryption is off", await off.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Lists the keys until every one of <paramref name="members"/> answered (at most 3 tries, each
    /// after waiting for them all alive). A fresh-clone CI run once got a list answered by 2 of 3
    /// members right after <c>use</c> (a member not counted as expected at that moment); the cause is
    /// not found and is in the issue 12 note. The last try is returned whatever it holds, so the
    /// assertions after it still fail if a member never answers.
    /// </summary>
    private static Task<JsonElement> ListFromEveryMemberAsync(HttpClient client, int members) =>
        TryUntilAsync(
            async () =>
            {
                await Agents.WaitForAliveAsync(client, members);
                return await Agents.GetJsonAsync(client, "/v1/keys?timeoutMs=20000");
            },
            listed => listed.GetProperty("answers").GetArrayLength() == members);

    /// <summary>
    /// Installs a fresh key while key-silent never answers, at most 3 times, until key-silent is the
    /// only member missing. A query spreads by gossip: with the local preset at 4 members each
    /// member passes it on in 2 packets (RetransmitMultiplier 2 × ceil(log10 5)) to random peers,
    /// so now and then one member hears none of them within the timeout and is, truthfully, reported
    /// missing too (a fresh-clone CI run at 3de2f08 got missing = [key-c, key-silent]). That is not
    /// what this part checks; the last try is returned whatever it holds, so the assertions after
    /// it still fail if key-c never answers or key-silent is never named.
    /// </summary>
    private static Task<JsonElement> InstallUntilOnlySilentIsMissingAsync(HttpClient client) =>
        TryUntilAsync(
            () => PostAsync(client, "install", GossipKeyring.GenerateKey(), HttpStatusCode.OK, timeoutMs: 15000),
            partial => partial.GetProperty("missing").EnumerateArray().Select(x => x.GetString()).SequenceEqual(["key-silent"]));

    /// <summary>
    /// Runs <paramref name="attempt"/> at most <paramref name="tries"/> times, stopping at the first
    /// result that satisfies <paramref name="done"/>. The last try's result is returned whether or
    /// not it does, so the caller's assertions decide: a condition that never holds still fails.
    /// </summary>
    private static async Task<T> TryUntilAsync<T>(Func<Task<T>> attempt, Func<T, bool> done, int tries = 3)
    {
        T result = default!;
        for (int tried = 0; tried < tries; tried++)
        {
            result = await attempt();
            if (done(result))
            {
                break;
            }
        }

        return result;
    }

    private static async Task<JsonElement> PostAsync(HttpClient client, string operation, string key, HttpStatusCode expected, long? timeoutMs = 20_000)
    {
        using HttpResponseMessage response = await client.PostAsJsonAsync("/v1/keys/" + operation, new { key, timeoutMs });
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"POST /v1/keys/{operation}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<RumorAgent> StartAsync(string name, string key, RumorAgent? seed, string? dataDirectory = null)
    {
        RumorOptions options = new()
        {
            Name = name,
            Bind = "127.0.0.1:0",
            Preset = "local",
            Seeds = seed is null ? [] : [seed.Node.Address.ToString()],
            SampleInterval = TimeSpan.FromMilliseconds(200),
            LeaveTimeout = TimeSpan.FromSeconds(2),
            JoinRequired = seed is not null,
            EncryptKey = key,
            ClusterLabel = "key-tests",
            DataDirectory = dataDirectory,
        };
        RumorAgent agent = await RumorAgent.StartAsync(new AgentSettings(options, NodeAddress.Parse("127.0.0.1:0")));
        if (seed is not null)
        {
            JoinResult joined = await agent.Node.FirstJoin.WaitAsync(Agents.Bound);
            Assert.True(joined.Joined, $"{name} could not join through {seed.Node.Address}: {string.Join("; ", joined.Failed.Select(f => f.Seed + " " + f.Reason))}");
        }

        return agent;
    }
}
