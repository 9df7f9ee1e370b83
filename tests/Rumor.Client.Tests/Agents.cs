using Rumor.Agent;
using Rumor.Core;
using Rumor.Hosting;

namespace Rumor.Client.Tests;

/// <summary>In-process agents on loopback (ports 0, the local preset), as Rumor.Agent.Tests starts them.</summary>
internal static class Agents
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public static async Task<RumorAgent> StartAsync(string name, RumorAgent? seed = null, Dictionary<string, string>? tags = null)
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
            Tags = tags ?? new Dictionary<string, string>(StringComparer.Ordinal),
        };
        RumorAgent agent = await RumorAgent.StartAsync(new AgentSettings(options, NodeAddress.Parse("127.0.0.1:0")));
        if (seed is not null)
        {
            Rumor.Transport.JoinResult joined = await agent.Node.FirstJoin.WaitAsync(Bound);
            Assert.True(joined.Joined, $"{name} could not join through {seed.Node.Address}");
        }

        return agent;
    }

    public static RumorClient Client(RumorAgent agent) => new(agent.Url, Bound);

    /// <summary>Polls <paramref name="probe"/> until it returns non-null, at most <see cref="Bound"/>.</summary>
    public static async Task<T> EventuallyAsync<T>(string what, Func<Task<T?>> probe)
        where T : class
    {
        DateTime deadline = DateTime.UtcNow + Bound;
        while (true)
        {
            T? result = await probe();
            if (result is not null)
            {
                return result;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {Bound.TotalSeconds} s waiting for {what}.");
            }

            await Task.Delay(100);
        }
    }

    public static Task WaitForAliveAsync(RumorClient client, int count) =>
        EventuallyAsync($"{count} alive members", async () => (await client.GetMembersAsync(MemberState.Alive)).Count == count ? "ok" : null);

    /// <summary>The next item of a stream, within <see cref="Bound"/>.</summary>
    public static async Task<T> NextAsync<T>(IAsyncEnumerator<T> items, Func<T, bool>? wanted = null)
    {
        using CancellationTokenSource timeout = new(Bound);
        while (await items.MoveNextAsync().AsTask().WaitAsync(timeout.Token))
        {
            if (wanted is null || wanted(items.Current))
            {
                return items.Current;
            }
        }

        Assert.Fail("The stream ended.");
        return default!;
    }
}
