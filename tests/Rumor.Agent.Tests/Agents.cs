using System.Net.Http.Json;
using System.Text.Json;
using Rumor.Core;
using Rumor.Hosting;

namespace Rumor.Agent.Tests;

/// <summary>In-process agents on loopback (ports 0, the local preset) and bounded polling helpers.</summary>
internal static class Agents
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public static async Task<RumorAgent> StartAsync(string name, RumorAgent? seed = null, bool leaveOnStop = true, Dictionary<string, string>? tags = null, TimeProvider? time = null, ApiSettings? api = null, bool? networkCoordinates = null)
    {
        RumorOptions options = new()
        {
            Name = name,
            Bind = "127.0.0.1:0",
            Preset = "local",
            Seeds = seed is null ? [] : [seed.Node.Address.ToString()],
            SampleInterval = TimeSpan.FromMilliseconds(200),
            LeaveTimeout = TimeSpan.FromSeconds(2),
            LeaveOnStop = leaveOnStop,
            JoinRequired = seed is not null,
            Tags = tags ?? new Dictionary<string, string>(StringComparer.Ordinal),
            NetworkCoordinates = networkCoordinates,
        };
        RumorAgent agent = await RumorAgent.StartAsync(new AgentSettings(options, NodeAddress.Parse("127.0.0.1:0")) { Api = api ?? new ApiSettings() }, timeProvider: time);
        if (seed is not null)
        {
            Rumor.Transport.JoinResult joined = await agent.Node.FirstJoin.WaitAsync(Bound);
            Assert.True(joined.Joined, $"{name} could not join through {seed.Node.Address}: {string.Join("; ", joined.Failed.Select(f => f.Seed + " " + f.Reason))}");
        }

        return agent;
    }

    public static HttpClient Client(RumorAgent agent) => new() { BaseAddress = agent.Url, Timeout = Bound };

    /// <summary>Polls <paramref name="probe"/> until it returns non-null, at most <paramref name="bound"/>; fails with <paramref name="what"/>.</summary>
    public static async Task<T> EventuallyAsync<T>(string what, Func<Task<T?>> probe, TimeSpan? bound = null)
        where T : class
    {
        DateTime deadline = DateTime.UtcNow + (bound ?? Bound);
        while (true)
        {
            T? result = await probe();
            if (result is not null)
            {
                return result;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {(bound ?? Bound).TotalSeconds} s waiting for {what}.");
            }

            await Task.Delay(100);
        }
    }

    public static async Task<JsonElement> GetJsonAsync(HttpClient client, string path)
    {
        using HttpResponseMessage response = await client.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static async Task WaitForAliveAsync(HttpClient client, int count) =>
        await EventuallyAsync($"{count} alive members", async () =>
        {
            JsonElement members = await GetJsonAsync(client, "/v1/members?state=alive");
            return members.GetArrayLength() == count ? "ok" : null;
        });
}
